"""?search= finds what DRF's SearchFilter finds, in a query the trigram indexes can answer."""

from __future__ import annotations

import operator
from functools import reduce

import pytest
from django.db import connection
from django.db.models import Q
from django.test.utils import CaptureQueriesContext

from challenge_cards.models import ChallengeCard, Disposition
from tests import factories
from tests.api.conftest import client_for

CARD_SEARCH_FIELDS = ["title", "ask", "agency__abbreviation", "agency__name"]


@pytest.fixture
def searchable(world):
    labor = world["other_agency"]
    for title, ask in [
        ("Pooled hiring for data scientists", "Join the OPM action."),
        ("Close the audit findings", "Report the hiring freeze's effect on audits."),
        ("Modernize grants", "Move grants to one portal."),
        ("Ünicode café", "Ask the café staff."),
    ]:
        factories.ChallengeCardFactory(
            agency=labor, meeting=world["meeting"], priority=world["priority"], title=title, ask=ask
        )
    return ChallengeCard.objects.exclude(disposition=Disposition.CARRIED_OVER)


def _drf_would_find(cards, words: list[str]) -> list[int]:
    """DRF SearchFilter's rule: every word in some field, case-insensitively (icontains)."""
    for word in words:
        cards = cards.filter(reduce(operator.or_, [Q(**{f"{field}__icontains": word}) for field in CARD_SEARCH_FIELDS]))
    return sorted(cards.values_list("id", flat=True))


@pytest.mark.parametrize(
    "search",
    ["hiring", "HIRING audit", "grants", "Labor", "dol", "treas", "café", "data,scientists", '"OPM action"', "nothing"],
)
@pytest.mark.parametrize("who", ["omb_admin", "other_deputy", "deputy"])
def test_search_finds_what_drfs_search_filter_finds_for_each_scope(world, searchable, search, who):
    user = world["users"][who]
    listed = client_for(user).get("/api/v1/cards/", {"search": search, "page_size": 200})
    assert listed.status_code == 200
    words = {"data,scientists": ["data", "scientists"], '"OPM action"': ["OPM action"]}.get(search, search.split())
    expected = _drf_would_find(searchable.filter(pk__in=ChallengeCard.objects.visible_to(user)), words)
    assert sorted(row["id"] for row in listed.json()["results"]) == expected
    assert listed.json()["count"] == len(expected)


@pytest.mark.postgresql
def test_the_search_query_can_be_answered_from_the_trigram_indexes(world, searchable):
    """In this tiny database a sequential scan is cheaper, so it is switched off for the transaction: the
    plan proves the indexes CAN serve the query (on the large data the planner picks them by itself)."""
    assert connection.vendor == "postgresql"
    client = client_for(world["users"]["omb_admin"])
    client.get("/api/v1/cards/", {"search": "hiring"})
    with CaptureQueriesContext(connection) as captured:
        assert client.get("/api/v1/cards/", {"search": "hiring"}).status_code == 200
    page_sql = next(q["sql"] for q in captured.captured_queries if "challenge_cards_challengecard" in q["sql"])
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {page_sql}")
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "Bitmap Index Scan on card_title_trgm" in plan
    assert "Bitmap Index Scan on card_ask_trgm" in plan
