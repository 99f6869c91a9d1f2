"""page_of: the page views' pages, read with their total in one query, equal to Django's Paginator."""

import pytest
from django.core.paginator import Paginator
from django.db.models import F

from challenge_cards import selectors
from challenge_cards.models import ChallengeCard
from core.pagination import page_of
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
