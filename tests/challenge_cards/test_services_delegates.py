"""Delegates act on behalf of the deputy secretary; with certification their update is a draft."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from agencies.models import Membership
from agencies.roles import forget_roles
from challenge_cards import selectors, services, signals
from challenge_cards.models import CardStatus, CardUpdate, Certification, Rating, UpdateKind
from tests import factories


@pytest.fixture
def certifying_agency(agency):
    agency.certification_required = True
    agency.save()
    return agency


@pytest.fixture
def updates_sent():
    """Collect card_updated signals: OMB and notifications only hear about applied updates."""
    received = []

    def receiver(sender, update, actor, **kwargs):
        received.append(update.pk)

    signals.card_updated.connect(receiver)
    yield received
    signals.card_updated.disconnect(receiver)


def test_delegate_update_is_on_behalf_of_the_deputy(card, deputy, delegate):
    update = services.card_update(actor=delegate, card=card, expected_version=1, status=CardStatus.IN_PROGRESS)
    assert update.author == delegate
    assert update.on_behalf_of == deputy
    assert update.certification == Certification.NOT_REQUIRED
    card.refresh_from_db()
    assert card.status == CardStatus.IN_PROGRESS


def test_deputy_own_update_is_on_nobody_s_behalf(card, deputy, delegate):
    update = services.card_update(actor=deputy, card=card, expected_version=1, status=CardStatus.IN_PROGRESS)
    assert update.author == deputy
    assert update.on_behalf_of is None


def test_delegate_of_parent_agency_acts_for_the_parent_deputy_on_a_sub_agency_card(agency, deputy, delegate, meeting):
    irs = factories.AgencyFactory(name="Internal Revenue Service", abbreviation="IRS", parent=agency)
    irs_card = factories.ChallengeCardFactory(agency=irs, meeting=meeting)
    update = services.card_update(actor=delegate, card=irs_card, expected_version=1, status=CardStatus.IN_PROGRESS)
    assert update.on_behalf_of == deputy


def test_with_certification_a_delegate_update_is_a_pending_draft(
    certifying_agency, card, deputy, delegate, admin_user, omb_viewer_user, updates_sent
):
    draft = services.card_update(
        actor=delegate, card=card, expected_version=1, status=CardStatus.AT_RISK, note="Hiring freeze."
    )
    assert draft.certification == Certification.PENDING
    assert draft.on_behalf_of == deputy
    card.refresh_from_db()
    assert card.status == CardStatus.NOT_STARTED
    assert card.version == 1
    assert card.last_agency_update_at is None
    assert updates_sent == []
    # OMB does not see the draft; the agency does.
    assert not CardUpdate.objects.visible_to(admin_user).filter(pk=draft.pk).exists()
    assert not CardUpdate.objects.visible_to(omb_viewer_user).filter(pk=draft.pk).exists()
    assert CardUpdate.objects.visible_to(deputy).filter(pk=draft.pk).exists()
    assert CardUpdate.objects.visible_to(delegate).filter(pk=draft.pk).exists()


def test_deputy_certifies_the_draft_and_it_reaches_the_card_and_omb(
    certifying_agency, card, deputy, delegate, admin_user, updates_sent
):
    draft = services.card_update(
        actor=delegate, card=card, expected_version=1, status=CardStatus.AT_RISK, agency_rating=Rating.RED, note="Why."
    )
    certified = services.card_update_certify(actor=deputy, update=draft)
    card.refresh_from_db()
    assert card.status == CardStatus.AT_RISK
    assert card.agency_rating == Rating.RED
    assert card.version == 2
    assert card.last_agency_update_at is not None
    assert certified.certification == Certification.CERTIFIED
    assert certified.certified_by == deputy
    assert certified.certified_at is not None
    entry = CardUpdate.objects.get(card=card, kind=UpdateKind.CERTIFIED)
    assert updates_sent == [entry.pk]
    assert CardUpdate.objects.visible_to(admin_user).filter(pk=draft.pk).exists()


def test_certifying_records_its_own_entry_with_the_real_old_and_new_values(
    certifying_agency, deputy, delegate, meeting
):
    card = factories.ChallengeCardFactory(
        agency=certifying_agency, meeting=meeting, metric_name="Hires", metric_value=100, metric_target=400
    )
    draft = services.card_update(
        actor=delegate, card=card, expected_version=1, status=CardStatus.IN_PROGRESS, metric_value=250, note="Hired."
    )
    services.card_update_certify(actor=deputy, update=draft, expected_version=1)
    entry = CardUpdate.objects.get(card=card, kind=UpdateKind.CERTIFIED)
    assert (entry.author, entry.on_behalf_of) == (deputy, None)
    assert entry.changes == {"status": ["not_started", "in_progress"], "metric_value": ["100.00", "250"]}
    assert entry.status_to == CardStatus.IN_PROGRESS
    assert f"draft update {draft.pk}" in entry.note
    draft.refresh_from_db()
    assert (draft.certification, draft.certified_by) == (Certification.CERTIFIED, deputy)


def test_a_draft_whose_fields_changed_since_is_refused_not_applied(certifying_agency, deputy, delegate, meeting):
    card = factories.ChallengeCardFactory(
        agency=certifying_agency, meeting=meeting, metric_name="Hires", metric_value=100, metric_target=400
    )
    draft = services.card_update(actor=delegate, card=card, expected_version=1, metric_value=10, note="Draft.")
    services.card_update(actor=deputy, card=card, expected_version=1, metric_value=50, note="Newer, by the deputy.")
    with pytest.raises(ValidationError) as error:
        services.card_update_certify(actor=deputy, update=draft, expected_version=2)
    assert error.value.messages == ["The card changed since this draft was written; ask for a new update."]
    card.refresh_from_db()
    draft.refresh_from_db()
    assert (card.metric_value, card.version) == (50, 2)
    assert draft.certification == Certification.PENDING
    assert not CardUpdate.objects.filter(card=card, kind=UpdateKind.CERTIFIED).exists()


def test_a_draft_is_certified_when_only_other_fields_changed_since(certifying_agency, card, deputy, delegate):
    draft = services.card_update(actor=delegate, card=card, expected_version=1, agency_rating=Rating.YELLOW)
    services.card_update(actor=deputy, card=card, expected_version=1, status=CardStatus.IN_PROGRESS)
    services.card_update_certify(actor=deputy, update=draft, expected_version=2)
    card.refresh_from_db()
    assert (card.status, card.agency_rating, card.version) == (CardStatus.IN_PROGRESS, Rating.YELLOW, 3)


def test_certifying_against_a_card_version_the_deputy_did_not_see_is_stale(certifying_agency, card, deputy, delegate):
    draft = services.card_update(actor=delegate, card=card, expected_version=1, agency_rating=Rating.YELLOW)
    services.card_update(actor=deputy, card=card, expected_version=1, status=CardStatus.IN_PROGRESS)
    with pytest.raises(services.StaleWrite):
        services.card_update_certify(actor=deputy, update=draft, expected_version=1)
    draft.refresh_from_db()
    assert draft.certification == Certification.PENDING


@pytest.fixture
def irs_card(agency, meeting, priority):
    irs = factories.AgencyFactory(
        name="Internal Revenue Service", abbreviation="IRS", parent=agency, certification_required=True
    )
    return factories.ChallengeCardFactory(agency=irs, meeting=meeting, priority=priority)


def test_the_parent_deputy_named_on_a_sub_agency_draft_sees_and_certifies_it(irs_card, deputy, delegate):
    draft = services.card_update(actor=delegate, card=irs_card, expected_version=1, status=CardStatus.IN_PROGRESS)
    assert (draft.certification, draft.on_behalf_of) == (Certification.PENDING, deputy)
    assert list(selectors.awaiting_my_certification(deputy)) == [draft]
    services.card_update_certify(actor=deputy, update=draft, expected_version=1)
    irs_card.refresh_from_db()
    assert irs_card.status == CardStatus.IN_PROGRESS


def test_a_parent_deputy_not_named_on_the_draft_does_not_certify_it(irs_card, agency, deputy, delegate):
    draft = services.card_update(actor=delegate, card=irs_card, expected_version=1, status=CardStatus.IN_PROGRESS)
    # The deputy changes: the draft named the one who left; the new one is not named, the old one is no deputy.
    Membership.objects.filter(user=deputy).update(ended_on=timezone.localdate())
    successor = factories.deputy_of(agency, user__username="deputy.treas.new")
    for user in (deputy, successor):
        forget_roles(user)
        assert list(selectors.awaiting_my_certification(user)) == []
        with pytest.raises(PermissionDenied):
            services.card_update_certify(actor=user, update=draft)


def test_evidence_is_in_the_card_history_on_behalf_of_the_deputy(card, deputy, delegate):
    services.evidence_add(actor=delegate, card=card, title="Hiring plan", url="https://example.gov/plan")
    entry = CardUpdate.objects.get(card=card)
    assert (entry.kind, entry.author, entry.on_behalf_of) == (UpdateKind.UPDATE, delegate, deputy)
    assert entry.changes == {"evidence": [None, "Hiring plan"]}


def test_certified_metric_value_reaches_the_card(certifying_agency, deputy, delegate, meeting):
    card = factories.ChallengeCardFactory(
        agency=certifying_agency, meeting=meeting, metric_name="Hires", metric_value=100, metric_target=400
    )
    draft = services.card_update(actor=delegate, card=card, expected_version=1, metric_value=250)
    card.refresh_from_db()
    assert card.metric_value == 100
    services.card_update_certify(actor=deputy, update=draft.pk)
    card.refresh_from_db()
    assert card.metric_value == 250


@pytest.mark.parametrize("who", ["delegate", "other_deputy", "admin_user", "omb_viewer_user"])
def test_only_the_agency_deputy_certifies(certifying_agency, card, deputy, delegate, request, who):
    draft = services.card_update(actor=delegate, card=card, expected_version=1, status=CardStatus.IN_PROGRESS)
    with pytest.raises(PermissionDenied):
        services.card_update_certify(actor=request.getfixturevalue(who), update=draft)
    draft.refresh_from_db()
    card.refresh_from_db()
    assert draft.certification == Certification.PENDING
    assert card.status == CardStatus.NOT_STARTED
    assert card.version == 1


def test_a_certified_update_cannot_be_certified_again(certifying_agency, card, deputy, delegate):
    draft = services.card_update(actor=delegate, card=card, expected_version=1, status=CardStatus.IN_PROGRESS)
    services.card_update_certify(actor=deputy, update=draft)
    with pytest.raises(PermissionDenied):
        services.card_update_certify(actor=deputy, update=draft)
    card.refresh_from_db()
    assert card.version == 2


def test_deputy_own_update_needs_no_certification(certifying_agency, card, deputy, updates_sent):
    update = services.card_update(actor=deputy, card=card, expected_version=1, status=CardStatus.IN_PROGRESS)
    assert update.certification == Certification.NOT_REQUIRED
    card.refresh_from_db()
    assert card.status == CardStatus.IN_PROGRESS
    assert updates_sent == [update.pk]


def test_draft_on_a_card_closed_meanwhile_cannot_be_certified(certifying_agency, card, deputy, delegate, admin_user):
    draft = services.card_update(actor=delegate, card=card, expected_version=1, status=CardStatus.IN_PROGRESS)
    services.card_review(actor=admin_user, card=card, expected_version=1, disposition="dropped", reason="Superseded.")
    with pytest.raises(ValidationError):
        services.card_update_certify(actor=deputy, update=draft)
    draft.refresh_from_db()
    assert draft.certification == Certification.PENDING
