"""E-mail in batches: the statements of a batch do not grow with it, one SMTP session serves it, and a claim
holds its rows for one attempt until its lease is over (then the sweeper queues them again)."""

from __future__ import annotations

import datetime
import uuid
from collections import Counter

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.signals import template_rendered
from django.test.utils import CaptureQueriesContext
from django.utils.html import escape

from challenge_cards.models import ChallengeCard
from notifications import emails, services
from notifications.models import Notification, Rule
from notifications.services import delivery
from notifications.testing import SmtpSink
from tests import factories

from .conftest import LAST_MEETING_AT, MEETING_AT, at

pytestmark = pytest.mark.django_db
User = get_user_model()

SCAN_AT = at("2026-11-19")  # 7 business days before the meeting
# The claim (BEGIN, SELECT ... FOR UPDATE SKIP LOCKED, UPDATE, COMMIT); the settings row; the batch's reads: the
# meeting before, the agencies with open cards, the cards to update with their actions, their history and the
# history of the cards they continue, the cards and actions due, the invitation's sequence (each invitation names
# only its recipient: no read of the invitees); the record (BEGIN, UPDATE, COMMIT). In a test, BEGIN and COMMIT
# are savepoints.
BATCH_STATEMENTS = 17


def _agencies(council, count: int, people: int) -> list:
    """Agencies of `people` delegates, each with a card to update (an open action due, an update made before the
    last meeting) and a card it continues."""
    made = []
    for _ in range(count):
        agency = factories.AgencyFactory()
        for _ in range(people):
            factories.delegate_of(agency)
        earlier = factories.ChallengeCardFactory(
            agency=agency, meeting=council["last_meeting"], disposition="carried_over", disposition_reason="Later."
        )
        card = factories.ChallengeCardFactory(
            agency=agency,
            meeting=council["last_meeting"],
            issued_at=LAST_MEETING_AT,
            due_date=MEETING_AT.date(),
            title=f"The card of {agency.abbreviation}",
            carried_over_from=earlier,
            carry_count=1,
        )
        factories.FollowUpActionFactory(card=card, due_date=MEETING_AT.date() - datetime.timedelta(days=3))
        factories.CardUpdateFactory(card=card, note="Planned.", created_at=LAST_MEETING_AT - datetime.timedelta(days=9))
        made.append(agency)
    return made


def _reminders_of(agencies) -> list[int]:
    return list(
        Notification.objects.filter(agency__in=agencies, rule=Rule.MEETING_REMINDER)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def test_a_batch_costs_the_same_statements_for_10_reminders_as_for_50(council, mailoutbox):
    small, large = _agencies(council, 2, 5), _agencies(council, 5, 10)
    with time_machine.travel(SCAN_AT, tick=False):
        services.reminders_scan()
        few_ids, many_ids = _reminders_of(small), _reminders_of(large)
        assert (len(few_ids), len(many_ids)) == (10, 50)
        with CaptureQueriesContext(connection) as few:
            assert len(services.notifications_deliver(ids=few_ids).sent) == 10
        with CaptureQueriesContext(connection) as many:
            assert len(services.notifications_deliver(ids=many_ids).sent) == 50
    assert len(few) == len(many) == BATCH_STATEMENTS, "\n".join(q["sql"][:150] for q in many.captured_queries)
    assert Notification.objects.filter(pk__in=few_ids + many_ids, status=Notification.Status.SENT).count() == 60
    # Read for all agencies at once, each message still lists its own agency's card only.
    for message in mailoutbox:
        [own] = [a.abbreviation for a in small + large if a.abbreviation in message.subject]
        listed = {a.abbreviation for a in small + large if f"The card of {a.abbreviation} " in message.body}
        assert listed == {own}, (message.subject, listed)
        assert "Planned." in message.body  # the card's last update, read with the batch


def test_one_smtp_session_serves_a_batch_and_a_refused_recipient_does_not_end_it(council, settings):
    agencies = _agencies(council, 2, 5)
    with time_machine.travel(SCAN_AT, tick=False):
        services.reminders_scan()
    ids = _reminders_of(agencies)
    refused = Notification.objects.select_related("recipient").get(pk=ids[3])
    with SmtpSink(refuse={refused.recipient.email}) as sink:
        settings.MAILERS = {
            "default": {"BACKEND": "core.mail.SMTPBackend", "OPTIONS": {"host": "127.0.0.1", "port": sink.port}}
        }
        try:
            with time_machine.travel(SCAN_AT + datetime.timedelta(hours=1), tick=False):
                batch = services.notifications_deliver(ids=ids)
        finally:
            emails._close(f"127.0.0.1:{sink.port}")
    assert sink.sessions == 1
    assert sorted(sink.message_ids()) == sorted(
        emails.message_id(n) for n in Notification.objects.filter(pk__in=ids).exclude(pk=refused.pk)
    )
    assert batch.sent == [pk for pk in ids if pk != refused.pk]
    assert list(batch.retry.values()) == [[refused.pk]]
    refused.refresh_from_db()
    assert refused.status == Notification.Status.PENDING and refused.claimed_at is None
    assert "Mailbox unavailable" in refused.last_error


def test_a_claim_holds_its_rows_until_its_lease_is_over_then_the_sweeper_queues_them_again(
    council, settings, mailoutbox, django_capture_on_commit_callbacks
):
    settings.NOTIFICATIONS_CLAIM_LEASE_SECONDS = 60
    with time_machine.travel(SCAN_AT, tick=False):
        created = services.reminders_scan().created
    claimed_at = SCAN_AT + datetime.timedelta(minutes=5)
    # An attempt claimed both and its worker died before recording anything.
    Notification.objects.filter(pk__in=created).update(claimed_by=uuid.uuid4(), claimed_at=claimed_at, attempts=1)
    within = claimed_at + datetime.timedelta(seconds=59)
    batch = services.notifications_deliver(ids=created, now=within)
    assert (batch.sent, batch.skipped, mailoutbox) == ([], 2, [])  # a live claim is not taken
    never = 10**6  # the rule for rows never claimed stays out of this test
    assert services.undelivered_sweep(now=within, older_than=never) == ([], [])
    after = claimed_at + datetime.timedelta(seconds=61)
    with django_capture_on_commit_callbacks() as queued:
        assert services.undelivered_sweep(now=after, older_than=never) == (sorted(created), [])
    assert len(queued) == 1
    assert services.undelivered_sweep(now=after, older_than=never) == ([], [])  # queued again once a lease
    batch = services.notifications_deliver(ids=created, now=after)
    assert sorted(batch.sent) == sorted(created)
    sent = Notification.objects.filter(pk__in=created)
    assert sorted(m.extra_headers["Message-ID"] for m in mailoutbox) == sorted(emails.message_id(n) for n in sent)
    assert {(n.status, n.attempts, n.claimed_by) for n in sent} == {(Notification.Status.SENT, 2, batch.attempt)}


@pytest.mark.parametrize("mail_server", ["accepts", "is down"])
def test_a_record_leaves_alone_the_rows_another_attempt_took_after_the_lease(
    council, monkeypatch, mailoutbox, django_capture_on_commit_callbacks, mail_server
):
    """A worker stalled past its lease: the sweeper queued its rows again and another attempt claimed one and
    sent it. The stalled worker's record must neither overwrite that row nor queue it once more."""
    with time_machine.travel(SCAN_AT, tick=False):
        created = sorted(services.reminders_scan().created)
    taken, kept = created
    other = uuid.uuid4()
    send = delivery._send

    def stalled_past_the_lease(rows, batch, now):
        others = send(rows, batch, now)
        Notification.objects.filter(pk=taken).update(claimed_by=other, status=Notification.Status.SENT)
        return others

    def down(self, message):
        raise ConnectionRefusedError("mail server down")

    monkeypatch.setattr(delivery, "_send", stalled_past_the_lease)
    if mail_server == "is down":
        monkeypatch.setattr(emails.Session, "send", down)
    queued: list[list[int]] = []
    monkeypatch.setattr(delivery.enqueue, "notifications", lambda ids, countdown=None: queued.append(ids))
    with django_capture_on_commit_callbacks(execute=True):
        batch = services.notifications_deliver(ids=created, now=SCAN_AT + datetime.timedelta(hours=1))

    row = Notification.objects.get(pk=taken)
    assert (row.status, row.claimed_by, row.delivered_at, row.last_error) == (Notification.Status.SENT, other, None, "")
    mine = Notification.objects.get(pk=kept)
    assert mine.claimed_by == batch.attempt
    if mail_server == "accepts":
        assert mine.status == Notification.Status.SENT and queued == []
    else:
        assert sorted(sum(batch.retry.values(), [])) == created  # this attempt failed both...
        assert queued == [[kept]]  # ...but queues again only the one it still held
        assert mine.status == Notification.Status.PENDING and "mail server down" in mine.last_error


def test_a_batch_that_cannot_be_prepared_is_retried_then_failed_not_claimed_forever(council, monkeypatch):
    with time_machine.travel(SCAN_AT, tick=False):
        created = sorted(services.reminders_scan().created)

    def broken(self, rows):
        raise RuntimeError("a card the batch reads is broken")

    monkeypatch.setattr(emails.Reads, "__init__", broken)
    monkeypatch.setattr(delivery.enqueue, "notifications", lambda ids, countdown=None: None)
    limit = delivery.NotificationSettings.load().email_max_attempts
    now = SCAN_AT + datetime.timedelta(hours=1)
    for attempt in range(1, limit + 1):
        batch = services.notifications_deliver(ids=created, now=now)
        rows = Notification.objects.filter(pk__in=created)
        assert {(row.attempts, row.claimed_at) for row in rows} == {(attempt, None)}  # released for the retry
        assert all("a card the batch reads is broken" in row.last_error for row in rows)
        now += datetime.timedelta(hours=2)
    assert sorted(batch.failed) == created
    assert set(Notification.objects.filter(pk__in=created).values_list("status", flat=True)) == {"failed"}


def test_the_agency_part_is_rendered_once_per_agency_and_each_message_greets_its_own_recipient(council, mailoutbox):
    """A batch renders what a reminder says to an agency once; each message adds its greeting, escaped in HTML
    only, and the agency's card title is escaped once in HTML and left as typed in the plain text."""
    agencies = _agencies(council, 2, 3)
    ChallengeCard.objects.filter(agency=agencies[0], carry_count=1).update(title="Hire <data> & AI staff")
    people = User.objects.filter(memberships__agency__in=agencies).order_by("pk")
    for n, person in enumerate(people):
        User.objects.filter(pk=person.pk).update(first_name=f"Pat {n} <b>&", last_name="O'Neil")
    rendered: list[str] = []

    def record(sender, template, context, **kwargs):
        rendered.append(template.name)

    template_rendered.connect(record)
    try:
        with time_machine.travel(SCAN_AT, tick=False):
            services.reminders_scan()
            ids = _reminders_of(agencies)
            assert len(services.notifications_deliver(ids=ids).sent) == 6
    finally:
        template_rendered.disconnect(record)
    assert Counter(rendered)["notifications/email/_meeting_reminder_agency.html"] == 2
    assert Counter(rendered)["notifications/email/_meeting_reminder_agency.txt"] == 2
    assert Counter(rendered)["notifications/email/meeting_reminder.html"] == 6
    for message in mailoutbox:
        notification = Notification.objects.select_related("recipient", "agency").get(
            pk=message.extra_headers[emails.NOTIFICATION_HEADER]
        )
        name = notification.recipient.get_full_name()
        html = message.alternatives[0][0]
        assert f"Hello {name}," in message.body and f"Hello {escape(name)},</p>" in html
        assert html.count("Hello ") == message.body.count("Hello ") == 1
        if notification.agency == agencies[0]:
            assert "Hire <data> & AI staff (" in message.body
            assert "Hire &lt;data&gt; &amp; AI staff</a>" in html and "&amp;amp;" not in html
        else:
            assert f"The card of {notification.agency.abbreviation} " in message.body
