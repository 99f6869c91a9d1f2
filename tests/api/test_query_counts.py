"""Every list endpoint costs the same number of SQL queries for 1, 50 and 200 items."""

from __future__ import annotations

import pytest

from challenge_cards.models import ActionStatus
from tests import factories
from tests.api.conftest import client_for

SIZES = [1, 50, 200]

# Token lookup, roles (OMB role, memberships, sub-agencies; agencies need none), then count + page;
# card history also loads the card.
EXPECTED_QUERIES = {
    "cards": 6,
    "actions": 6,
    "meetings": 6,
    "agencies": 3,
    "card history": 7,
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
