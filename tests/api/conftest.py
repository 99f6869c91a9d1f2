"""Fixtures for API tests: a small world of two agencies, and clients signed in with a token."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from agencies.tokens import token_create
from tests import factories


@pytest.fixture(autouse=True)
def generous_throttle(settings):
    """API tests make many requests; the throttling test sets its own low rate."""
    settings.API_THROTTLE_RATE = settings.API_USER_THROTTLE_RATE = "100000/hour"


def client_for(user) -> APIClient:
    client = APIClient()
    if user is not None:
        _token, raw = token_create(user=user, name="test tool")
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


@pytest.fixture
def api_client_for():
    return client_for


@pytest.fixture
def world(agency, other_agency, deputy, delegate, other_deputy, admin_user, omb_viewer_user, meeting, priority):
    """Who is who, and one card with one open action in each agency."""
    agency_viewer = factories.viewer_of(agency, user__username="viewer.treas")
    own_card = factories.ChallengeCardFactory(
        agency=agency, issued_to=deputy, meeting=meeting, priority=priority, metric_name="Hires", metric_target=400
    )
    other_card = factories.ChallengeCardFactory(agency=other_agency, meeting=meeting, priority=priority)
    return {
        "agency": agency,
        "other_agency": other_agency,
        "meeting": meeting,
        "priority": priority,
        "users": {
            "omb_admin": admin_user,
            "omb_viewer": omb_viewer_user,
            "deputy": deputy,
            "delegate": delegate,
            "agency_viewer": agency_viewer,
            "other_deputy": other_deputy,
            "anonymous": None,
        },
        "own_card": own_card,
        "other_card": other_card,
        "own_action": factories.FollowUpActionFactory(card=own_card),
        "other_action": factories.FollowUpActionFactory(card=other_card),
    }
