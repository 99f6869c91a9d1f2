"""Template helpers: history lines in plain words, numbers without trailing zeros, colour said in words."""

import datetime

import pytest
from django.utils import timezone

from challenge_cards.models import ChallengeCard, FollowUpAction
from challenge_cards.querysets import overdue_action_q, overdue_card_q
from challenge_cards.templatetags.cc_tags import (
    action_overdue,
    card_overdue,
    change_lines,
    number,
    rating_tag,
    status_tag,
)

TODAY = datetime.date(2026, 6, 10)


def test_change_lines_in_plain_words():
    changes = {
        "status": ["in_progress", "at_risk"],
        "metric_value": ["28.00", "18.50"],
        "due_date": [None, "2026-12-08"],
        "omb_rating": ["", "red"],
        "action": [None, 7],
    }
    assert change_lines(changes) == [
        "Status: In progress → At risk",
        "Value now: 28.00 → 18.50",
        "Due date: Dec 8, 2026",
        "OMB rating: Red",
    ]


def test_number_drops_trailing_zeros():
    assert [number(400), number("12.50"), number("1234567.10"), number(None)] == ["400", "12.5", "1,234,567.1", "—"]


def test_tags_say_the_colour_and_status_in_words():
    assert "OMB: Red</span>" in rating_tag("red", "OMB:")
    assert "Agency: Not rated" in rating_tag("", "Agency:")
    assert ">At risk</span>" in status_tag("at_risk")


@pytest.mark.parametrize("disposition", ["open", "accepted", "carried_over"])
@pytest.mark.parametrize("status", ["in_progress", "done"])
@pytest.mark.parametrize("due_date", [datetime.date(2026, 6, 9), TODAY, datetime.date(2026, 6, 11)])
def test_card_overdue_filter_is_the_query_rule(card, disposition, status, due_date):
    reason = "" if disposition == "open" else "Decided at the meeting."
    ChallengeCard.objects.filter(pk=card.pk).update(
        disposition=disposition, disposition_reason=reason, status=status, due_date=due_date
    )
    card.refresh_from_db()
    by_query = ChallengeCard.objects.filter(overdue_card_q(TODAY), pk=card.pk).exists()
    assert card_overdue(card, TODAY) is by_query
    assert by_query is (disposition == "open" and status != "done" and due_date < TODAY)


@pytest.mark.parametrize("status", ["open", "done", "dropped"])
@pytest.mark.parametrize("due_date", [None, datetime.date(2026, 6, 9), TODAY])
def test_action_overdue_filter_is_the_query_rule(card, status, due_date):
    action = FollowUpAction.objects.create(
        card=card,
        description="Post the announcement",
        status=status,
        due_date=due_date,
        completed_at=timezone.now() if status == "done" else None,
        dropped_reason="No longer needed." if status == "dropped" else "",
    )
    action.refresh_from_db()
    by_query = FollowUpAction.objects.filter(overdue_action_q(TODAY), pk=action.pk).exists()
    assert action_overdue(action, TODAY) is by_query
    assert by_query is (status == "open" and due_date is not None and due_date < TODAY)
