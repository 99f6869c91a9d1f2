"""card_carry_over: an unfinished card continues at the next meeting with its open actions."""

import datetime

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from challenge_cards import services
from challenge_cards.models import (
    EASTERN,
    ActionStatus,
    CardStatus,
    ChallengeCard,
    Disposition,
    Meeting,
    UpdateKind,
)
from tests import factories


def _at(year, month, day):
    return datetime.datetime(year, month, day, 10, tzinfo=EASTERN)


@pytest.fixture(autouse=True)
def now():
    """A week after the January meeting: the January cards' due date (February 10) is still ahead."""
    with time_machine.travel(datetime.datetime(2026, 1, 20, 12, tzinfo=EASTERN), tick=False):
        yield


@pytest.fixture
def january(db):
    return factories.MeetingFactory(starts_at=_at(2026, 1, 13))


@pytest.fixture
def february(db):
    return factories.MeetingFactory(starts_at=_at(2026, 2, 10))


@pytest.fixture
def old_card(agency, deputy, january, priority):
    return factories.ChallengeCardFactory(
        agency=agency,
        issued_to=deputy,
        meeting=january,
        priority=priority,
        status=CardStatus.AT_RISK,
        metric_name="Hires",
        metric_target=400,
        metric_value=120,
        carry_count=0,
    )


def test_carry_over_continues_the_card_at_the_next_meeting(admin_user, old_card, february, deputy):
    done = factories.FollowUpActionFactory(card=old_card, status=ActionStatus.DONE, completed_at=old_card.issued_at)
    dropped = factories.FollowUpActionFactory(card=old_card, status=ActionStatus.DROPPED, dropped_reason="Moot.")
    still_open = factories.FollowUpActionFactory(card=old_card)
    new_card = services.card_carry_over(
        actor=admin_user, card=old_card, expected_version=1, reason="Hiring freeze delayed the pooled action."
    )
    old_card.refresh_from_db()
    new_card.refresh_from_db()
    assert new_card.carried_over_from == old_card
    assert new_card.meeting == february
    assert new_card.carry_count == 1
    assert (new_card.title, new_card.agency, new_card.issued_to) == (old_card.title, old_card.agency, deputy)
    assert new_card.metric_value == 120
    assert new_card.disposition == Disposition.OPEN
    assert new_card.version == 1
    assert old_card.disposition == Disposition.CARRIED_OVER
    assert old_card.disposition_reason == "Hiring freeze delayed the pooled action."
    assert old_card.version == 2
    still_open.refresh_from_db()
    done.refresh_from_db()
    dropped.refresh_from_db()
    assert still_open.card == new_card
    assert done.card == old_card
    assert dropped.card == old_card
    carried = old_card.updates.get()
    assert carried.kind == UpdateKind.CARRIED_OVER
    assert carried.author == admin_user
    assert carried.changes["carried_over_to"] == [None, new_card.pk]
    issued = new_card.updates.get(kind=UpdateKind.ISSUED)
    assert issued.changes["carried_over_from"] == [None, old_card.pk]


def test_moved_actions_get_a_new_version_and_one_history_row_each(admin_user, old_card, february):
    moving = factories.FollowUpActionFactory.create_batch(3, card=old_card)
    done = factories.FollowUpActionFactory(card=old_card, status=ActionStatus.DONE, completed_at=old_card.issued_at)
    new_card = services.card_carry_over(actor=admin_user, card=old_card, expected_version=1, reason="Not yet.")
    rows = list(new_card.updates.filter(kind=UpdateKind.ACTION).order_by("id"))
    assert [row.changes for row in rows] == [
        {"action": [None, action.pk], "carried_over_from": [None, old_card.pk]} for action in moving
    ]
    assert {row.author for row in rows} == {admin_user}
    assert [row.note for row in rows] == [action.description for action in moving]
    for action in moving:
        action.refresh_from_db()
        assert (action.card, action.version) == (new_card, 2)
    done.refresh_from_db()
    assert (done.card, done.version) == (old_card, 1)


def test_carrying_over_costs_the_same_queries_for_more_actions(admin_user, agency, priority, february, january):
    def carry(count: int, title: str) -> int:
        card = factories.ChallengeCardFactory(agency=agency, meeting=january, priority=priority, title=title)
        factories.FollowUpActionFactory.create_batch(count, card=card)
        with CaptureQueriesContext(connection) as queries:
            services.card_carry_over(actor=admin_user, card=card, expected_version=1, reason="Not yet.")
        return len(queries.captured_queries)

    carry(1, "Warm-up")  # the first call loads the actor's roles and settings once
    assert carry(1, "One action") == carry(6, "Six actions")


def test_carry_count_keeps_counting(admin_user, old_card, february):
    second = services.card_carry_over(actor=admin_user, card=old_card, expected_version=1, reason="Not yet.")
    march = factories.MeetingFactory(starts_at=_at(2026, 3, 10))
    third = services.card_carry_over(actor=admin_user, card=second, expected_version=1, reason="Still not.")
    assert third.carry_count == 2
    assert third.meeting == march
    assert third.carried_over_from == second


def test_without_a_due_date_the_new_card_keeps_the_old_one_while_it_is_ahead(admin_user, old_card, february):
    """Was: defaulted to the meeting after the one it moves to (which could move a year-long card earlier)."""
    factories.MeetingFactory(starts_at=_at(2026, 3, 10))
    assert old_card.due_date == datetime.date(2026, 2, 10)
    new_card = services.card_carry_over(actor=admin_user, card=old_card, expected_version=1, reason="Not yet.")
    assert new_card.due_date == datetime.date(2026, 2, 10)


def test_a_year_long_card_is_never_moved_earlier(admin_user, agency, priority, january, february):
    card = factories.ChallengeCardFactory(
        agency=agency, meeting=january, priority=priority, horizon="year", due_date=datetime.date(2027, 1, 12)
    )
    new_card = services.card_carry_over(actor=admin_user, card=card, expected_version=1, reason="Next quarter.")
    assert new_card.due_date == datetime.date(2027, 1, 12)


def test_without_a_due_date_a_card_whose_due_date_passed_is_refused(admin_user, old_card, february):
    with time_machine.travel(datetime.datetime(2026, 2, 11, 12, tzinfo=EASTERN), tick=False):
        with pytest.raises(ValidationError) as error:
            services.card_carry_over(actor=admin_user, card=old_card, expected_version=1, reason="Not yet.")
        assert error.value.message_dict["due_date"] == ["Give the new due date: the card was due February 10, 2026."]
        _assert_not_carried(old_card)
        new_card = services.card_carry_over(
            actor=admin_user, card=old_card, expected_version=1, reason="Not yet.", due_date=datetime.date(2026, 3, 10)
        )
    assert new_card.due_date == datetime.date(2026, 3, 10)


def test_carry_over_to_a_chosen_meeting_with_a_due_date(admin_user, old_card, february):
    april = factories.MeetingFactory(starts_at=_at(2026, 4, 14))
    new_card = services.card_carry_over(
        actor=admin_user,
        card=old_card,
        expected_version=1,
        reason="Needs a quarter.",
        to_meeting=april,
        due_date=datetime.date(2026, 6, 30),
    )
    assert new_card.meeting == april
    assert new_card.due_date == datetime.date(2026, 6, 30)


@pytest.mark.parametrize("reason", ["", "   "])
def test_reason_is_required(admin_user, old_card, february, reason):
    with pytest.raises(ValidationError) as error:
        services.card_carry_over(actor=admin_user, card=old_card, expected_version=1, reason=reason)
    assert "reason" in error.value.message_dict
    _assert_not_carried(old_card)


def test_refused_without_a_next_meeting(admin_user, old_card):
    factories.MeetingFactory(starts_at=_at(2026, 2, 10), status=Meeting.Status.CANCELLED)
    with pytest.raises(ValidationError) as error:
        services.card_carry_over(actor=admin_user, card=old_card, expected_version=1, reason="Not yet.")
    assert "to_meeting" in error.value.message_dict
    _assert_not_carried(old_card)


@pytest.mark.parametrize("when", [_at(2026, 1, 13), _at(2025, 12, 9)])
def test_refused_to_the_same_or_an_earlier_meeting(admin_user, old_card, january, when):
    earlier = january if when == january.starts_at else factories.MeetingFactory(starts_at=when)
    with pytest.raises(ValidationError) as error:
        services.card_carry_over(
            actor=admin_user, card=old_card, expected_version=1, reason="Not yet.", to_meeting=earlier
        )
    assert "to_meeting" in error.value.message_dict
    _assert_not_carried(old_card)


@pytest.mark.parametrize("disposition", [Disposition.ACCEPTED, Disposition.DROPPED, Disposition.CARRIED_OVER])
def test_refused_for_a_closed_card(admin_user, old_card, february, disposition):
    ChallengeCard.objects.filter(pk=old_card.pk).update(disposition=disposition, disposition_reason="Decided.")
    with pytest.raises(ValidationError) as error:
        services.card_carry_over(actor=admin_user, card=old_card, expected_version=1, reason="Again.")
    assert "disposition" in error.value.message_dict
    assert ChallengeCard.objects.count() == 1


@pytest.mark.parametrize("who", ["deputy", "delegate", "omb_viewer_user"])
def test_only_omb_admins_carry_over(old_card, february, request, who):
    with pytest.raises(PermissionDenied):
        services.card_carry_over(
            actor=request.getfixturevalue(who), card=old_card, expected_version=1, reason="Not yet."
        )
    _assert_not_carried(old_card)


def test_refused_when_the_next_meeting_already_has_that_card(admin_user, old_card, february):
    factories.ChallengeCardFactory(meeting=february, agency=old_card.agency, title=old_card.title)
    with pytest.raises(ValidationError) as error:
        services.card_carry_over(actor=admin_user, card=old_card, expected_version=1, reason="Not yet.")
    assert "to_meeting" in error.value.message_dict
    old_card.refresh_from_db()
    assert old_card.disposition == Disposition.OPEN


def _assert_not_carried(card):
    card.refresh_from_db()
    assert card.disposition == Disposition.OPEN
    assert card.version == 1
    assert ChallengeCard.objects.count() == 1
    assert not card.updates.exists()
