"""What an API request does not do: work that costs every request and changes nothing in its answer."""

from __future__ import annotations

import json

import pytest
from rest_framework.renderers import JSONRenderer

from challenge_cards.api.serializers import ChallengeCardSerializer
from tests.api.conftest import client_for
from tests.api.test_card_output import _shapes


@pytest.mark.parametrize("zone", ["America/New_York", "Asia/Kolkata"])
def test_a_card_instance_is_written_as_the_detail_rows_are_without_building_serializer_fields(world, settings, zone):
    """A write's answer serializes instances; the detail reads rows. Both give the same bytes, and the instance
    path never builds the ModelSerializer's fields (built anew per instance, they cost more than the output)."""
    settings.TIME_ZONE = zone
    client = client_for(world["users"]["deputy"])
    for card in _shapes(world):
        serializer = ChallengeCardSerializer(card)
        written = JSONRenderer().render(serializer.data)
        assert "fields" not in serializer.__dict__
        assert json.loads(written) == client.get(f"/api/v1/cards/{card.pk}/").json()
