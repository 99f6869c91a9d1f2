"""Reminders that say what to do: the true count of business days left, only the cards that need an update
(each with why), overdue actions marked with days late, a carried-over card's last update, the OMB digest's
"since the last meeting or since issued"."""

from __future__ import annotations

import datetime

import pytest
import time_machine

from challenge_cards import services as card_services
from challenge_cards.models import CardStatus, ChallengeCard
from notifications import services
from notifications.models import Notification, Rule
from tests import factories

from .conftest import LAST_MEETING_AT, at

pytestmark = pytest.mark.django_db


def _deliver(notification_id: int, when: datetime.datetime, mailoutbox):
    with time_machine.travel(when, tick=False):
        services.notification_deliver(notification_id=notification_id)
    return mailoutbox[-1]


def _reminder_for(username: str, when: datetime.datetime, rule: str = Rule.MEETING_REMINDER) -> int:
    with time_machine.travel(when, tick=False):
        created = services.reminders_scan().created
    return Notification.objects.filter(pk__in=created, rule=rule).get(recipient__username=username).pk


def test_wording_at_seven_and_one_business_days_and_a_late_send_says_the_true_number(council, mailoutbox):
    with time_machine.travel(at("2026-11-19"), tick=False):
        created = services.reminders_scan().created
    on_time, late = (
        Notification.objects.filter(pk__in=created).get(recipient__username=name).pk
        for name in ("deputy.treas", "delegate.treas")
    )
    assert _deliver(on_time, at("2026-11-19", 10), mailoutbox).body.startswith(
        "PMC meeting, December 1, 2026: 7 business days away"
    )
    message = _deliver(late, at("2026-11-20", 10), mailoutbox)  # the 7-day reminder, sent a business day late
    assert message.body.startswith("PMC meeting, December 1, 2026: 6 business days away")
    assert "7 business days" not in message.body and "7 business days" not in message.alternatives[0][0]
    one = _reminder_for("deputy.treas", at("2026-11-30"))
    assert _deliver(one, at("2026-11-30", 10), mailoutbox).body.startswith(
        "PMC meeting, December 1, 2026: 1 business day away"
    )


def test_only_cards_that_need_an_update_are_listed_each_with_why(council, agency, priority, mailoutbox):
    last = council["last_meeting"]
    card = council["card"]  # issued at the last meeting, never updated
    ChallengeCard.objects.filter(pk=card.pk).update(issued_at=LAST_MEETING_AT)
    issued = {"agency": agency, "meeting": last, "priority": priority, "issued_at": LAST_MEETING_AT}
    done = factories.ChallengeCardFactory(**issued, status=CardStatus.DONE)
    certified = factories.ChallengeCardFactory(**issued, last_agency_update_at=at("2026-11-18"))
    newer = factories.ChallengeCardFactory(
        agency=agency, meeting=last, priority=priority, title="Open a CX office", issued_at=at("2026-11-10")
    )
    overdue = factories.ChallengeCardFactory(
        agency=agency,
        meeting=last,
        priority=priority,
        title="Post the hiring plan",
        issued_at=LAST_MEETING_AT - datetime.timedelta(days=30),
        due_date=datetime.date(2026, 11, 13),
        last_agency_update_at=LAST_MEETING_AT - datetime.timedelta(days=2),
    )
    pk = _reminder_for("deputy.treas", at("2026-11-19"))
    assert Notification.objects.get(pk=pk).title == "PMC meeting, December 1, 2026: 3 cards for TREAS to update"
    body, due_section = _deliver(pk, at("2026-11-19", 10), mailoutbox).body.split("Due before the meeting:")
    assert card.title in body and newer.title in body and overdue.title in body
    assert done.title not in body and certified.title not in body
    assert "Why: No update since the last meeting (November 3)." in body
    assert "Why: No update since it was issued (November 10)." in body
    assert "Why: No update since the last meeting (November 3); Overdue: was due November 13." in body
    assert certified.title in due_section and done.title not in due_section  # due before the meeting, not done


def test_overdue_actions_are_marked_with_days_late(council, mailoutbox):
    card = council["card"]
    factories.FollowUpActionFactory(card=card, description="Post the job", due_date=datetime.date(2026, 11, 12))
    factories.FollowUpActionFactory(card=card, description="Interview", due_date=datetime.date(2026, 11, 24))
    pk = _reminder_for("deputy.treas", at("2026-11-19"))
    message = _deliver(pk, at("2026-11-19", 10), mailoutbox)
    assert "OVERDUE by 7 days: action was due November 12: Post the job" in message.body
    assert "Action due November 24: Interview" in message.body
    assert "<strong>Overdue by 7 days</strong>: Post the job" in message.alternatives[0][0]
    assert "Nov 24 (5 days left): follow-up action Interview" in message.body  # due before the meeting


def test_a_carried_over_card_shows_its_predecessors_last_update(council, admin_user, deputy, mailoutbox):
    card = council["card"]
    with time_machine.travel(at("2026-11-05"), tick=False):
        card_services.card_update(actor=deputy, card=card.pk, expected_version=1, note="Posted the announcement.")
    with time_machine.travel(at("2026-11-06"), tick=False):
        successor = card_services.card_carry_over(
            actor=admin_user,
            card=card.pk,
            expected_version=None,
            reason="Needs another month",
            to_meeting=council["meeting"],
        )
    assert ChallengeCard.objects.get(pk=successor.pk).carried_over_from_id == card.pk
    pk = _reminder_for("deputy.treas", at("2026-11-19"))
    body = _deliver(pk, at("2026-11-19", 10), mailoutbox).body
    assert "no update yet" not in body
    assert "Last update: November 5, 2026 (before it was carried over): Posted the announcement." in body
    assert "Why: No update since it was carried over (November 6)." in body


def test_the_omb_digest_says_since_issued_or_since_the_last_meeting_whichever_is_later(
    council, agency, priority, admin_user, mailoutbox
):
    last = council["last_meeting"]
    ChallengeCard.objects.filter(pk=council["card"].pk).update(issued_at=LAST_MEETING_AT)
    fresh = factories.ChallengeCardFactory(
        agency=agency, meeting=last, priority=priority, title="Open a CX office", issued_at=at("2026-11-20")
    )
    updated_after_issue = factories.ChallengeCardFactory(
        agency=agency,
        meeting=last,
        priority=priority,
        title="Name a CX lead",
        issued_at=at("2026-11-20"),
        last_agency_update_at=at("2026-11-23"),
    )
    pk = _reminder_for("omb.admin", at("2026-11-27"), rule=Rule.STALE_CARDS)  # 2 business days before
    notification = Notification.objects.get(pk=pk)
    assert (
        notification.title
        == "PMC meeting, December 1, 2026: 2 cards not updated since the last meeting or since issued"
    )
    body = _deliver(pk, at("2026-11-27", 10), mailoutbox).body
    assert f"{fresh.title} (TREAS)" in body and "No update since it was issued (November 20)" in body
    assert f"{council['card'].title} (TREAS)" in body and "No update since the last meeting (November 3)" in body
    assert updated_after_issue.title not in body
