"""A write based on an old version of a card or action is refused and changes nothing."""

import datetime

import pytest

from challenge_cards import services
from challenge_cards.models import CardStatus, CardUpdate, ChallengeCard, FollowUpAction, Rating
from tests import factories


def _snapshot():
    """Every row the services write, as plain values."""
    return (
        list(ChallengeCard.objects.order_by("pk").values()),
        list(FollowUpAction.objects.order_by("pk").values()),
        list(CardUpdate.objects.order_by("pk").values()),
    )


@pytest.fixture
def moved_on(card, deputy, admin_user):
    """A card at version 2 with an action at version 2, and a scheduled next meeting to carry over to."""
    services.card_update(actor=deputy, card=card, expected_version=1, status=CardStatus.DONE)
    action = factories.FollowUpActionFactory(card=card)
    services.action_change_due_date(actor=deputy, action=action, expected_version=1, due_date=datetime.date(2030, 1, 1))
    factories.MeetingFactory(starts_at=card.meeting.starts_at + datetime.timedelta(days=28))
    return card, action


def _stale_writes(card, action, deputy, admin_user):
    return {
        "card_update": lambda: services.card_update(actor=deputy, card=card, expected_version=1, note="Old view."),
        "card_review": lambda: services.card_review(
            actor=admin_user, card=card, expected_version=1, omb_rating=Rating.GREEN
        ),
        "card_return": lambda: services.card_return(actor=admin_user, card=card, expected_version=1, reason="Why."),
        "card_carry_over": lambda: services.card_carry_over(
            actor=admin_user, card=card, expected_version=1, reason="Later."
        ),
        "action_complete": lambda: services.action_complete(actor=deputy, action=action, expected_version=1),
        "action_drop": lambda: services.action_drop(actor=deputy, action=action, expected_version=1, reason="Moot."),
        "action_reassign": lambda: services.action_reassign(
            actor=deputy, action=action, expected_version=1, owner_name="CHCO"
        ),
        "action_change_due_date": lambda: services.action_change_due_date(
            actor=deputy, action=action, expected_version=1, due_date=datetime.date(2031, 1, 1)
        ),
    }


@pytest.mark.parametrize(
    "write",
    [
        "card_update",
        "card_review",
        "card_return",
        "card_carry_over",
        "action_complete",
        "action_drop",
        "action_reassign",
        "action_change_due_date",
    ],
)
def test_stale_write_is_refused_and_changes_nothing(moved_on, deputy, admin_user, write):
    card, action = moved_on
    before = _snapshot()
    with pytest.raises(services.StaleWrite) as error:
        _stale_writes(card, action, deputy, admin_user)[write]()
    assert error.value.current_version == 2
    assert _snapshot() == before


def test_stale_reopen_is_refused(card, deputy):
    action = factories.FollowUpActionFactory(card=card)
    services.action_complete(actor=deputy, action=action, expected_version=1)
    before = _snapshot()
    with pytest.raises(services.StaleWrite):
        services.action_reopen(actor=deputy, action=action, expected_version=1)
    assert _snapshot() == before


def test_the_current_version_is_accepted(moved_on, deputy, admin_user):
    card, action = moved_on
    services.card_review(actor=admin_user, card=card, expected_version=2, omb_rating=Rating.GREEN)
    services.action_complete(actor=deputy, action=action, expected_version=2)
    card.refresh_from_db()
    action.refresh_from_db()
    assert (card.version, action.version) == (3, 3)


def test_two_people_with_the_same_version_the_second_is_refused(card, deputy, delegate):
    services.card_update(actor=deputy, card=card, expected_version=1, status=CardStatus.IN_PROGRESS)
    with pytest.raises(services.StaleWrite):
        services.card_update(actor=delegate, card=card, expected_version=1, status=CardStatus.DONE)
    card.refresh_from_db()
    assert card.status == CardStatus.IN_PROGRESS
    assert card.updates.count() == 1
