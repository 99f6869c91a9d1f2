"""Closing a meeting: refused while a card issued there has no decision; carried-over cards on the next agenda."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from challenge_cards import services
from challenge_cards.models import Meeting
from tests import factories

from .briefing_world import NOW, at

pytestmark = pytest.mark.django_db


@pytest.fixture
def held(agency, other_agency, deputy, priority):
    meeting = Meeting.objects.create(starts_at=at(11, 10))
    following = Meeting.objects.create(starts_at=at(12, 8))
    cards = [
        factories.ChallengeCardFactory(meeting=meeting, agency=agency, priority=priority, title="Hire data scientists"),
        factories.ChallengeCardFactory(meeting=meeting, agency=agency, priority=priority, title="Open a CX office"),
        factories.ChallengeCardFactory(
            meeting=meeting, agency=other_agency, priority=priority, title="Close out grants"
        ),
    ]
    return {"meeting": meeting, "following": following, "cards": cards}


@pytest.fixture(autouse=True)
def now():
    with time_machine.travel(NOW, tick=False):
        yield


def test_closing_is_refused_with_the_list_of_cards_that_have_no_decision(held, admin_user):
    hire, office, grants = held["cards"]
    services.card_review(actor=admin_user, card=hire, expected_version=None, disposition="accepted")
    with pytest.raises(ValidationError) as error:
        services.meeting_close(actor=admin_user, meeting=held["meeting"])
    messages = error.value.message_dict["cards"]
    assert len(messages) == 2
    assert messages[0].startswith("DOL: Close out grants") and messages[1].startswith("TREAS: Open a CX office")
    held["meeting"].refresh_from_db()
    assert held["meeting"].closed_at is None and held["meeting"].status == "scheduled"


def test_closing_succeeds_once_every_card_is_accepted_carried_over_or_dropped(held, admin_user):
    hire, office, grants = held["cards"]
    services.card_review(actor=admin_user, card=hire, expected_version=None, disposition="accepted")
    services.card_carry_over(
        actor=admin_user,
        card=office,
        expected_version=None,
        reason="The lease is not signed",
        due_date=datetime.date(2027, 1, 12),
    )
    services.card_review(
        actor=admin_user, card=grants, expected_version=None, disposition="dropped", reason="Done elsewhere"
    )
    meeting = services.meeting_close(actor=admin_user, meeting=held["meeting"])
    assert meeting.status == Meeting.Status.HELD and meeting.closed_at == NOW
    with pytest.raises(ValidationError, match="already closed"):
        services.meeting_close(actor=admin_user, meeting=meeting)


def test_only_omb_admins_close_and_not_before_the_meeting(held, admin_user, deputy, omb_viewer_user):
    for user in (deputy, omb_viewer_user):
        with pytest.raises(PermissionDenied):
            services.meeting_close(actor=user, meeting=held["meeting"])
    with pytest.raises(ValidationError, match="once it has started"):
        services.meeting_close(actor=admin_user, meeting=held["following"])


def test_the_close_out_page_lists_the_cards_and_refuses(held, admin_user, deputy, client):
    url = reverse("challenge_cards:meeting_close", args=[held["meeting"].pk])
    client.force_login(deputy)
    assert client.get(url).status_code == 403
    client.force_login(admin_user)
    page = client.get(url).content.decode()
    for card in held["cards"]:  # was: a link to each card's review page; now a decision form in place
        assert reverse("challenge_cards:closeout_decide", args=[held["meeting"].pk, card.pk]) in page
    response = client.post(url)
    assert response.status_code == 400
    assert "The meeting is not closed" in response.content.decode()
    assert "TREAS: Hire data scientists" in response.content.decode()
    for card in held["cards"]:
        services.card_review(actor=admin_user, card=card, expected_version=None, disposition="accepted")
    response = client.post(url)
    assert response.status_code == 302
    held["meeting"].refresh_from_db()
    assert held["meeting"].closed_at is not None


def test_carried_over_cards_appear_on_the_next_meetings_agenda_with_their_count(held, admin_user, deputy, client):
    office = held["cards"][1]
    successor = services.card_carry_over(
        actor=admin_user, card=office, expected_version=None, reason="Lease", to_meeting=held["following"]
    )
    later = Meeting.objects.create(starts_at=at(1, 12).replace(year=2027))
    again = services.card_carry_over(
        actor=admin_user, card=successor, expected_version=None, reason="Still no lease", to_meeting=later
    )
    client.force_login(deputy)
    html = client.get(reverse("challenge_cards:meeting_detail", args=[later.pk])).content.decode()
    section = _carried_section(html)
    assert again.get_absolute_url() in section
    assert '<td data-testid="carry-count">2 times</td>' in section
    html = client.get(reverse("challenge_cards:meeting_detail", args=[held["following"].pk])).content.decode()
    # The first successor is closed (carried over again), so it is no longer on December's agenda.
    assert successor.get_absolute_url() not in _carried_section(html)
    assert "No carried-over cards are on the agenda." in _carried_section(html)


def _carried_section(html: str) -> str:
    start = html.index('id="carried-heading"')
    return html[start : html.index("</section>", start)]
