"""Fixtures for the page tests: signed-in clients for each role."""

import pytest

from tests import factories


@pytest.fixture
def client_for(client):
    def sign_in(user):
        client.force_login(user)
        return client

    return sign_in


@pytest.fixture
def viewer(agency):
    return factories.viewer_of(agency, user__username="viewer.treas")


@pytest.fixture
def past_meeting(db):
    import datetime

    from django.utils import timezone

    return factories.MeetingFactory(starts_at=timezone.now() - datetime.timedelta(days=20), status="held")
