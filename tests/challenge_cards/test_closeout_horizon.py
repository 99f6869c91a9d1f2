"""Cards live as long as their horizon: close-out asks a decision only for cards due by the meeting (or
this-month cards) and says why; "continue" is a decision; a carry-over says so and keeps the history."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.urls import reverse

from challenge_cards import selectors, services
from challenge_cards.models import CardUpdate, ChallengeCard, Disposition, Meeting, UpdateKind
from notifications.models import Notification
from tests import factories

from .briefing_world import NOW, at

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def now():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def cycle(agency, other_agency, deputy, other_deputy, priority):
    october = Meeting.objects.create(starts_at=at(10, 13), status=Meeting.Status.HELD)
    november = Meeting.objects.create(starts_at=at(11, 10))
    december = Meeting.objects.create(starts_at=at(12, 8))

    def card(meeting, agency_, title, due, horizon="month"):
        return factories.ChallengeCardFactory(
            meeting=meeting, agency=agency_, priority=priority, title=title, due_date=due, horizon=horizon
        )

    return {
        "november": november,
        "december": december,
        "due": card(october, agency, "Name a CX lead", datetime.date(2026, 11, 10)),
        "overdue": card(october, other_agency, "Post the hiring plan", datetime.date(2026, 11, 3), "year"),
        "month": card(november, agency, "Open a CX office", datetime.date(2026, 12, 8)),
        "year": card(november, agency, "Hire 400 data scientists", datetime.date(2027, 11, 10), "year"),
        "year_soon": card(november, other_agency, "Close out grants", datetime.date(2026, 11, 30), "year"),
    }


def test_closeout_asks_only_for_cards_due_by_the_meeting_and_this_month_cards_and_says_why(cycle):
    closeout = services.meeting_closeout(cycle["november"])
    to_decide = {item.card.title: item.reason for item in closeout.to_decide}
    assert to_decide == {
        "Name a CX lead": "It is due Nov 10, by this meeting.",
        "Post the hiring plan": "It was due Nov 3, by this meeting.",
        "Open a CX office": "A this-month card (due Dec 8): its month is up.",
    }
    stay_open = {item.card.title: item.reason for item in closeout.stay_open}
    assert stay_open == {
        "Hire 400 data scientists": "Due Nov 10, 2027, after this meeting: it stays open.",
        "Close out grants": "Due Nov 30, 2026, after this meeting: it stays open.",
    }


def test_year_long_cards_stay_open_through_the_close_with_their_due_dates(cycle, admin_user):
    for name in ("due", "overdue", "month"):
        services.card_decide(actor=admin_user, card=cycle[name], expected_version=None, decision="continue", reason="")
    meeting = services.meeting_close(actor=admin_user, meeting=cycle["november"])
    assert meeting.closed_at == NOW
    year = ChallengeCard.objects.get(pk=cycle["year"].pk)
    assert (year.disposition, year.due_date, year.carry_count) == (Disposition.OPEN, datetime.date(2027, 11, 10), 0)
    assert ChallengeCard.objects.count() == 5  # nothing carried over, no successor cards


def test_continue_is_a_decision_with_an_optional_note_for_the_meeting_being_closed(cycle, admin_user):
    card = cycle["due"]
    update = services.card_continue(
        actor=admin_user, card=card, expected_version=1, meeting=cycle["november"], note="Lead named next week."
    )
    assert update.kind == UpdateKind.OMB_REVIEW and update.note == "Lead named next week."
    assert update.changes == {"decision": [None, "continue"], "meeting": [None, cycle["november"].pk]}
    card.refresh_from_db()
    assert (card.disposition, card.due_date, card.carry_count, card.version) == (
        Disposition.OPEN,
        datetime.date(2026, 11, 10),
        0,
        2,
    )
    closeout = services.meeting_closeout(cycle["november"])
    assert [(item.card.title, item.decision) for item in closeout.decided] == [("Name a CX lead", "Continues")]
    assert "Name a CX lead" not in {item.card.title for item in closeout.to_decide}
    # Kept open at November: December's close-out asks again (the card is still due by then).
    assert card.pk in {item.card.pk for item in services.meeting_closeout(cycle["december"]).to_decide}


def test_closing_is_refused_with_each_cards_reason(cycle, admin_user):
    with pytest.raises(ValidationError) as error:
        services.meeting_close(actor=admin_user, meeting=cycle["november"])
    messages = error.value.message_dict["cards"]
    assert len(messages) == 3
    assert messages[0].startswith("DOL: Post the hiring plan")
    assert "It was due Nov 3, by this meeting." in messages[0]
    assert "continue it" in messages[0]


def test_the_closeout_page_says_why_and_saves_a_continue_in_place(cycle, admin_user, client):
    client.force_login(admin_user)
    url = reverse("challenge_cards:meeting_close", args=[cycle["november"].pk])
    page = client.get(url).content.decode()
    assert "Needs a decision (3)" in page and "Stay open, no decision needed (2)" in page
    assert "A this-month card (due Dec 8): its month is up." in page
    card = cycle["month"]
    decide = reverse("challenge_cards:closeout_decide", args=[cycle["november"].pk, card.pk])
    response = client.post(
        decide, {f"close-{card.pk}-version": 1, f"close-{card.pk}-decision": "continue", f"close-{card.pk}-reason": ""}
    )
    assert response.status_code == 302
    assert "Needs a decision (2)" in client.get(url).content.decode()
    card = cycle["due"]
    decide = reverse("challenge_cards:closeout_decide", args=[cycle["november"].pk, card.pk])
    refused = client.post(
        decide, {f"close-{card.pk}-version": 1, f"close-{card.pk}-decision": "drop", f"close-{card.pk}-reason": ""}
    )
    assert refused.status_code == 400 and "Give a reason for this disposition." in refused.content.decode()


def test_a_carry_over_notifies_carried_over_not_a_new_card(cycle, admin_user, deputy):
    # The old due date (Nov 10) has passed: a new one is required, never a silent default.
    with pytest.raises(ValidationError, match="Give the new due date"):
        services.card_carry_over(actor=admin_user, card=cycle["due"], expected_version=None, reason="Lead not named")
    successor = services.card_carry_over(
        actor=admin_user,
        card=cycle["due"],
        expected_version=None,
        reason="Lead not named",
        due_date=datetime.date(2027, 1, 12),
    )
    titles = list(Notification.objects.filter(recipient=deputy, card=successor).values_list("title", flat=True))
    assert titles == ["Card carried over for TREAS: Name a CX lead, now due January 12, 2027"]
    assert not Notification.objects.filter(title__startswith="New challenge card").exists()
    assert successor.carry_count == 1


def test_a_successor_shows_its_predecessors_history_and_last_update(cycle, admin_user, deputy):
    card = cycle["year_soon"]
    with time_machine.travel(at(11, 12), tick=False):
        services.card_update(actor=deputy_of_dol(card), card=card.pk, expected_version=1, status="in_progress")
    card.refresh_from_db()
    successor = services.card_carry_over(actor=admin_user, card=card, expected_version=None, reason="Grants still open")
    assert successor.due_date == datetime.date(2026, 11, 30)  # the old due date, still ahead
    assert successor.last_agency_update_at == card.last_agency_update_at is not None
    timeline = list(selectors.card_timeline(admin_user, successor))
    kinds = [(update.card_id, update.kind) for update in timeline]
    assert (card.pk, UpdateKind.UPDATE) in kinds and (successor.pk, UpdateKind.ISSUED) in kinds


def deputy_of_dol(card):
    return card.agency.memberships.get(role="deputy_secretary").user


def test_each_carried_over_card_is_listed_on_one_meeting_only(cycle, admin_user, deputy, client):
    successor = services.card_carry_over(
        actor=admin_user,
        card=cycle["month"],
        expected_version=None,
        reason="Lease not signed",
        to_meeting=cycle["december"],
    )
    january = Meeting.objects.create(starts_at=datetime.datetime(2027, 1, 12, 10, tzinfo=NOW.tzinfo))
    client.force_login(deputy)
    pages = {
        meeting.pk: client.get(reverse("challenge_cards:meeting_detail", args=[meeting.pk])).content.decode()
        for meeting in (cycle["november"], cycle["december"], january)
    }
    listed = [pk for pk, html in pages.items() if successor.get_absolute_url() in _carried(html)]
    assert listed == [cycle["december"].pk]
    assert CardUpdate.objects.filter(card=successor, kind=UpdateKind.ISSUED).count() == 1


def _carried(html: str) -> str:
    start = html.index('id="carried-heading"')
    return html[start : html.index("</section>", start)]
