"""Delivery: the e-mail's content, exactly once per row, retries with backoff, the sweeper, webhooks."""

import datetime
import http.server
import json
import smtplib
import threading
from email import message_from_bytes
from email.policy import default as default_policy

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from icalendar import Calendar

from challenge_cards import services as card_services
from notifications import emails, services, tasks, webhooks
from notifications.models import (
    EventType,
    Notification,
    NotificationSettings,
    Rule,
    WebhookDelivery,
    WebhookSubscription,
)
from tests import factories

from .conftest import at


@pytest.fixture
def reminder(council):
    with time_machine.travel(at("2026-11-19"), tick=False):
        created = services.reminders_scan().created
    return Notification.objects.filter(pk__in=created).get(recipient__username="deputy.treas")


def test_the_reminder_email_lists_each_card_with_its_status_update_actions_and_link(council, reminder, mailoutbox):
    card = council["card"]
    factories.FollowUpActionFactory(card=card, description="Post the joint announcement", due_date=card.due_date)
    factories.CardUpdateFactory(card=card, note="Announcement drafted.", created_at=timezone.now())
    outcome = services.notification_deliver(notification_id=reminder.pk)
    assert outcome.status == Notification.Status.SENT
    [message] = mailoutbox
    assert message.to == [f"{reminder.recipient.get_full_name()} <deputy.treas@example.gov>"]
    assert message.subject == "PMC meeting, December 1, 2026: 1 card for TREAS to update"
    link = f"http://127.0.0.1:8000/cards/{card.pk}/"
    assert link in message.body
    assert "Status: Not started" in message.body
    assert "Announcement drafted." in message.body
    assert "Post the joint announcement" in message.body
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html"
    assert '<html lang="en">' in html and f'href="{link}"' in html and '<th scope="col"' in html
    raw = message_from_bytes(message.message().as_bytes(), policy=default_policy)
    [ics_part] = [part for part in raw.walk() if part.get_content_type() == "text/calendar"]
    assert ics_part.get_param("method") == "REQUEST"  # an invitation calendars treat as a meeting
    assert ics_part.get_content_disposition() == "attachment"
    assert ics_part.get_filename() == "pmc-meeting.ics"
    event = Calendar.from_ical(ics_part.get_content()).walk("VEVENT")[0]
    assert event.decoded("dtstart") == council["meeting"].starts_at
    assert str(event["summary"]) == "PMC meeting, December 1, 2026"
    assert raw["Message-ID"] == emails.message_id(reminder)


def test_a_task_delivered_twice_sends_once(reminder, mailoutbox):
    assert tasks.deliver_notification.apply(args=[reminder.pk]).get() == "sent"
    assert tasks.deliver_notification.apply(args=[reminder.pk]).get() == "sent"
    assert len(mailoutbox) == 1
    reminder.refresh_from_db()
    assert reminder.attempts == 1 and reminder.status == Notification.Status.SENT


def test_a_refusing_mail_server_is_retried_with_backoff_then_marked_failed(reminder, monkeypatch, mailoutbox):
    def refuse(session, message):
        raise smtplib.SMTPRecipientsRefused({"deputy.treas@example.gov": (550, b"Mailbox unavailable")})

    monkeypatch.setattr(emails.Session, "send", refuse)
    monkeypatch.setattr("django.conf.settings.NOTIFICATIONS_RETRY_BASE_SECONDS", None)
    NotificationSettings.objects.update_or_create(pk=1, defaults={"email_max_attempts": 4, "retry_base_seconds": 30})
    delays = [services.notification_deliver(notification_id=reminder.pk).retry_in for _ in range(3)]
    assert delays == [30.0, 60.0, 120.0]
    reminder.refresh_from_db()
    assert reminder.status == Notification.Status.PENDING and reminder.next_attempt_at is not None
    final = services.notification_deliver(notification_id=reminder.pk)
    assert final.status == Notification.Status.FAILED and final.retry_in is None
    reminder.refresh_from_db()
    assert reminder.status == Notification.Status.FAILED
    assert reminder.attempts == 4
    assert "SMTPRecipientsRefused" in reminder.last_error
    assert mailoutbox == []


def test_the_sweeper_queues_again_only_what_stayed_undelivered(
    council, reminder, monkeypatch, django_capture_on_commit_callbacks
):
    queued: list[list[int]] = []
    monkeypatch.setattr(tasks, "enqueue_notifications", lambda ids, countdown=None: queued.append(list(ids)))
    fresh = Notification.objects.exclude(pk=reminder.pk).get()
    Notification.objects.filter(pk=reminder.pk).update(enqueued_at=timezone.now() - datetime.timedelta(hours=1))
    Notification.objects.filter(pk=fresh.pk).update(enqueued_at=timezone.now())
    with django_capture_on_commit_callbacks(execute=True):
        notes, hooks = services.undelivered_sweep()
    assert notes == [reminder.pk] and hooks == []
    assert queued == [[reminder.pk]]


def test_enqueueing_with_the_broker_down_leaves_the_row_for_the_sweeper(reminder, monkeypatch):
    def down(*args, **kwargs):
        raise ConnectionRefusedError("broker down")

    monkeypatch.setattr(tasks.deliver_notifications, "apply_async", down)
    assert tasks.enqueue_notifications([reminder.pk]) == 0
    reminder.refresh_from_db()
    assert reminder.status == Notification.Status.PENDING


class Receiver(http.server.BaseHTTPRequestHandler):
    """A test agency tool: checks the signature, answers with the status the test asks for."""

    secret = ""
    answers: list[int] = []
    received: list[dict] = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        valid = webhooks.verify(
            self.secret,
            timestamp=self.headers[webhooks.TIMESTAMP_HEADER],
            signature=self.headers[webhooks.SIGNATURE_HEADER],
            body=body,
        )
        Receiver.received.append(
            {"valid": valid, "body": json.loads(body), "event": self.headers[webhooks.EVENT_HEADER]}
        )
        status = Receiver.answers.pop(0) if Receiver.answers else 200
        self.send_response(status if valid else 401)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def receiver():
    Receiver.received = []
    Receiver.answers = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_webhooks_are_signed_and_a_failing_receiver_gets_retries(council, admin_user, priority, receiver, monkeypatch):
    monkeypatch.setattr("django.conf.settings.NOTIFICATIONS_RETRY_BASE_SECONDS", None)
    agency = council["card"].agency
    subscription = WebhookSubscription.objects.create(
        agency=agency, event_type=EventType.CARD_ISSUED, url=f"http://127.0.0.1:{receiver.server_port}/hooks"
    )
    WebhookSubscription.objects.create(  # another agency's tool hears nothing of Treasury's card
        agency=factories.AgencyFactory(), event_type=EventType.CARD_ISSUED, url="http://127.0.0.1:9/never"
    )
    Receiver.secret = subscription.secret
    Receiver.answers = [500, 503]
    cards = card_services.card_issue(
        actor=admin_user,
        meeting=council["meeting"],
        agencies=[agency],
        title="Ramp up CX",
        ask="Staff it.",
        priority=priority,
    )
    [delivery] = WebhookDelivery.objects.all()
    outcomes = [services.webhook_deliver(delivery_id=delivery.pk) for _ in range(4)]
    assert [o.status for o in outcomes] == ["retry", "retry", "delivered", "delivered"]
    assert [o.retry_in for o in outcomes[:2]] == [30.0, 60.0]
    assert len(Receiver.received) == 3 and all(r["valid"] for r in Receiver.received)
    assert Receiver.received[-1]["body"]["data"]["card"]["id"] == cards[0].pk
    assert Receiver.received[-1]["event"] == "card.issued"
    delivery.refresh_from_db()
    assert delivery.status == WebhookDelivery.Status.DELIVERED and delivery.attempts == 3
    assert delivery.response_status == 200


def test_a_wrong_secret_fails_verification():
    body = webhooks.body_of({"a": 1})
    signature = webhooks.sign("right", 1_900_000_000, body)
    with time_machine.travel(datetime.datetime.fromtimestamp(1_900_000_010, tz=datetime.UTC)):
        assert webhooks.verify("right", timestamp="1900000000", signature=signature, body=body)
        assert not webhooks.verify("wrong", timestamp="1900000000", signature=signature, body=body)
        assert not webhooks.verify("right", timestamp="1900000000", signature=signature, body=body + b" ")
    with time_machine.travel(datetime.datetime.fromtimestamp(1_900_001_000, tz=datetime.UTC)):
        assert not webhooks.verify("right", timestamp="1900000000", signature=signature, body=body)


def test_a_receiver_that_keeps_failing_is_marked_failed(council, receiver, monkeypatch):
    monkeypatch.setattr("django.conf.settings.NOTIFICATIONS_RETRY_BASE_SECONDS", "0")
    NotificationSettings.objects.update_or_create(pk=1, defaults={"webhook_max_attempts": 2})
    subscription = WebhookSubscription.objects.create(
        agency=council["card"].agency,
        event_type=EventType.CARD_UPDATED,
        url=f"http://127.0.0.1:{receiver.server_port}/",
    )
    Receiver.secret = subscription.secret
    Receiver.answers = [500, 500]
    card = council["card"]
    card_services.card_update(actor=council["card"].issued_to, card=card, expected_version=1, note="Progress.")
    delivery = WebhookDelivery.objects.get()
    assert services.webhook_deliver(delivery_id=delivery.pk).status == "retry"
    assert services.webhook_deliver(delivery_id=delivery.pk).status == WebhookDelivery.Status.FAILED
    delivery.refresh_from_db()
    assert delivery.last_error == "HTTP 500 Internal Server Error"


def test_recipients_without_email_get_the_inbox_entry_only(council, admin_user, priority):
    deputy = council["card"].issued_to
    deputy.email = ""
    deputy.save()
    card_services.card_issue(
        actor=admin_user,
        meeting=council["meeting"],
        agencies=[council["card"].agency],
        title="X",
        ask="Y",
        priority=priority,
    )
    statuses = dict(Notification.objects.filter(rule=Rule.CARD_ISSUED).values_list("recipient__username", "status"))
    assert statuses == {"deputy.treas": Notification.Status.NO_EMAIL, "delegate.treas": Notification.Status.PENDING}


def test_send_reminders_runs_the_scan_and_prints_what_it_queued(council):
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    with time_machine.travel(at("2026-11-19"), tick=False):
        call_command("send_reminders", stdout=out)
        call_command("send_reminders", stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[0] == "Queued 2 notifications."
    assert lines[1].split() == ["2", "Reminder", "before", "a", "PMC", "meeting"]
    assert lines[2] == "Queued 0 notifications."
    assert Notification.objects.count() == 2


def test_agency_tools_hear_of_reviews_actions_and_cancelled_meetings(council, admin_user, deputy):
    agency = council["card"].agency
    for event in (EventType.CARD_REVIEWED, EventType.ACTION_CHANGED, EventType.MEETING_CANCELLED):
        WebhookSubscription.objects.create(agency=agency, event_type=event, url="http://127.0.0.1:9/hook")
    card = council["card"]
    card_services.action_add(actor=deputy, card=card, description="Post the job")
    card_services.card_review(actor=admin_user, card=card, expected_version=card.version, omb_rating="green")
    card_services.meeting_cancel(actor=admin_user, meeting=council["meeting"])
    events = sorted(WebhookDelivery.objects.values_list("event_type", flat=True))
    assert events == ["action.changed", "card.reviewed", "meeting.cancelled"]
    cancelled = WebhookDelivery.objects.get(event_type=EventType.MEETING_CANCELLED)
    assert cancelled.payload["data"]["meeting"]["status"] == "cancelled"


def test_overdue_actions_each_get_one_webhook_in_the_same_queries_however_many(agency, other_agency, meeting, priority):
    WebhookSubscription.objects.create(agency=agency, event_type=EventType.ACTION_OVERDUE, url="http://127.0.0.1:9/a")
    WebhookSubscription.objects.create(agency=agency, event_type=EventType.ACTION_OVERDUE, url="http://127.0.0.1:9/b")
    WebhookSubscription.objects.create(
        agency=other_agency, event_type=EventType.CARD_ISSUED, url="http://127.0.0.1:9/c"
    )
    yesterday = timezone.localdate() - datetime.timedelta(days=1)

    def overdue_actions(owner, n):
        card = factories.ChallengeCardFactory(agency=owner, meeting=meeting, priority=priority)
        return [factories.FollowUpActionFactory(card=card, due_date=yesterday) for _ in range(n)]

    overdue_actions(other_agency, 2)  # Labor subscribes to nothing overdue: no delivery
    treasury = overdue_actions(agency, 2)
    with CaptureQueriesContext(connection) as few:
        services.reminders_scan()
    treasury += overdue_actions(agency, 20)
    with CaptureQueriesContext(connection) as many:
        services.reminders_scan()
    assert len(many) == len(few)
    deliveries = WebhookDelivery.objects.filter(event_type=EventType.ACTION_OVERDUE)
    assert deliveries.count() == 2 * len(treasury)  # one per action per subscription, none doubled
    assert {d.payload["data"]["action"]["id"] for d in deliveries} == {a.pk for a in treasury}
    services.reminders_scan()
    assert deliveries.count() == 2 * len(treasury)
