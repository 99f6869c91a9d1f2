"""'Due before the next meeting': the deputy's and delegate's home, the API (/api/v1/me/due/), one rule."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.urls import path, resolve, reverse
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from challenge_cards import selectors
from challenge_cards.api.due import MeDueView
from challenge_cards.models import ActionStatus, CardStatus, Disposition, Meeting
from tests import factories

from .briefing_world import NOW, at

pytestmark = pytest.mark.django_db
TODAY = NOW.date()  # November 25, 2026; the next meeting is December 8


@pytest.fixture(autouse=True)
def now():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def due_world(agency, other_agency, deputy, delegate, other_deputy, priority):
    november = Meeting.objects.create(starts_at=at(11, 10), status=Meeting.Status.HELD)
    december = Meeting.objects.create(starts_at=at(12, 8))

    def card(title, due, **extra):
        extra.setdefault("agency", agency)
        return factories.ChallengeCardFactory(meeting=november, priority=priority, title=title, due_date=due, **extra)

    soon = card("Name a CX lead", datetime.date(2026, 12, 4))
    year = card("Hire 400 data scientists", datetime.date(2027, 11, 10), horizon="year")
    card("Publish the plan", datetime.date(2026, 12, 1), status=CardStatus.DONE)
    card("Dropped ask", datetime.date(2026, 12, 2), disposition=Disposition.DROPPED, disposition_reason="Moot")
    card("Overdue ask", datetime.date(2026, 11, 20))
    card("Labor's card", datetime.date(2026, 11, 30), agency=other_agency)
    in_three = factories.FollowUpActionFactory(card=year, description="Post the job", due_date=TODAY.replace(day=28))
    in_six = factories.FollowUpActionFactory(card=year, description="Interview", due_date=datetime.date(2026, 12, 1))
    factories.FollowUpActionFactory(card=year, description="Onboard", due_date=datetime.date(2027, 1, 5))
    factories.FollowUpActionFactory(
        card=year,
        description="Done already",
        due_date=datetime.date(2026, 11, 27),
        status=ActionStatus.DONE,
        completed_at=NOW,
    )
    return {"december": december, "soon": soon, "in_three": in_three, "in_six": in_six}


def test_cards_and_actions_due_by_the_next_meeting_soonest_first_with_days_left(due_world, deputy):
    items = selectors.due_before_next_meeting(deputy, due_world["december"])
    assert [(item.kind, item.title, item.days_left) for item in items] == [
        ("action", "Post the job", 3),
        ("action", "Interview", 6),
        ("card", "Name a CX lead", 9),
    ]


@pytest.mark.parametrize("who", ["deputy", "delegate"])
def test_the_home_page_shows_what_is_due_before_the_next_meeting(due_world, client, request, who):
    client.force_login(request.getfixturevalue(who))
    html = client.get(reverse("challenge_cards:home")).content.decode()
    section = html[
        html.index('data-testid="due-soon"') : html.index("</section>", html.index('data-testid="due-soon"'))
    ]
    assert "Due before the next meeting" in section
    assert section.index("Post the job") < section.index("Interview") < section.index("Name a CX lead")
    assert '<td data-label="Days left" data-testid="days-left">3 days</td>' in section
    assert "Labor&#x27;s card" not in section and "Onboard" not in section and "Publish the plan" not in section


def test_the_api_lists_the_same_items_and_documents_them(due_world, deputy, other_deputy):
    client = APIClient()
    client.force_authenticate(deputy)
    body = client.get("/api/v1/me/due/").json()
    assert body["next_meeting"]["id"] == due_world["december"].pk
    assert body["as_of"] == "2026-11-25"
    assert [(item["kind"], item["id"], item["days_left"]) for item in body["items"]] == [
        ("action", due_world["in_three"].pk, 3),
        ("action", due_world["in_six"].pk, 6),
        ("card", due_world["soon"].pk, 9),
    ]
    client.force_authenticate(other_deputy)
    assert [item["title"] for item in client.get("/api/v1/me/due/").json()["items"]] == ["Labor's card"]
    assert resolve("/api/v1/me/due/").func.view_class is MeDueView
    schema = SchemaGenerator(patterns=[path("api/v1/me/due/", MeDueView.as_view())]).get_schema(public=True)
    operation = schema["paths"]["/api/v1/me/due/"]["get"]
    assert operation["operationId"] == "me_due_retrieve"
    documented = schema["components"]["schemas"]["DueItem"]["properties"]
    assert {"kind", "id", "title", "due_date", "days_left", "card_id", "agency"} <= set(documented)
