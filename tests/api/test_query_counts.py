"""Every list endpoint costs the same number of SQL queries for 1, 50 and 200 items."""

from __future__ import annotations

import pytest

from challenge_cards.models import ActionStatus
from tests import factories
from tests.api.conftest import client_for

SIZES = [1, 50, 200]

# Token lookup, roles (one UNION query; agencies need none), then count + page
# (cards: the page with its count, then the nested actions);
# card history also loads the card.
EXPECTED_QUERIES = {
    "cards": 4,  # token, roles (one query), the page with its count, its actions
    "actions": 4,
    "meetings": 4,
    "agencies": 3,
    "card history": 5,
}


def _populate(kind: str, n: int, world) -> tuple[str, dict[str, str]]:
    agency, meeting, priority = world["agency"], world["meeting"], world["priority"]
    deputy = world["users"]["deputy"]
    if kind == "cards":
        factories.ChallengeCardFactory.create_batch(n - 1, agency=agency, meeting=meeting, priority=priority)
        return "/api/v1/cards/", {}
    if kind == "actions":
        owner = world["users"]["delegate"]
        factories.FollowUpActionFactory.create_batch(
            n - 1, card=world["own_card"], owner=owner, status=ActionStatus.OPEN
        )
        return "/api/v1/actions/", {}
    if kind == "meetings":
        factories.MeetingFactory.create_batch(n - 1)
        return "/api/v1/meetings/", {}
    if kind == "agencies":
        factories.AgencyFactory.create_batch(n, cfo_act=False)
        return "/api/v1/agencies/", {"cfo_act": "false"}
    factories.CardUpdateFactory.create_batch(n, card=world["own_card"], author=deputy, on_behalf_of=deputy)
    return f"/api/v1/cards/{world['own_card'].pk}/updates/", {}


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("kind", list(EXPECTED_QUERIES))
def test_list_queries_do_not_grow_with_the_number_of_items(world, django_assert_num_queries, kind, size):
    path, params = _populate(kind, size, world)
    client = client_for(world["users"]["deputy"])
    client.get("/api/v1/me/")  # records the token's first use, so the measured request writes nothing
    with django_assert_num_queries(EXPECTED_QUERIES[kind]):
        response = client.get(path, {**params, "page_size": 200})
    assert response.status_code == 200
    assert len(response.json()["results"]) == size


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("who", ["deputy", "omb_admin"])
def test_card_list_with_nested_actions_stays_constant(world, django_assert_num_queries, who, size):
    """Each card nests its actions (with owners, some by account) and the list still costs the same."""
    agency, meeting, priority = world["agency"], world["meeting"], world["priority"]
    cards = [
        world["own_card"],
        *factories.ChallengeCardFactory.create_batch(size - 1, agency=agency, meeting=meeting, priority=priority),
    ]
    owner = world["users"]["delegate"]
    for card in cards:
        factories.FollowUpActionFactory.create_batch(2, card=card, owner=owner)
        factories.FollowUpActionFactory(card=card, status=ActionStatus.OPEN)
    client = client_for(world["users"][who])
    client.get("/api/v1/me/")
    # Token, roles (OMB role, memberships, sub-agencies for agency people), the page with its count, the actions.
    with django_assert_num_queries(4):
        response = client.get("/api/v1/cards/", {"page_size": 200, "agency": agency.pk})
    assert response.status_code == 200
    assert response.json()["count"] == size
    results = {card["id"]: card for card in response.json()["results"]}
    for card in cards:
        expected = list(card.actions.order_by("due_date", "id").values_list("id", flat=True))
        assert [action["id"] for action in results[card.pk]["actions"]] == expected
        assert len(expected) == (4 if card == world["own_card"] else 3)


@pytest.mark.parametrize("who", ["deputy", "omb_admin"])
def test_card_detail_costs_four_queries_whatever_its_number_of_actions(world, django_assert_num_queries, who):
    """Token, roles, the card, its actions: read as rows, with SQL built once per who asks (and checked
    again each time with the card's own id, so a kept SQL never answers another card)."""
    card, other = world["own_card"], factories.ChallengeCardFactory(agency=world["agency"])
    factories.FollowUpActionFactory.create_batch(20, card=card, owner=world["users"]["delegate"])
    client = client_for(world["users"][who])
    client.get("/api/v1/me/")
    for shown in (card, other, card):
        with django_assert_num_queries(4):
            response = client.get(f"/api/v1/cards/{shown.pk}/")
        assert response.status_code == 200
        assert response.json()["id"] == shown.pk
        assert len(response.json()["actions"]) == (21 if shown == card else 0)


def test_another_agencys_card_is_a_404_after_the_same_reads_and_no_more(world, django_assert_num_queries):
    client = client_for(world["users"]["deputy"])
    client.get("/api/v1/me/")
    # Token, roles, the card (not visible: its actions are not read); the audit row of the refusal (in its
    # own transaction: BEGIN, INSERT, COMMIT).
    with django_assert_num_queries(6):
        response = client.get(f"/api/v1/cards/{world['other_card'].pk}/")
    assert response.status_code == 404
    assert client.get(f"/api/v1/cards/{world['own_card'].pk}/").status_code == 200
