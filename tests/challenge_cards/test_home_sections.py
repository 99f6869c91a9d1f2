"""The home page's one-query read: the same page, total and overdue list as reading each on its own."""

import datetime

import pytest
from django.core.paginator import Paginator
from django.utils import timezone

from challenge_cards import selectors
from challenge_cards.models import ChallengeCard, Disposition, Meeting
from tests import factories

PER_PAGE = 5
OVERDUE_SHOWN = 3


@pytest.fixture
def cards(agency, other_agency, priority):
    """Two meetings of Treasury cards (some overdue, some done, some closed) and a Labor card."""
    today = timezone.localdate()
    now = timezone.now()
    meetings = [
        factories.MeetingFactory(starts_at=now - datetime.timedelta(days=days), status=Meeting.Status.HELD)
        for days in (60, 30)
    ]
    statuses = ["not_started", "in_progress", "at_risk", "done"]
    for i in range(17):
        factories.ChallengeCardFactory(
            agency=agency,
            meeting=meetings[i % 2],
            priority=priority,
            due_date=today + datetime.timedelta(days=(i * 7) % 23 - 11),
            status=statuses[i % 4],
            disposition=Disposition.ACCEPTED if i % 6 == 5 else Disposition.OPEN,
        )
    factories.ChallengeCardFactory(
        agency=other_agency, meeting=meetings[1], priority=priority, due_date=today - datetime.timedelta(days=40)
    )
    return meetings


def _expected(user, last_meeting, number):
    page = Paginator(selectors.home_cards(user, last_meeting), PER_PAGE).get_page(number)
    overdue = list(ChallengeCard.objects.visible_to(user).overdue().order_by("due_date", "id")[:OVERDUE_SHOWN])
    return [card.pk for card in page.object_list], page.number, page.paginator.count, [card.pk for card in overdue]


@pytest.mark.parametrize("who", ["deputy", "admin_user"])
@pytest.mark.parametrize("number", ["1", "2", "3", None, "", "not a number", "99", "0", "-1", "99999999999999999999"])
def test_one_read_gives_the_same_page_total_and_overdue_cards_as_separate_reads(request, cards, who, number):
    user = request.getfixturevalue(who)
    last_meeting = cards[1]
    page, overdue = selectors.home_sections(user, last_meeting, number, per_page=PER_PAGE, overdue_shown=OVERDUE_SHOWN)
    got = ([card.pk for card in page.object_list], page.number, page.paginator.count, [card.pk for card in overdue])
    assert got == _expected(user, last_meeting, number)
    assert page.object_list, "every case here has cards on the page it lands on"
    if who == "deputy":
        assert {card.agency_id for card in page.object_list} == {user.memberships.get().agency_id}


def test_overdue_cards_beyond_the_page_are_listed_and_the_flags_come_with_the_rows(cards, deputy):
    page, overdue = selectors.home_sections(deputy, cards[1], "1", per_page=2, overdue_shown=OVERDUE_SHOWN)
    assert len(overdue) == OVERDUE_SHOWN
    assert not {card.pk for card in overdue} <= {card.pk for card in page.object_list}
    assert all(card.is_overdue for card in overdue)
    assert [card.due_date for card in overdue] == sorted(card.due_date for card in overdue)


def test_no_open_cards_gives_an_empty_first_page(db, deputy):
    ChallengeCard.objects.all().delete()
    page, overdue = selectors.home_sections(deputy, None, "1", per_page=PER_PAGE, overdue_shown=OVERDUE_SHOWN)
    assert (list(page.object_list), page.number, page.paginator.count, overdue) == ([], 1, 0, [])
