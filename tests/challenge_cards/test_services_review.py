"""OMB's review: its own rating, accept or drop, and returning a card marked done."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from challenge_cards import selectors, services
from challenge_cards.models import CardStatus, ChallengeCard, Disposition, Rating, UpdateKind
from tests import factories


def _state(card):
    card.refresh_from_db()
    return (card.status, card.omb_rating, card.disposition, card.disposition_reason, card.version)


def test_omb_rating(admin_user, card):
    update = services.card_review(actor=admin_user, card=card, expected_version=1, omb_rating=Rating.RED)
    card.refresh_from_db()
    assert card.omb_rating == Rating.RED
    assert card.version == 2
    assert card.disposition == Disposition.OPEN
    assert update.kind == UpdateKind.OMB_REVIEW
    assert update.author == admin_user
    assert update.changes == {"omb_rating": ["", "red"]}


def test_rating_disagreement_is_visible(admin_user, deputy, card):
    services.card_update(actor=deputy, card=card, expected_version=1, agency_rating=Rating.GREEN)
    services.card_review(actor=admin_user, card=card, expected_version=2, omb_rating=Rating.YELLOW)
    assert selectors.review_board(admin_user, None).get(pk=card.pk).ratings_differ


def test_unknown_omb_rating_is_refused(admin_user, card):
    before = _state(card)
    with pytest.raises(ValidationError) as error:
        services.card_review(actor=admin_user, card=card, expected_version=1, omb_rating="blue")
    assert "omb_rating" in error.value.message_dict
    assert _state(card) == before


def test_accept(admin_user, card):
    services.card_review(actor=admin_user, card=card, expected_version=1, disposition=Disposition.ACCEPTED)
    card.refresh_from_db()
    assert card.disposition == Disposition.ACCEPTED
    assert not card.is_open


def test_drop_with_a_reason(admin_user, card):
    update = services.card_review(
        actor=admin_user, card=card, expected_version=1, disposition=Disposition.DROPPED, reason=" Superseded. "
    )
    card.refresh_from_db()
    assert card.disposition == Disposition.DROPPED
    assert card.disposition_reason == "Superseded."
    assert update.note == "Superseded."
    assert update.changes == {"disposition": ["open", "dropped"]}


@pytest.mark.parametrize("reason", ["", "  "])
def test_drop_needs_a_reason(admin_user, card, reason):
    before = _state(card)
    with pytest.raises(ValidationError) as error:
        services.card_review(
            actor=admin_user, card=card, expected_version=1, disposition=Disposition.DROPPED, reason=reason
        )
    assert "reason" in error.value.message_dict
    assert _state(card) == before
    assert not card.updates.exists()


def test_carried_over_through_review_is_refused(admin_user, card):
    before = _state(card)
    with pytest.raises(ValidationError) as error:
        services.card_review(
            actor=admin_user, card=card, expected_version=1, disposition=Disposition.CARRIED_OVER, reason="Later."
        )
    assert "disposition" in error.value.message_dict
    assert _state(card) == before


def test_a_closed_card_cannot_be_given_another_disposition(admin_user, card):
    services.card_review(actor=admin_user, card=card, expected_version=1, disposition=Disposition.ACCEPTED)
    with pytest.raises(ValidationError) as error:
        services.card_review(
            actor=admin_user, card=card, expected_version=2, disposition=Disposition.DROPPED, reason="Changed mind."
        )
    assert "disposition" in error.value.message_dict
    card.refresh_from_db()
    assert card.disposition == Disposition.ACCEPTED


def test_review_with_nothing_changed_is_refused(admin_user, card):
    with pytest.raises(ValidationError):
        services.card_review(actor=admin_user, card=card, expected_version=1, omb_rating="")
    assert not card.updates.exists()


@pytest.fixture
def done_card(card):
    ChallengeCard.objects.filter(pk=card.pk).update(status=CardStatus.DONE)
    card.refresh_from_db()
    return card


def test_return_a_done_card(admin_user, done_card):
    update = services.card_return(actor=admin_user, card=done_card, expected_version=1, reason="No evidence of hires.")
    done_card.refresh_from_db()
    assert done_card.status == CardStatus.IN_PROGRESS
    assert done_card.version == 2
    assert update.kind == UpdateKind.RETURNED
    assert update.status_to == CardStatus.IN_PROGRESS
    assert update.note == "No evidence of hires."


def test_return_reopens_an_accepted_card(admin_user, done_card):
    services.card_review(actor=admin_user, card=done_card, expected_version=1, disposition=Disposition.ACCEPTED)
    services.card_return(actor=admin_user, card=done_card, expected_version=2, reason="Accepted too early.")
    done_card.refresh_from_db()
    assert done_card.disposition == Disposition.OPEN
    assert done_card.status == CardStatus.IN_PROGRESS


@pytest.mark.parametrize("reason", ["", "   "])
def test_return_needs_a_reason(admin_user, done_card, reason):
    before = _state(done_card)
    with pytest.raises(ValidationError) as error:
        services.card_return(actor=admin_user, card=done_card, expected_version=1, reason=reason)
    assert "reason" in error.value.message_dict
    assert _state(done_card) == before


def test_only_a_done_card_can_be_returned(admin_user, card):
    with pytest.raises(ValidationError) as error:
        services.card_return(actor=admin_user, card=card, expected_version=1, reason="Why.")
    assert "status" in error.value.message_dict


@pytest.mark.parametrize("disposition", [Disposition.DROPPED, Disposition.CARRIED_OVER])
def test_a_dropped_or_carried_over_card_cannot_be_returned(admin_user, done_card, disposition):
    ChallengeCard.objects.filter(pk=done_card.pk).update(disposition=disposition, disposition_reason="Decided.")
    before = _state(done_card)
    with pytest.raises(ValidationError) as error:
        services.card_return(actor=admin_user, card=done_card, expected_version=1, reason="Why.")
    assert "disposition" in error.value.message_dict
    assert _state(done_card) == before


@pytest.mark.parametrize("who", ["deputy", "delegate", "other_deputy", "omb_viewer_user"])
def test_only_omb_admins_review_or_return(done_card, request, who):
    actor = request.getfixturevalue(who)
    before = _state(done_card)
    with pytest.raises(PermissionDenied):
        services.card_review(actor=actor, card=done_card, expected_version=1, omb_rating=Rating.GREEN)
    with pytest.raises(PermissionDenied):
        services.card_review(actor=actor, card=done_card, expected_version=1, disposition=Disposition.ACCEPTED)
    with pytest.raises(PermissionDenied):
        services.card_return(actor=actor, card=done_card, expected_version=1, reason="Why.")
    assert _state(done_card) == before
    assert not done_card.updates.exists()


def test_omb_admin_cannot_post_an_agency_update(admin_user, card):
    with pytest.raises(PermissionDenied):
        services.card_update(actor=admin_user, card=card, expected_version=1, status=CardStatus.IN_PROGRESS)


def test_decide_accept_with_a_rating_is_one_review(admin_user, card):
    services.card_decide(actor=admin_user, card=card, expected_version=1, decision="accept", omb_rating=Rating.GREEN)
    assert _state(card)[1:] == (Rating.GREEN, Disposition.ACCEPTED, "", 2)
    [row] = card.updates.filter(kind=UpdateKind.OMB_REVIEW)
    assert set(row.changes) == {"omb_rating", "disposition"}


def test_decide_return_records_the_rating_then_the_return(admin_user, done_card):
    services.card_decide(
        actor=admin_user, card=done_card, expected_version=1, decision="return", omb_rating=Rating.RED, reason="No."
    )
    assert _state(done_card)[:2] == (CardStatus.IN_PROGRESS, Rating.RED)
    assert done_card.version == 3
    kinds = list(done_card.updates.exclude(kind=UpdateKind.ISSUED).order_by("id").values_list("kind", flat=True))
    assert kinds == [UpdateKind.OMB_REVIEW, UpdateKind.RETURNED]


def test_decide_is_all_or_nothing(admin_user, done_card):
    before = _state(done_card)
    with pytest.raises(ValidationError) as error:
        services.card_decide(
            actor=admin_user, card=done_card, expected_version=1, decision="return", omb_rating=Rating.RED, reason=""
        )
    assert "reason" in error.value.message_dict
    assert _state(done_card) == before


def test_decide_carry_over_continues_the_card(admin_user, card):
    later = factories.MeetingFactory()
    successor = services.card_decide(
        actor=admin_user, card=card, expected_version=1, decision="carry_over", reason="More time is needed."
    )
    assert (successor.meeting, successor.carried_over_from) == (later, card)
    assert _state(card)[2] == Disposition.CARRIED_OVER


def test_decide_refuses_a_stale_version_and_an_unknown_decision(admin_user, card):
    before = _state(card)
    with pytest.raises(services.StaleWrite):
        services.card_decide(actor=admin_user, card=card, expected_version=5, decision="return", omb_rating="green")
    with pytest.raises(ValidationError) as error:
        services.card_decide(actor=admin_user, card=card, expected_version=1, decision="archive")
    assert "decision" in error.value.message_dict
    assert _state(card) == before
