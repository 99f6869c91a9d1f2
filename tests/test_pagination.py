"""core.pagination: page_of, the page views' pages with their total in one query, equal to Django's Paginator;
the cursors of the pages' and the API's links."""

import pytest
from django.core import signing
from django.core.paginator import Paginator
from django.db.models import F

from agencies.models import Agency
from challenge_cards import selectors
from challenge_cards.models import ChallengeCard
from core.pagination import MAX_CURSOR, BadCursor, Position, page_of
from tests import factories


@pytest.fixture
def cards(agency, other_agency, meeting, priority):
    for i in range(23):
        factories.ChallengeCardFactory(
            agency=agency if i % 3 else other_agency,
            meeting=meeting,
            priority=priority,
            status=["not_started", "at_risk", "done"][i % 3],
        )


@pytest.mark.parametrize(
    "number", [None, "", "1", "2", "3", "5", "99", "0", "-1", "two", "99999999999999999999", "1e3"]
)
def test_a_page_equals_djangos_paginator_for_any_page_number(cards, admin_user, number):
    queryset = selectors.review_board(admin_user, None)
    expected = Paginator(queryset, 5).get_page(number)
    page = page_of(queryset, number, 5)
    assert [card.pk for card in page.object_list] == [card.pk for card in expected.object_list]
    assert (page.number, page.paginator.count, page.paginator.num_pages) == (
        expected.number,
        expected.paginator.count,
        expected.paginator.num_pages,
    )


def test_a_page_and_its_total_are_one_query_and_rows_keep_their_annotations(
    cards, admin_user, django_assert_num_queries
):
    queryset = ChallengeCard.objects.annotate(doubled=F("id") * 2).order_by("-id")
    with django_assert_num_queries(1):
        page = page_of(queryset, "2", 10)
        rows = list(page.object_list)
        assert page.paginator.count == 23
    assert [card.pk for card in rows] == list(queryset.values_list("pk", flat=True)[10:20])
    assert all(card.doubled == card.pk * 2 for card in rows)


def test_nothing_at_all_is_an_empty_first_page_in_one_query(db, django_assert_num_queries):
    with django_assert_num_queries(1):
        page = page_of(ChallengeCard.objects.order_by("id"), None, 10)
        assert (list(page.object_list), page.number, page.paginator.count) == ([], 1, 0)


# --- cursors --------------------------------------------------------------------------------------------------

# The salt the API's links were first signed with: a cursor in use must stay good.
SIGNER = signing.Signer(salt="core.api.pagination.cursor:challenge_cards.ChallengeCard")


@pytest.mark.parametrize(("model", "order"), [(ChallengeCard, ("title", "id")), (Agency, ("name", "id"))])
@pytest.mark.parametrize("character", ["a", "é", "中", "😀", "\x01"])
def test_the_longest_key_of_any_text_makes_a_cursor_that_is_read_back(model, order, character):
    text = character * model._meta.get_field(order[0]).max_length
    made = Position(order, (text, 2**63 - 1), backwards=True, number=2**31)
    token = made.token(model)
    assert len(token) <= MAX_CURSOR
    assert Position.of(token, model, order, numbered=True) == made


def test_a_cursor_with_an_escaped_text_made_before_is_still_read():
    """Cursors were JSON with non-ASCII text as escapes; those links still work."""
    token = SIGNER.sign_object([["title", "id"], ["Caf\u00e9 wait times", 7], 0])
    assert "Caf\\u00e9" in signing.b64_decode(token.split(":")[0].encode()).decode()
    assert Position.of(token, ChallengeCard, ("title", "id")).values == ("Café wait times", 7)


ORDER = ["-issued_at", "-id"]
KEY = ["2026-11-30T12:00:00+00:00", 5]


@pytest.mark.parametrize(
    ("made", "numbered"),
    [
        ([ORDER, KEY, 0], True),  # an API cursor where a page's link is expected
        ([ORDER, KEY, 0, 2], False),  # a page's link where an API cursor is expected
        ([ORDER, KEY, 2, 2], True),  # the way is 0 or 1
        ([ORDER, KEY, True, 2], True),  # ... as a number
        ([ORDER, KEY, 0, 0], True),  # pages count from 1
        ([ORDER, KEY, 0, "2"], True),
        ([ORDER, KEY, 0, True], True),
        ([ORDER, {"issued_at": KEY[0]}, 0], False),
        ([ORDER, KEY[:1], 0], False),  # a key of the wrong length
        ([ORDER, ["not a time", 5], 0], False),
        (["-issued_at,-id", KEY, 0], False),
        ([[1, 2], KEY, 0], False),
        ({"order": ORDER}, False),
        ("a cursor", False),
    ],
)
def test_a_signed_cursor_of_another_shape_is_refused(made, numbered):
    with pytest.raises(BadCursor):
        Position.of(SIGNER.sign_object(made), ChallengeCard, tuple(ORDER), numbered=numbered)
    assert Position.of(SIGNER.sign_object([ORDER, KEY, 0, 2]), ChallengeCard, tuple(ORDER), numbered=True).number == 2
