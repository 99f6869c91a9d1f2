"""The API's card list gives the current cards by default: carried-over (superseded) cards only when asked."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from challenge_cards import services
from tests import factories

pytestmark = pytest.mark.django_db


def test_status_lists_leave_out_superseded_cards_unless_asked(admin_user, deputy, agency, priority):
    past = factories.MeetingFactory(starts_at=timezone.now() - datetime.timedelta(days=20), status="held")
    factories.MeetingFactory(starts_at=timezone.now() + datetime.timedelta(days=10))
    old = factories.ChallengeCardFactory(agency=agency, meeting=past, priority=priority, status="in_progress")
    successor = services.card_carry_over(
        actor=admin_user,
        card=old,
        expected_version=None,
        reason="Another month",
        due_date=timezone.localdate() + datetime.timedelta(days=40),
    )
    client = APIClient()
    client.force_authenticate(deputy)

    def ids(**params):
        return [card["id"] for card in client.get("/api/v1/cards/", params).json()["results"]]

    assert ids(status="in_progress") == [successor.pk]
    assert ids() == [successor.pk]
    assert ids(disposition="carried_over") == [old.pk]
    assert sorted(ids(disposition=["open", "carried_over"])) == sorted([old.pk, successor.pk])
    since = (timezone.now() - datetime.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert sorted(ids(updated_since=since)) == sorted([old.pk, successor.pk])  # a sync sees the carry-over
