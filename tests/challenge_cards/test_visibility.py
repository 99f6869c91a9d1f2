"""Who sees what: visible_to(user) on every model, and read-only roles refused every write."""

import datetime

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied

from agencies.models import Agency, Membership
from challenge_cards import permissions, services
from challenge_cards.models import CardStatus, CardUpdate, ChallengeCard, FollowUpAction, Meeting
from tests import factories

MODELS = [ChallengeCard, FollowUpAction, CardUpdate]


@pytest.fixture
def world(agency, other_agency, meeting, priority):
    """Treasury with the IRS under it, and Labor, each with a card, an action and a history row."""
    irs = factories.AgencyFactory(name="Internal Revenue Service", abbreviation="IRS", parent=agency)
    rows = {}
    for key, owner in (("treas", agency), ("irs", irs), ("dol", other_agency)):
        card = factories.ChallengeCardFactory(agency=owner, meeting=meeting, priority=priority)
        rows[key] = {
            ChallengeCard: card,
            FollowUpAction: factories.FollowUpActionFactory(card=card),
            CardUpdate: factories.CardUpdateFactory(card=card),
        }
    rows["irs_agency"] = irs
    return rows


def _visible(model, user):
    return set(model.objects.visible_to(user).values_list("pk", flat=True))


def _rows(world, *keys, model):
    return {world[key][model].pk for key in keys}


@pytest.mark.parametrize("make", [factories.deputy_of, factories.delegate_of, factories.viewer_of])
@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_treasury_members_see_treasury_and_irs_never_labor(world, agency, make, model):
    user = make(agency)
    assert _visible(model, user) == _rows(world, "treas", "irs", model=model)


@pytest.mark.parametrize("make", [factories.deputy_of, factories.delegate_of, factories.viewer_of])
@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_irs_members_do_not_see_the_parent_agency(world, make, model):
    user = make(world["irs_agency"])
    assert _visible(model, user) == _rows(world, "irs", model=model)


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_labor_deputy_sees_only_labor(world, other_deputy, model):
    assert _visible(model, other_deputy) == _rows(world, "dol", model=model)


@pytest.mark.parametrize("who", ["admin_user", "omb_viewer_user"])
@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_omb_sees_everything(world, request, who, model):
    assert _visible(model, request.getfixturevalue(who)) == _rows(world, "treas", "irs", "dol", model=model)


@pytest.mark.parametrize("model", [*MODELS, Meeting, Membership], ids=lambda m: m.__name__)
def test_ended_membership_gives_nothing(world, agency, model):
    former = factories.deputy_of(agency, started_on=datetime.date(2021, 3, 1), ended_on=datetime.date(2025, 1, 20))
    assert model.objects.exists()
    assert _visible(model, former) == set()


@pytest.mark.parametrize("model", [*MODELS, Meeting, Membership, Agency], ids=lambda m: m.__name__)
def test_anonymous_gets_nothing(world, deputy, model):
    assert model.objects.exists()
    assert _visible(model, AnonymousUser()) == set()


@pytest.mark.parametrize("model", [*MODELS, Meeting], ids=lambda m: m.__name__)
def test_signed_in_user_without_a_role_gets_nothing(world, model):
    assert _visible(model, factories.UserFactory()) == set()


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_deactivated_account_gets_nothing(world, deputy, model):
    deputy.is_active = False
    deputy.save()
    assert _visible(model, deputy) == set()


def test_meetings_are_visible_to_every_member(world, deputy, meeting):
    assert _visible(Meeting, deputy) == {meeting.pk}
    assert _visible(Meeting, factories.viewer_of(world["irs_agency"])) == {meeting.pk}


def test_memberships_are_scoped_to_the_user_agencies(world, agency, other_agency, deputy, other_deputy, admin_user):
    treasury_viewer = factories.viewer_of(agency)
    treasury_rows = set(Membership.objects.filter(agency=agency).values_list("pk", flat=True))
    assert _visible(Membership, treasury_viewer) == treasury_rows
    assert other_deputy.memberships.get().pk not in _visible(Membership, deputy)
    assert _visible(Membership, admin_user) == set(Membership.objects.values_list("pk", flat=True))


def test_parent_agency_editors_may_edit_sub_agency_cards_viewers_may_not(world, agency, deputy, delegate):
    irs_card = world["irs"][ChallengeCard]
    viewer = factories.viewer_of(agency)
    assert permissions.can_view_card(viewer, irs_card)
    assert not permissions.can_update_card(viewer, irs_card)
    with pytest.raises(PermissionDenied):
        services.card_update(actor=viewer, card=irs_card, expected_version=1, status=CardStatus.IN_PROGRESS)
    services.card_update(actor=delegate, card=irs_card, expected_version=1, status=CardStatus.IN_PROGRESS)
    irs_card.refresh_from_db()
    assert irs_card.status == CardStatus.IN_PROGRESS


def test_other_agency_deputy_cannot_update_or_see(world, other_deputy):
    card = world["treas"][ChallengeCard]
    assert not permissions.can_view_card(other_deputy, card)
    with pytest.raises(PermissionDenied):
        services.card_update(actor=other_deputy, card=card, expected_version=1, status=CardStatus.IN_PROGRESS)


def test_a_new_membership_is_seen_after_forget_roles(world, agency):
    """roles_of caches on the user; forget_roles makes a membership change take effect."""
    from agencies.roles import forget_roles

    user = factories.UserFactory()
    assert _visible(ChallengeCard, user) == set()
    factories.MembershipFactory(user=user, agency=agency, role="viewer")
    assert _visible(ChallengeCard, user) == set()  # cached for this request
    forget_roles(user)
    assert _visible(ChallengeCard, user) == _rows(world, "treas", "irs", model=ChallengeCard)


@pytest.fixture
def agency_viewer(agency):
    return factories.viewer_of(agency)


def _every_write(actor, card, action, update, meeting, agency, priority):
    return {
        "meeting_schedule": lambda: services.meeting_schedule(
            actor=actor, starts_at=meeting.starts_at + datetime.timedelta(days=1)
        ),
        "meeting_schedule_next": lambda: services.meeting_schedule_next(actor=actor, after=meeting),
        "meeting_update": lambda: services.meeting_update(actor=actor, meeting=meeting, location="Elsewhere"),
        "meeting_cancel": lambda: services.meeting_cancel(actor=actor, meeting=meeting),
        "meeting_mark_held": lambda: services.meeting_mark_held(actor=actor, meeting=meeting),
        "card_issue": lambda: services.card_issue(
            actor=actor, meeting=meeting, agencies=[agency], priority=priority, title="New", ask="Do it."
        ),
        "card_update": lambda: services.card_update(
            actor=actor, card=card, expected_version=1, status=CardStatus.IN_PROGRESS
        ),
        "card_update_certify": lambda: services.card_update_certify(actor=actor, update=update),
        "card_review": lambda: services.card_review(actor=actor, card=card, expected_version=1, omb_rating="green"),
        "card_return": lambda: services.card_return(actor=actor, card=card, expected_version=1, reason="Why."),
        "card_carry_over": lambda: services.card_carry_over(actor=actor, card=card, expected_version=1, reason="x"),
        "action_add": lambda: services.action_add(actor=actor, card=card, description="Sneaky"),
        "action_complete": lambda: services.action_complete(actor=actor, action=action, expected_version=1),
        "action_drop": lambda: services.action_drop(actor=actor, action=action, expected_version=1, reason="x"),
        "action_reopen": lambda: services.action_reopen(actor=actor, action=action, expected_version=1),
        "action_reassign": lambda: services.action_reassign(
            actor=actor, action=action, expected_version=1, owner_name="X"
        ),
        "action_change_due_date": lambda: services.action_change_due_date(
            actor=actor, action=action, expected_version=1, due_date=datetime.date(2030, 1, 1)
        ),
    }


WRITES = [
    "meeting_schedule",
    "meeting_schedule_next",
    "meeting_update",
    "meeting_cancel",
    "meeting_mark_held",
    "card_issue",
    "card_update",
    "card_update_certify",
    "card_review",
    "card_return",
    "card_carry_over",
    "action_add",
    "action_complete",
    "action_drop",
    "action_reopen",
    "action_reassign",
    "action_change_due_date",
]


@pytest.mark.parametrize("who", ["agency_viewer", "omb_viewer_user"])
@pytest.mark.parametrize("write", WRITES)
def test_viewers_are_refused_every_write(card, deputy, meeting, agency, priority, request, who, write):
    actor = request.getfixturevalue(who)
    assert permissions.is_read_only(actor)
    action = factories.FollowUpActionFactory(card=card)
    update = factories.CardUpdateFactory(card=card, author=deputy, certification="pending")
    before = (
        list(ChallengeCard.objects.values()),
        list(FollowUpAction.objects.values()),
        list(CardUpdate.objects.values()),
        list(Meeting.objects.values()),
    )
    with pytest.raises(PermissionDenied):
        _every_write(actor, card, action, update, meeting, agency, priority)[write]()
    after = (
        list(ChallengeCard.objects.values()),
        list(FollowUpAction.objects.values()),
        list(CardUpdate.objects.values()),
        list(Meeting.objects.values()),
    )
    assert after == before


def test_deputies_and_admins_are_not_read_only(deputy, delegate, admin_user, agency):
    assert not permissions.is_read_only(deputy)
    assert not permissions.is_read_only(delegate)
    assert not permissions.is_read_only(admin_user)
    assert permissions.is_read_only(factories.viewer_of(agency))
