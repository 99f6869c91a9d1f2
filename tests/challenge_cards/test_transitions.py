"""card_update: which status changes an agency may make, and what an update must carry."""

from decimal import Decimal
from itertools import product

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from challenge_cards import services
from challenge_cards.models import CardStatus, CardUpdate, Disposition, Rating, UpdateKind
from tests import factories

ALL_PAIRS = [(old, new) for old, new in product(CardStatus.values, repeat=2) if old != new]
ALLOWED = [(old, new) for old, new in ALL_PAIRS if new in services.ALLOWED_TRANSITIONS[old]]
REFUSED = [(old, new) for old, new in ALL_PAIRS if new not in services.ALLOWED_TRANSITIONS[old]]


def _card_in(status: str, **kwargs):
    agency = factories.AgencyFactory()
    deputy = factories.deputy_of(agency)
    card = factories.ChallengeCardFactory(agency=agency, issued_to=deputy, status=status, **kwargs)
    return card, deputy


def test_transition_table_pins_the_workflow():
    """Done is final for the agency (OMB returns it), and a blocked card must be unblocked before it is done."""
    expected = {
        "not_started": {"in_progress", "at_risk", "blocked", "done"},
        "in_progress": {"at_risk", "blocked", "done"},
        "at_risk": {"in_progress", "blocked", "done"},
        "blocked": {"in_progress", "at_risk"},
        "done": set(),
    }
    assert {old: set(new) for old, new in services.ALLOWED_TRANSITIONS.items()} == expected
    assert set(services.ALLOWED_TRANSITIONS) == set(CardStatus.values)
    assert len(ALLOWED) + len(REFUSED) == 20


@pytest.mark.parametrize(("old", "new"), ALLOWED, ids=[f"{o}->{n}" for o, n in ALLOWED])
def test_allowed_transition_changes_the_card_and_records_it(db, old, new):
    card, deputy = _card_in(old)
    update = services.card_update(actor=deputy, card=card, expected_version=1, status=new, note="Why it moved.")
    card.refresh_from_db()
    assert card.status == new
    assert card.version == 2
    assert card.last_agency_update_at is not None
    assert update.kind == UpdateKind.UPDATE
    assert update.status_to == new
    assert update.changes == {"status": [old, new]}
    assert list(card.updates.all()) == [update]


@pytest.mark.parametrize(("old", "new"), REFUSED, ids=[f"{o}->{n}" for o, n in REFUSED])
def test_refused_transition_changes_nothing(db, old, new):
    card, deputy = _card_in(old)
    with pytest.raises(ValidationError) as error:
        services.card_update(actor=deputy, card=card, expected_version=1, status=new, note="Trying anyway.")
    assert "status" in error.value.message_dict
    card.refresh_from_db()
    assert card.status == old
    assert card.version == 1
    assert not CardUpdate.objects.filter(card=card).exists()


def test_unknown_status_is_refused(card, deputy):
    with pytest.raises(ValidationError) as error:
        services.card_update(actor=deputy, card=card, expected_version=1, status="finished", note="x")
    assert "status" in error.value.message_dict


@pytest.mark.parametrize("status", sorted(services.NOTE_REQUIRED_FOR))
@pytest.mark.parametrize("note", ["", "   "])
def test_at_risk_or_blocked_needs_a_note(card, deputy, status, note):
    with pytest.raises(ValidationError) as error:
        services.card_update(actor=deputy, card=card, expected_version=1, status=status, note=note)
    assert "note" in error.value.message_dict
    card.refresh_from_db()
    assert card.status == CardStatus.NOT_STARTED
    assert card.version == 1
    assert not card.updates.exists()


@pytest.mark.parametrize("status", [CardStatus.IN_PROGRESS, CardStatus.DONE])
def test_other_statuses_need_no_note(card, deputy, status):
    update = services.card_update(actor=deputy, card=card, expected_version=1, status=status)
    assert update.note == ""
    card.refresh_from_db()
    assert card.status == status


@pytest.mark.parametrize("status", [CardStatus.AT_RISK, CardStatus.BLOCKED])
def test_database_refuses_an_at_risk_or_blocked_update_without_a_note(card, deputy, status):
    with pytest.raises(IntegrityError), transaction.atomic():
        CardUpdate.objects.create(card=card, author=deputy, created_at=timezone.now(), status_to=status, note="")


def test_database_accepts_an_at_risk_update_with_a_note(card, deputy):
    update = CardUpdate.objects.create(
        card=card, author=deputy, created_at=timezone.now(), status_to=CardStatus.AT_RISK, note="Hiring freeze."
    )
    assert update.pk is not None


def test_agency_rating_change_is_recorded(card, deputy):
    update = services.card_update(actor=deputy, card=card, expected_version=1, agency_rating=Rating.YELLOW)
    card.refresh_from_db()
    assert card.agency_rating == Rating.YELLOW
    assert card.version == 2
    assert update.changes == {"agency_rating": ["", "yellow"]}
    assert update.status_to == ""


def test_unknown_rating_is_refused(card, deputy):
    with pytest.raises(ValidationError) as error:
        services.card_update(actor=deputy, card=card, expected_version=1, agency_rating="purple")
    assert "agency_rating" in error.value.message_dict
    card.refresh_from_db()
    assert card.agency_rating == ""


def test_metric_value_change_is_recorded(db):
    card, deputy = _card_in(
        CardStatus.IN_PROGRESS,
        metric_name="Phone wait time",
        metric_unit="minutes",
        metric_baseline=Decimal("28"),
        metric_target=Decimal("3"),
        metric_value=Decimal("28"),
    )
    update = services.card_update(actor=deputy, card=card, expected_version=1, metric_value=Decimal("12.5"))
    card.refresh_from_db()
    assert card.metric_value == Decimal("12.5")
    assert card.version == 2
    assert list(update.changes) == ["metric_value"]
    assert [Decimal(value) for value in update.changes["metric_value"]] == [Decimal("28"), Decimal("12.5")]


def test_metric_value_on_a_card_without_a_metric_is_refused(card, deputy):
    assert not card.has_metric
    with pytest.raises(ValidationError) as error:
        services.card_update(actor=deputy, card=card, expected_version=1, metric_value=Decimal("5"))
    assert "metric_value" in error.value.message_dict
    card.refresh_from_db()
    assert card.metric_value is None
    assert card.version == 1


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"note": "   "},
        {"status": CardStatus.NOT_STARTED},
        {"agency_rating": ""},
    ],
    ids=["nothing", "blank-note", "same-status", "same-rating"],
)
def test_nothing_to_update_is_refused(card, deputy, kwargs):
    with pytest.raises(ValidationError) as error:
        services.card_update(actor=deputy, card=card, expected_version=1, **kwargs)
    assert "note" in error.value.message_dict
    card.refresh_from_db()
    assert card.version == 1
    assert not card.updates.exists()


def test_a_note_alone_is_an_update(card, deputy):
    update = services.card_update(actor=deputy, card=card, expected_version=1, note="  Met with OPM.  ")
    card.refresh_from_db()
    assert update.changes == {}
    assert update.note == "Met with OPM."
    assert card.version == 2


@pytest.mark.parametrize("disposition", [Disposition.ACCEPTED, Disposition.DROPPED, Disposition.CARRIED_OVER])
def test_closed_card_cannot_be_updated(db, disposition):
    card, deputy = _card_in(CardStatus.IN_PROGRESS, disposition=disposition, disposition_reason="Decided by OMB.")
    with pytest.raises(ValidationError):
        services.card_update(actor=deputy, card=card, expected_version=1, status=CardStatus.DONE)
    card.refresh_from_db()
    assert card.status == CardStatus.IN_PROGRESS
    assert card.version == 1
    assert not card.updates.exists()
