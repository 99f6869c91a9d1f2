"""Each list page costs the same number of SQL queries at 5 rows and at 500, and never more than six."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from agencies.models import Agency
from challenge_cards.models import ChallengeCard, FollowUpAction, Meeting
from tests import factories

# The target of issue 7: signed-in user (with the unread count), roles, then the page's own reads;
# the session comes from the cache.
MAX_PAGE_QUERIES = 6


def count_queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(queries)


def add_cards(n: int, *, agencies: list[Agency], meeting: Meeting, priority, start: int) -> None:
    today = timezone.localdate()
    cards = ChallengeCard.objects.bulk_create(
        [
            ChallengeCard(
                meeting=meeting,
                agency=agencies[i % len(agencies)],
                issued_at=meeting.starts_at,
                title=f"Card {start + i}",
                ask="Do the thing.",
                priority=priority,
                due_date=today + datetime.timedelta(days=(i % 20) - 10),
                status=["not_started", "in_progress", "at_risk", "done"][i % 4],
                agency_rating=["", "green", "red"][i % 3],
                omb_rating=["", "yellow", "red"][i % 3],
            )
            for i in range(n)
        ]
    )
    FollowUpAction.objects.bulk_create(
        [FollowUpAction(card=card, description=f"Action for {card.title}", due_date=card.due_date) for card in cards]
    )


@pytest.fixture
def setup(db, agency, deputy, priority):
    past = factories.MeetingFactory(starts_at=timezone.now() - datetime.timedelta(days=20), status="held")
    factories.MeetingFactory(starts_at=timezone.now() + datetime.timedelta(days=10))
    return {"meeting": past, "agencies": [agency], "priority": priority, "start": 0}


def grow(setup, n: int, *, extra_agencies: int = 0, extra_meetings: int = 0) -> None:
    for i in range(extra_agencies):
        agency = factories.AgencyFactory(name=f"Agency {setup['start']}-{i}", abbreviation=f"A{setup['start']}X{i}")
        factories.deputy_of(agency)
        setup["agencies"].append(agency)
    now = timezone.now()
    Meeting.objects.bulk_create(
        [
            Meeting(starts_at=now - datetime.timedelta(days=60 + 30 * (setup["start"] + i)))
            for i in range(extra_meetings)
        ]
    )
    add_cards(n, agencies=setup["agencies"], meeting=setup["meeting"], priority=setup["priority"], start=setup["start"])
    setup["start"] += n


@pytest.mark.parametrize(
    ("who", "url_name"),
    [
        ("deputy", "challenge_cards:home"),
        ("admin", "challenge_cards:home"),
        ("deputy", "challenge_cards:card_list"),
        ("admin", "challenge_cards:review_board"),
        ("admin", "challenge_cards:card_list"),
        ("admin", "challenge_cards:agency_list"),
        ("admin", "challenge_cards:meeting_list"),
        ("deputy", "challenge_cards:meeting_list"),
        ("admin", "challenge_cards:scorecard"),
        ("deputy", "challenge_cards:scorecard"),
        ("admin", "notifications:inbox"),
        ("deputy", "notifications:inbox"),
    ],
)
def test_list_page_queries_do_not_grow_with_rows(client, setup, deputy, admin_user, who, url_name):
    client.force_login(deputy if who == "deputy" else admin_user)
    url = reverse(url_name)
    grow(setup, 5, extra_agencies=2, extra_meetings=2)
    small = count_queries(client, url)
    grow(setup, 495, extra_agencies=30, extra_meetings=40)
    large = count_queries(client, url)
    assert small == large, f"{url}: {small} queries at 5 rows, {large} at 500"
    assert large <= MAX_PAGE_QUERIES, f"{url}: {large} queries"


def test_filtered_card_list_and_meeting_page_queries_do_not_grow(client, setup, admin_user, agency):
    client.force_login(admin_user)
    urls = [
        f"{reverse('challenge_cards:card_list')}?agency={agency.pk}&status=in_progress&overdue=true",
        setup["meeting"].get_absolute_url(),
        reverse("challenge_cards:meeting_packet", args=[setup["meeting"].pk]),
        f"{reverse('challenge_cards:scorecard')}?meeting={setup['meeting'].pk}",
    ]
    grow(setup, 5)
    small = [count_queries(client, url) for url in urls]
    grow(setup, 495)
    large = [count_queries(client, url) for url in urls]
    assert small == large
    assert max(large) <= MAX_PAGE_QUERIES, large
    # A later page costs the same as the first (a number past the end falls back to the last page, at a cost),
    # both read as a second time (OMB's board and counts are kept in the cache until a card changes).
    for name in ("challenge_cards:home", "challenge_cards:card_list", "challenge_cards:review_board"):
        first, later = reverse(name), f"{reverse(name)}?page=2"
        client.get(first), client.get(later)
        assert count_queries(client, later) == count_queries(client, first), name


def test_card_page_queries_do_not_grow_with_history(client, deputy, card):
    client.force_login(deputy)
    for i in range(3):
        factories.FollowUpActionFactory(card=card)
        factories.CardUpdateFactory(card=card, author=deputy, note=f"Note {i}")
    small = count_queries(client, card.get_absolute_url())
    for i in range(40):
        factories.FollowUpActionFactory(card=card)
        factories.CardUpdateFactory(card=card, author=factories.UserFactory(), note=f"More {i}")
    assert count_queries(client, card.get_absolute_url()) == small
