"""The list filters agency tools use: overdue means the same as on the pages (querysets.overdue)."""

import datetime

import django_filters
from django.urls import get_resolver
from django.utils import timezone

from challenge_cards.models import ActionStatus, CardStatus, Disposition
from core.api.filtering import PLAIN_LIST_PARAMS
from tests import factories
from tests.api.conftest import client_for


def _ids(response) -> set[int]:
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


def test_overdue_cards_are_open_not_done_and_past_due(world, admin_user):
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    card_kwargs = {"agency": world["agency"], "meeting": world["meeting"], "priority": world["priority"]}
    late = factories.ChallengeCardFactory(due_date=yesterday, **card_kwargs)
    factories.ChallengeCardFactory(due_date=yesterday, status=CardStatus.DONE, **card_kwargs)
    factories.ChallengeCardFactory(
        due_date=yesterday, disposition=Disposition.DROPPED, disposition_reason="Superseded.", **card_kwargs
    )
    client = client_for(admin_user)

    assert _ids(client.get("/api/v1/cards/", {"overdue": "true"})) == {late.pk}
    not_overdue = _ids(client.get("/api/v1/cards/", {"overdue": "false"}))
    assert late.pk not in not_overdue
    assert world["own_card"].pk in not_overdue


def test_overdue_actions_are_open_and_past_due(world, admin_user):
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    late = factories.FollowUpActionFactory(card=world["own_card"], due_date=yesterday)
    factories.FollowUpActionFactory(
        card=world["own_card"], due_date=yesterday, status=ActionStatus.DONE, completed_at=timezone.now()
    )
    client = client_for(admin_user)

    assert _ids(client.get("/api/v1/actions/", {"overdue": "true"})) == {late.pk}
    assert late.pk not in _ids(client.get("/api/v1/actions/", {"overdue": "false"}))


def test_no_filterset_declares_a_name_pagination_search_or_ordering_reads():
    """A request with only these is a plain list: django-filter is skipped and the card list's SQL kept."""
    get_resolver().url_patterns  # noqa: B018 - every API module (and its FilterSets) imported
    pending, filtersets = [django_filters.FilterSet], []
    while pending:
        subclasses = pending.pop().__subclasses__()
        filtersets += subclasses
        pending += subclasses
    assert len(filtersets) >= 3
    clashes = {filterset.__name__: set(filterset.base_filters) & PLAIN_LIST_PARAMS for filterset in filtersets}
    assert clashes == {filterset.__name__: set() for filterset in filtersets}
