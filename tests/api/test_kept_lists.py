"""The card list keeps its queryset per who asks (their roles), search and ordering: built once, never
shown to someone with other roles, and never kept for a filtered list."""

from __future__ import annotations

import pytest

from challenge_cards.api import views
from challenge_cards.api.views import ChallengeCardViewSet
from core.api.filtering import KeptLists
from tests import factories

from .conftest import client_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def builds(monkeypatch):
    """How many times the card list built its queryset (nothing kept from earlier tests)."""
    monkeypatch.setattr(views, "_LISTS", KeptLists())
    built = []
    original = ChallengeCardViewSet.get_queryset

    def counted(view):
        built.append(view.request.query_params.urlencode())
        return original(view)

    monkeypatch.setattr(ChallengeCardViewSet, "get_queryset", counted)
    return built


def _ids(client, query: str = "") -> list[int]:
    response = client.get(f"/api/v1/cards/{query}")
    assert response.status_code == 200, response.content
    return [card["id"] for card in response.json()["results"]]


def test_the_list_is_built_once_for_the_same_roles_search_and_ordering(world, builds):
    client = client_for(world["users"]["deputy"])
    first = _ids(client, "?search=")
    assert _ids(client, "?search=") == first
    assert _ids(client, "?search=&page_size=1") == first[:1]  # the page is not part of what is kept
    assert len(builds) == 1
    _ids(client, "?search=nothing-matches-this")
    _ids(client, "?search=&ordering=-title")
    assert len(builds) == 3


def test_a_filtered_list_is_built_for_each_request(world, builds):
    client = client_for(world["users"]["deputy"])
    assert _ids(client, "?status=not_started&search=") == _ids(client, "?status=not_started&search=")
    assert len(builds) == 2


def test_a_kept_list_is_never_shown_to_someone_with_other_roles(world, builds):
    own, other = world["own_card"], world["other_card"]
    query = "?search=&ordering=-id"
    assert {own.pk, other.pk} <= set(_ids(client_for(world["users"]["omb_admin"]), query))
    assert _ids(client_for(world["users"]["deputy"]), query) == [own.pk]
    assert _ids(client_for(world["users"]["other_deputy"]), query) == [other.pk]
    assert _ids(client_for(world["users"]["agency_viewer"]), query) == [own.pk]
    # Someone else with the same roles (a second viewer of the agency) shares the first viewer's list.
    second = factories.viewer_of(world["agency"], user__username="second.viewer")
    assert _ids(client_for(second), query) == [own.pk]
    assert len(builds) == 4


def test_a_bad_value_is_refused_even_when_the_list_it_would_read_is_kept(world, builds):
    """The key reads only the last ?search=; every value is still checked, kept list or not."""
    client = client_for(world["users"]["deputy"])
    _ids(client, "?search=x")
    for query in ("?search=%00&search=x", "?page=%00&page=1&search=x", "?ordering=%00&search=x"):
        response = client.get(f"/api/v1/cards/{query}")
        assert response.status_code == 400, (query, response.content)
    assert len(builds) == 1
