"""The hand-written card and action output (card_output, action_output) equals DRF's own fields.

The serializers declare every field for the schema; these tests serialize the same objects the
generic DRF way (ModelSerializer.to_representation, field by field) and compare, through the
list, the detail and the action endpoints, so the fast path can never drift from the schema.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.utils import timezone
from rest_framework import serializers

from challenge_cards.api.serializers import ChallengeCardSerializer, FollowUpActionSerializer
from challenge_cards.models import ActionOwnerSide, ActionStatus, CardStatus, ChallengeCard, Rating
from tests import factories
from tests.api.conftest import client_for


def _drf_action(action) -> dict:
    return serializers.ModelSerializer.to_representation(FollowUpActionSerializer(), action)


def _drf_card(card: ChallengeCard) -> dict:
    """DRF's field-by-field output, the nested actions each the DRF way too."""
    serializer = ChallengeCardSerializer()
    serializer.fields.pop("actions")
    data = dict(serializers.ModelSerializer.to_representation(serializer, card))
    data["actions"] = [_drf_action(action) for action in card.actions.select_related("owner", "card")]
    return data


def _varied_card(world) -> ChallengeCard:
    """A card exercising every kind of value: decimals, nulls, ratings, a past due date, owners by name and account."""
    card = world["own_card"]
    card.metric_baseline = Decimal("12.5")
    card.metric_value = Decimal("0")
    card.agency_rating = Rating.GREEN
    card.status = CardStatus.IN_PROGRESS
    card.due_date = timezone.localdate() - datetime.timedelta(days=3)
    card.last_agency_update_at = timezone.now().replace(microsecond=123456)
    card.save()
    owner = world["users"]["delegate"]
    factories.FollowUpActionFactory(card=card, owner=owner, owned_by=ActionOwnerSide.AGENCY, due_date=None)
    factories.FollowUpActionFactory(
        card=card, owner=world["users"]["omb_admin"], owned_by=ActionOwnerSide.OMB, due_date=card.due_date
    )
    factories.FollowUpActionFactory(
        card=card, owner_name="", status=ActionStatus.DONE, completed_at=timezone.now(), due_date=card.due_date
    )
    factories.FollowUpActionFactory(card=card, status=ActionStatus.DROPPED, dropped_reason="Superseded.")
    return ChallengeCard.objects.get(pk=card.pk)


def test_card_list_and_detail_equal_drf_fields(world):
    card = _varied_card(world)
    expected = _drf_card(card)
    assert len(expected["actions"]) == 5
    client = client_for(world["users"]["deputy"])
    listed = {row["id"]: row for row in client.get("/api/v1/cards/").json()["results"]}
    assert listed[card.pk] == expected
    assert client.get(f"/api/v1/cards/{card.pk}/").json() == expected


def test_action_endpoint_equals_drf_fields(world):
    card = _varied_card(world)
    client = client_for(world["users"]["omb_admin"])
    for action in card.actions.select_related("owner", "card"):
        assert client.get(f"/api/v1/actions/{action.pk}/").json() == _drf_action(action)
    listed = client.get("/api/v1/actions/", {"page_size": 200}).json()["results"]
    assert [row for row in listed if row["card"] == card.pk] == [
        _drf_action(action) for action in card.actions.select_related("owner", "card").order_by("due_date", "id")
    ]


def test_rendered_bytes_match_drf_json(world):
    """The orjson renderer writes what DRF's JSONRenderer would, byte for byte, for a card page."""
    from rest_framework.renderers import JSONRenderer

    card = _varied_card(world)
    card.title = "Hire \u2028 data scientists — ü"
    card.save()
    response = client_for(world["users"]["deputy"]).get("/api/v1/cards/")
    assert response.content == JSONRenderer().render(response.json())
    assert b"\\u2028" in response.content
