"""Cursor pages: walking `next` reads every row once, in order, at the cost of page 1 at any depth."""

from __future__ import annotations

import datetime
from urllib.parse import parse_qs, urlparse

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from challenge_cards.models import ChallengeCard, Meeting
from core.pagination import Position
from tests import factories
from tests.api.conftest import client_for
from tests.api.test_errors import assert_problem


def _query(link: str) -> dict[str, str]:
    return {name: values[-1] for name, values in parse_qs(urlparse(link).query).items()}


def _walk(client, path: str, params: dict, *, link: str = "next") -> tuple[list[int], list[dict]]:
    """Follow `link` from the first page to the end: the ids in the order read, and each body."""
    bodies = [client.get(path, params).json()]
    while bodies[-1][link]:
        response = client.get(path, _query(bodies[-1][link]))
        assert response.status_code == 200, response.content
        bodies.append(response.json())
    return [row["id"] for body in bodies for row in body["results"]], bodies


@pytest.fixture
def many_cards(world):
    """Eleven more cards, most on two due dates (ties the id must break), some in the other agency."""
    base = datetime.date(2026, 12, 1)
    for i in range(11):
        factories.ChallengeCardFactory(
            agency=world["agency"] if i % 3 else world["other_agency"],
            meeting=world["meeting"],
            priority=world["priority"],
            due_date=base + datetime.timedelta(days=i % 2),
            status=["not_started", "in_progress", "at_risk"][i % 3],
            title=f"Card {i:02d} {'zeta' if i % 2 else 'alpha'}",
        )
    return ChallengeCard.objects.all()


@pytest.mark.parametrize(
    ("ordering", "order_by"),
    [
        (None, ["due_date", "id"]),
        ("-due_date", ["-due_date", "-id"]),
        ("status,-due_date", ["status", "-due_date", "-id"]),  # mixed ways: the id goes the last key's way
        ("title", ["title", "id"]),
    ],
)
def test_walking_next_reads_every_card_once_in_the_total_order(world, many_cards, ordering, order_by):
    client = client_for(world["users"]["omb_admin"])
    params = {"page_size": 3, **({"ordering": ordering} if ordering else {})}
    ids, bodies = _walk(client, "/api/v1/cards/", params)
    assert ids == list(many_cards.order_by(*order_by).values_list("id", flat=True))
    assert bodies[0]["count"] == len(ids)  # the first page, asked for by number, has the total
    assert all("count" not in body for body in bodies[1:])  # cursor pages read no count
    assert all("cursor" in _query(body["next"]) for body in bodies[:-1])

    # and back: previous from the last page reads the same pages in reverse
    back, _ = _walk(client, "/api/v1/cards/", _query(bodies[-1]["previous"]), link="previous")
    pages_back = [row["id"] for body in reversed(bodies[:-1]) for row in body["results"]]
    assert back == pages_back  # each page back is the page read going forward


def test_a_deep_cursor_page_runs_the_statements_of_page_one_without_offset_or_count(
    world, many_cards, django_assert_num_queries
):
    client = client_for(world["users"]["omb_admin"])
    client.get("/api/v1/me/")  # the token's first use is recorded: the measured requests write nothing
    with django_assert_num_queries(4):  # token, roles, the page (with its count), its actions
        first = client.get("/api/v1/cards/", {"page_size": 2}).json()
    deep = _walk(client, "/api/v1/cards/", {"page_size": 2})[1][4]["next"]
    with CaptureQueriesContext(connection) as captured:
        response = client.get("/api/v1/cards/", _query(deep))
    assert response.status_code == 200
    assert len(captured) == 4  # token, roles, the page, its actions
    page_sql = next(q["sql"] for q in captured.captured_queries if "challengecard" in q["sql"])
    assert "OFFSET" not in page_sql.upper() and "COUNT(" not in page_sql.upper()
    assert "LIMIT 3" in page_sql  # the page and one more row, which says there is a next page
    assert len(response.json()["results"]) == 2 and first["count"] == many_cards.count()


def test_a_page_number_still_answers_with_its_total_and_links_on_by_cursor(world, many_cards):
    client = client_for(world["users"]["omb_admin"])
    body = client.get("/api/v1/cards/", {"page": 3, "page_size": 2}).json()
    expected = list(many_cards.order_by("due_date", "id").values_list("id", flat=True))
    assert [row["id"] for row in body["results"]] == expected[4:6]
    assert body["count"] == len(expected)
    assert _query(body["previous"]) == {"page": "2", "page_size": "2"}
    following = client.get("/api/v1/cards/", _query(body["next"])).json()
    assert [row["id"] for row in following["results"]] == expected[6:8]


def test_titles_of_200_non_ascii_characters_walk_by_title_to_the_end(world):
    titles = ["\u00e9" * 200, "\u4e2d" * 200, "\U0001f600" * 200]  # é, 中 and an emoji: 2, 3 and 4 bytes each
    for title in titles:
        factories.ChallengeCardFactory(
            agency=world["agency"], meeting=world["meeting"], priority=world["priority"], title=title
        )
    client = client_for(world["users"]["omb_admin"])
    ids, bodies = _walk(client, "/api/v1/cards/", {"page_size": 1, "ordering": "title"})
    assert ids == list(ChallengeCard.objects.order_by("title", "id").values_list("id", flat=True))
    assert set(titles) <= {row["title"] for body in bodies for row in body["results"]}


def test_cursor_pages_keep_the_callers_scope(world, many_cards):
    """The kept SQL of a cursor page (its key in slots) never serves one agency's rows to another."""
    own = set(many_cards.filter(agency=world["agency"]).values_list("id", flat=True))
    for role, expected in (("deputy", own), ("omb_admin", set(many_cards.values_list("id", flat=True)))):
        ids, _ = _walk(client_for(world["users"][role]), "/api/v1/cards/", {"page_size": 2})
        assert set(ids) == expected and len(ids) == len(expected), role


def _cursor(values, order=("due_date", "id"), model=ChallengeCard, backwards=False) -> str:
    return Position(tuple(order), tuple(values), backwards).token(model)


@pytest.mark.parametrize(
    "query",
    [
        {"cursor": "not-a-cursor"},
        {"cursor": "x" * 5000},
        {"cursor": "tampered"},
        {"cursor": "made for meetings"},
        {"cursor": "another ordering"},
        {"cursor": "a page's link"},
        {"cursor": "tampered", "page": "1"},  # a cursor comes first: page is ignored
    ],
)
def test_a_bad_cursor_is_a_404_problem_as_a_page_past_the_end(world, many_cards, query):
    """Not a 400: a cursor is opaque, so the schema cannot tell a good one from a bad one, and a request
    the schema allows is never a 400 (tests/api/test_schemathesis.py)."""
    good = _cursor([datetime.date(2026, 12, 1), 1])
    made = {
        "tampered": good[:10] + ("A" if good[10] != "A" else "B") + good[11:],
        "made for meetings": _cursor([datetime.date(2026, 12, 1), 1], model=Meeting),
        "another ordering": _cursor(["zeta", 1], order=("title", "id")),
        # the card list page's Next link: the API's order and a key, and the page's number (not the API's kind)
        "a page's link": Position(("due_date", "id"), (datetime.date(2026, 12, 1), 1), number=2).token(ChallengeCard),
    }
    query = {name: made.get(value, value) for name, value in query.items()}
    body = assert_problem(client_for(world["users"]["omb_admin"]).get("/api/v1/cards/", query), 404)
    assert "cursor" in body["detail"]


def test_an_empty_cursor_is_the_page_by_number_and_a_cursor_comes_before_a_page_number(world, many_cards):
    client = client_for(world["users"]["omb_admin"])
    expected = list(many_cards.order_by("due_date", "id").values_list("id", flat=True))
    by_number = client.get("/api/v1/cards/", {"cursor": "", "page": 2, "page_size": 2}).json()
    assert [row["id"] for row in by_number["results"]] == expected[2:4] and by_number["count"] == len(expected)
    after = _query(by_number["next"])["cursor"]
    both = client.get("/api/v1/cards/", {"cursor": after, "page": 6, "page_size": 2}).json()
    assert [row["id"] for row in both["results"]] == expected[4:6] and "count" not in both


def test_other_lists_walk_by_cursor_and_a_list_ordered_by_a_field_that_may_be_empty_keeps_page_numbers(world):
    factories.MeetingFactory.create_batch(4)
    client = client_for(world["users"]["omb_admin"])
    ids, bodies = _walk(client, "/api/v1/meetings/", {"page_size": 2})
    assert ids == list(Meeting.objects.order_by("starts_at", "id").values_list("id", flat=True))
    assert "cursor" in _query(bodies[0]["next"])

    factories.FollowUpActionFactory.create_batch(3, card=world["own_card"])
    actions = client.get("/api/v1/actions/", {"page_size": 2}).json()  # due_date may be NULL: no keyset
    assert _query(actions["next"]) == {"page": "2", "page_size": "2"}
    assert_problem(client.get("/api/v1/actions/", {"cursor": _cursor([datetime.date(2026, 1, 1), 1])}), 404)


def test_the_schema_documents_the_cursor_and_a_count_only_on_numbered_pages(world):
    schema = client_for(world["users"]["omb_admin"]).get("/api/v1/schema/", {"format": "json"}).json()
    parameters = {p["name"]: p for p in schema["paths"]["/api/v1/cards/"]["get"]["parameters"]}
    assert parameters["cursor"]["schema"]["type"] == "string"
    page = schema["components"]["schemas"]["PaginatedChallengeCardList"]
    assert "count" not in page["required"] and "next" in page["required"]


def test_walking_back_past_the_first_row_links_on_to_the_first_page(world, many_cards):
    """A cursor before the first row (say the rows before it were deleted) gives an empty page whose `next`
    is the first page, so the walk can go on."""
    client = client_for(world["users"]["omb_admin"])
    first_page = client.get("/api/v1/cards/", {"page_size": 3}).json()
    first = ChallengeCard.objects.get(pk=first_page["results"][0]["id"])
    cursor = _cursor([first.due_date, first.pk], backwards=True)
    body = client.get("/api/v1/cards/", {"cursor": cursor, "page_size": 3}).json()
    assert (body["results"], body["previous"]) == ([], None)
    assert client.get("/api/v1/cards/", _query(body["next"])).json()["results"] == first_page["results"]
