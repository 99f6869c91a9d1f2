"""Follow-up actions: added, completed, dropped, reopened, reassigned, rescheduled; each leaves history."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from challenge_cards import services
from challenge_cards.models import ActionOwnerSide, ActionStatus, ChallengeCard, FollowUpAction, UpdateKind
from tests import factories


@pytest.fixture
def action(card):
    return factories.FollowUpActionFactory(card=card, due_date=datetime.date(2026, 3, 1))


def _action_history(card):
    return list(card.updates.filter(kind=UpdateKind.ACTION).order_by("id"))


def test_deputy_adds_an_action_owned_by_an_agency_member(card, deputy, delegate):
    action = services.action_add(
        actor=deputy, card=card, description=" Post the job announcement ", owner=delegate, due_date=None
    )
    assert action.description == "Post the job announcement"
    assert action.owner == delegate
    assert action.status == ActionStatus.OPEN
    assert action.created_by == deputy
    [row] = _action_history(card)
    assert row.author == deputy
    assert row.on_behalf_of is None
    assert row.changes == {"action": [None, action.pk], "status": [None, "open"]}


def test_delegate_adds_an_action_on_behalf_of_the_deputy(card, deputy, delegate):
    services.action_add(actor=delegate, card=card, description="Draft the hiring plan", owner_name="CHCO")
    [row] = _action_history(card)
    assert row.author == delegate
    assert row.on_behalf_of == deputy


def test_agency_owned_action_needs_an_owner_from_the_agency(card, deputy, other_deputy):
    with pytest.raises(ValidationError) as error:
        services.action_add(actor=deputy, card=card, description="Share the data", owner=other_deputy)
    assert "owner" in error.value.message_dict
    assert not FollowUpAction.objects.exists()


def test_an_omb_person_cannot_own_an_agency_side_action(card, deputy, admin_user):
    with pytest.raises(ValidationError) as error:
        services.action_add(actor=deputy, card=card, description="Share the data", owner=admin_user)
    assert "owner" in error.value.message_dict
    assert not FollowUpAction.objects.exists()


def test_omb_owned_action_may_be_owned_by_omb(card, deputy, admin_user):
    action = services.action_add(
        actor=deputy, card=card, description="Approve the direct-hire authority", owner=admin_user, owned_by="omb"
    )
    assert action.owned_by == ActionOwnerSide.OMB
    assert action.owner == admin_user


def test_omb_admin_adds_an_action_to_any_card(card, admin_user):
    action = services.action_add(actor=admin_user, card=card, description="Send the OPM guidance", owned_by="omb")
    [row] = _action_history(card)
    assert row.author == admin_user
    assert row.on_behalf_of is None
    assert action.card == card


@pytest.mark.parametrize(
    ("changes", "field"), [({"description": "  "}, "description"), ({"owned_by": "x"}, "owned_by")]
)
def test_bad_action_input_is_refused(card, deputy, changes, field):
    with pytest.raises(ValidationError) as error:
        services.action_add(**{"actor": deputy, "card": card, "description": "Do it", **changes})
    assert field in error.value.message_dict
    assert not FollowUpAction.objects.exists()


def test_no_action_on_a_closed_card(card, deputy):
    ChallengeCard.objects.filter(pk=card.pk).update(disposition="accepted")
    with pytest.raises(PermissionDenied):
        services.action_add(actor=deputy, card=card, description="Late idea")


def test_complete(action, delegate, deputy):
    services.action_complete(actor=delegate, action=action, expected_version=1, note="Announcement posted.")
    action.refresh_from_db()
    assert action.status == ActionStatus.DONE
    assert action.completed_at is not None
    assert action.version == 2
    [row] = _action_history(action.card)
    assert row.changes == {"action": [None, action.pk], "status": ["open", "done"]}
    assert row.note == "Announcement posted."
    assert row.on_behalf_of == deputy


def test_complete_twice_is_refused(action, deputy):
    services.action_complete(actor=deputy, action=action, expected_version=1)
    with pytest.raises(ValidationError):
        services.action_complete(actor=deputy, action=action, expected_version=2)
    assert len(_action_history(action.card)) == 1


def test_drop_needs_a_reason(action, deputy):
    with pytest.raises(ValidationError) as error:
        services.action_drop(actor=deputy, action=action, expected_version=1, reason="  ")
    assert "reason" in error.value.message_dict
    action.refresh_from_db()
    assert action.status == ActionStatus.OPEN
    services.action_drop(actor=deputy, action=action, expected_version=1, reason="OPM ran it instead.")
    action.refresh_from_db()
    assert action.status == ActionStatus.DROPPED
    assert action.dropped_reason == "OPM ran it instead."
    [row] = _action_history(action.card)
    assert row.changes["status"] == ["open", "dropped"]


@pytest.mark.parametrize("close", ["complete", "drop"])
def test_reopen(action, deputy, delegate, close):
    if close == "complete":
        services.action_complete(actor=deputy, action=action, expected_version=1)
    else:
        services.action_drop(actor=deputy, action=action, expected_version=1, reason="Not needed.")
    services.action_reopen(actor=delegate, action=action, expected_version=2, note="Needed after all.")
    action.refresh_from_db()
    assert action.status == ActionStatus.OPEN
    assert action.completed_at is None
    assert action.dropped_reason == ""
    assert action.version == 3
    last = _action_history(action.card)[-1]
    assert last.changes["status"] == ["done" if close == "complete" else "dropped", "open"]
    assert last.on_behalf_of == deputy


def test_reopen_an_open_action_is_refused(action, deputy):
    with pytest.raises(ValidationError):
        services.action_reopen(actor=deputy, action=action, expected_version=1)


def test_reassign(action, deputy, delegate):
    services.action_reassign(actor=delegate, action=action, expected_version=1, owner=deputy)
    action.refresh_from_db()
    assert action.owner == deputy
    assert action.owner_name == ""
    [row] = _action_history(action.card)
    assert row.changes["owner"] == ["Chief Human Capital Officer", deputy.get_full_name()]
    assert row.on_behalf_of == deputy


def test_reassign_to_omb(action, deputy, admin_user):
    services.action_reassign(actor=deputy, action=action, expected_version=1, owner=admin_user, owned_by="omb")
    action.refresh_from_db()
    assert action.owned_by == ActionOwnerSide.OMB
    [row] = _action_history(action.card)
    assert row.changes["owned_by"] == ["agency", "omb"]


def test_reassign_needs_an_owner_from_the_agency(action, deputy, other_deputy):
    with pytest.raises(ValidationError) as error:
        services.action_reassign(actor=deputy, action=action, expected_version=1)
    assert "owner" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        services.action_reassign(actor=deputy, action=action, expected_version=1, owner=other_deputy)
    assert "owner" in error.value.message_dict
    action.refresh_from_db()
    assert action.owner is None
    assert action.version == 1


def test_change_due_date(action, delegate, deputy):
    services.action_change_due_date(
        actor=delegate, action=action, expected_version=1, due_date=datetime.date(2026, 4, 15)
    )
    action.refresh_from_db()
    assert action.due_date == datetime.date(2026, 4, 15)
    [row] = _action_history(action.card)
    assert row.changes["due_date"] == ["2026-03-01", "2026-04-15"]
    assert row.on_behalf_of == deputy


def test_same_due_date_is_refused(action, deputy):
    with pytest.raises(ValidationError) as error:
        services.action_change_due_date(actor=deputy, action=action, expected_version=1, due_date=action.due_date)
    assert "due_date" in error.value.message_dict


def _every_action_write(actor, action, card):
    return {
        "add": lambda: services.action_add(actor=actor, card=card, description="Sneaky"),
        "complete": lambda: services.action_complete(actor=actor, action=action, expected_version=1),
        "drop": lambda: services.action_drop(actor=actor, action=action, expected_version=1, reason="Sneaky"),
        "reassign": lambda: services.action_reassign(actor=actor, action=action, expected_version=1, owner_name="X"),
        "due_date": lambda: services.action_change_due_date(
            actor=actor, action=action, expected_version=1, due_date=datetime.date(2030, 1, 1)
        ),
    }


@pytest.fixture
def agency_viewer(agency):
    return factories.viewer_of(agency)


@pytest.mark.parametrize("who", ["agency_viewer", "omb_viewer_user", "other_deputy"])
@pytest.mark.parametrize("write", ["add", "complete", "drop", "reassign", "due_date"])
def test_viewers_and_other_agencies_cannot_touch_actions(action, card, request, who, write):
    actor = request.getfixturevalue(who)
    with pytest.raises(PermissionDenied):
        _every_action_write(actor, action, card)[write]()
    action.refresh_from_db()
    assert (action.status, action.version, action.owner_name) == ("open", 1, "Chief Human Capital Officer")
    assert FollowUpAction.objects.count() == 1
    assert not card.updates.exists()


def test_viewer_cannot_reopen(action, deputy, agency_viewer):
    services.action_complete(actor=deputy, action=action, expected_version=1)
    with pytest.raises(PermissionDenied):
        services.action_reopen(actor=agency_viewer, action=action, expected_version=2)
    action.refresh_from_db()
    assert action.status == ActionStatus.DONE


def test_an_action_with_no_recorded_creator_can_still_be_worked(card, deputy):
    """Actions loaded without a creator (seed data, the admin) must not be frozen by model validation."""
    action = factories.FollowUpActionFactory(card=card, created_by=None)
    services.action_complete(actor=deputy, action=action, expected_version=1)
    action.refresh_from_db()
    assert action.status == ActionStatus.DONE


@pytest.mark.parametrize("owner", ["other_deputy", "deputy"])
def test_an_omb_owned_action_needs_an_omb_owner(card, delegate, request, owner):
    """Naming another agency's deputy (or anyone outside OMB) on an OMB-side action would tell them about this card."""
    with pytest.raises(ValidationError) as error:
        services.action_add(
            actor=delegate, card=card, description="Secret plan", owner=request.getfixturevalue(owner), owned_by="omb"
        )
    assert "owner" in error.value.message_dict
    assert not FollowUpAction.objects.exists()


def test_reassigning_to_omb_needs_an_omb_owner(action, deputy, other_deputy, omb_viewer_user):
    with pytest.raises(ValidationError) as error:
        services.action_reassign(actor=deputy, action=action, expected_version=1, owner=other_deputy, owned_by="omb")
    assert "owner" in error.value.message_dict
    action.refresh_from_db()
    assert (action.owner, action.owned_by, action.version) == (None, ActionOwnerSide.AGENCY, 1)
    services.action_reassign(actor=deputy, action=action, expected_version=1, owner=omb_viewer_user, owned_by="omb")
    action.refresh_from_db()
    assert (action.owner, action.owned_by) == (omb_viewer_user, ActionOwnerSide.OMB)


def test_a_parent_agency_member_may_own_a_sub_agency_card_action(agency, deputy, delegate, meeting, priority):
    irs = factories.AgencyFactory(name="Internal Revenue Service", abbreviation="IRS", parent=agency)
    irs_card = factories.ChallengeCardFactory(agency=irs, meeting=meeting, priority=priority)
    action = services.action_add(actor=delegate, card=irs_card, description="Staff the phones", owner=deputy)
    assert action.owner == deputy


@pytest.fixture
def omb_action(card, admin_user):
    return factories.FollowUpActionFactory(card=card, owned_by=ActionOwnerSide.OMB, owner=admin_user, owner_name="")


@pytest.mark.parametrize("who", ["deputy", "delegate"])
@pytest.mark.parametrize("write", ["complete", "drop", "reassign", "due_date"])
def test_agency_editors_cannot_change_omb_owned_actions(omb_action, card, request, who, write):
    actor = request.getfixturevalue(who)
    with pytest.raises(PermissionDenied):
        _every_action_write(actor, omb_action, card)[write]()
    omb_action.refresh_from_db()
    assert (omb_action.status, omb_action.version, omb_action.owned_by) == ("open", 1, ActionOwnerSide.OMB)
    assert not card.updates.exists()


def test_agency_editors_cannot_reopen_an_omb_owned_action(omb_action, deputy, admin_user):
    services.action_complete(actor=admin_user, action=omb_action, expected_version=1)
    with pytest.raises(PermissionDenied):
        services.action_reopen(actor=deputy, action=omb_action, expected_version=2)


def test_omb_admins_work_omb_owned_actions(omb_action, admin_user):
    services.action_complete(actor=admin_user, action=omb_action, expected_version=1)
    omb_action.refresh_from_db()
    assert omb_action.status == ActionStatus.DONE


def test_action_change_moves_due_date_and_owner_in_one_call(action, deputy, delegate):
    services.action_change(
        actor=deputy, action=action.pk, expected_version=1, due_date=datetime.date(2026, 4, 1), owner=delegate
    )
    action.refresh_from_db()
    assert (action.due_date, action.owner, action.version) == (datetime.date(2026, 4, 1), delegate, 3)
    rows = _action_history(action.card)
    assert [set(row.changes) - {"action"} for row in rows] == [{"due_date"}, {"owner"}]


def test_action_change_keeps_the_owner_parts_not_given(action, deputy, delegate):
    services.action_reassign(actor=deputy, action=action, expected_version=1, owner=delegate, owner_name="CHCO")
    services.action_change(actor=deputy, action=action, expected_version=2, owned_by=ActionOwnerSide.AGENCY)
    action.refresh_from_db()
    assert (action.owner, action.owner_name, action.owned_by) == (delegate, "CHCO", ActionOwnerSide.AGENCY)


def test_action_change_skips_an_unchanged_due_date_beside_an_owner_change(action, deputy, delegate):
    services.action_change(
        actor=deputy, action=action, expected_version=1, due_date=datetime.date(2026, 3, 1), owner=delegate
    )
    action.refresh_from_db()
    assert (action.owner, action.version) == (delegate, 2)
    [row] = _action_history(action.card)
    assert "due_date" not in row.changes


def test_action_change_refuses_only_the_same_due_date(action, deputy):
    with pytest.raises(ValidationError) as error:
        services.action_change(actor=deputy, action=action, expected_version=1, due_date=datetime.date(2026, 3, 1))
    assert error.value.message_dict == {"due_date": ["That is already the due date."]}


def test_action_change_is_all_or_nothing(action, deputy, other_deputy):
    with pytest.raises(ValidationError):
        services.action_change(
            actor=deputy, action=action, expected_version=1, due_date=datetime.date(2026, 4, 1), owner=other_deputy
        )
    action.refresh_from_db()
    assert (action.due_date, action.version) == (datetime.date(2026, 3, 1), 1)
    assert _action_history(action.card) == []


def test_action_change_refuses_a_stale_version(action, deputy):
    with pytest.raises(services.StaleWrite):
        services.action_change(actor=deputy, action=action, expected_version=7, due_date=datetime.date(2026, 4, 1))
    action.refresh_from_db()
    assert action.due_date == datetime.date(2026, 3, 1)
