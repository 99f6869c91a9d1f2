"""Delivery: e-mail in batches (claim, send on one SMTP session, record), webhooks one by one; retries, the sweeper.

The tasks call these with IDs. A task can run twice (late acks, a sweep), so an e-mail is claimed
first, in a committed step of its own, by one attempt at a time; a claim whose worker died expires
after a lease and the sweeper queues the row again. So a notification is never lost; a copy, with
the same Message-ID, goes out only if a worker dies between the mail server's acceptance and the
record. A webhook delivery locks its row, posts and records in one transaction. OMB admins put a
failed row back in the queue from the admin.
"""

from __future__ import annotations

import datetime
import logging
import time
import uuid
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from agencies.roles import roles_of

from .. import emails
from .. import webhooks as signed_requests
from ..models import Notification, NotificationSettings, WebhookDelivery
from . import enqueue

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Outcome:
    """What one delivery attempt did; ``retry_in`` asks the task to try again later."""

    status: str
    retry_in: float | None = None


def backoff_seconds(attempts: int, base: float) -> float:
    """Exponential backoff: base, 2×base, 4×base ... capped at an hour."""
    return min(base * 2 ** max(attempts - 1, 0), 3600.0)


def _retry_base(conf: NotificationSettings) -> float:
    override = getattr(settings, "NOTIFICATIONS_RETRY_BASE_SECONDS", None)
    return float(override) if override is not None else float(conf.retry_base_seconds)


def claim_lease() -> datetime.timedelta:
    """How long a claim holds a row: past it, the attempt is taken for dead and the row may be claimed again."""
    return datetime.timedelta(seconds=float(getattr(settings, "NOTIFICATIONS_CLAIM_LEASE_SECONDS", 60)))


@dataclass
class Batch:
    """What one delivery attempt did with the rows it was given."""

    attempt: uuid.UUID
    sent: list[int] = field(default_factory=list)
    cancelled: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    retry: dict[float, list[int]] = field(default_factory=dict)  # delay → rows to try again then
    released: list[int] = field(default_factory=list)  # claimed, not tried before the lease ran short: queued again
    skipped: int = 0  # not pending, or held by another live attempt

    def summary(self) -> str:
        retried = sum(len(ids) for ids in self.retry.values())
        return (
            f"sent {len(self.sent)}, cancelled {len(self.cancelled)}, failed {len(self.failed)}, "
            f"retry {retried}, released {len(self.released)}, skipped {self.skipped}"
        )


def _claim(ids: list[int], attempt: uuid.UUID, now: datetime.datetime) -> list[Notification]:
    """Claim the pending rows no live attempt holds, in a transaction of their own (committed before sending).

    Rows another attempt is claiming right now are skipped (SKIP LOCKED), so two workers never wait on each other.
    """
    with transaction.atomic():
        rows = list(
            Notification.objects.select_for_update(of=("self",), skip_locked=True)
            .select_related("recipient", "meeting", "card__agency", "agency", "action")
            .filter(pk__in=ids, status=Notification.Status.PENDING)
            .filter(Q(claimed_at__isnull=True) | Q(claimed_at__lt=now - claim_lease()))
            .order_by("pk")
        )
        if rows:
            Notification.objects.filter(pk__in=[row.pk for row in rows]).update(
                claimed_by=attempt, claimed_at=now, attempts=F("attempts") + 1
            )
    for row in rows:
        row.claimed_by, row.claimed_at, row.attempts = attempt, now, row.attempts + 1
    return rows


def _failure(row: Notification, error: Exception, conf: NotificationSettings, now, batch: Batch) -> None:
    row.last_error = f"{type(error).__name__}: {error}"[:2000]
    row.claimed_at = None
    if row.attempts >= conf.email_max_attempts:
        row.status, row.failed_at = Notification.Status.FAILED, now
        batch.failed.append(row.pk)
        logger.error("Notification %s failed for good: %s", row.pk, row.last_error)
        return
    delay = backoff_seconds(row.attempts, _retry_base(conf))
    row.next_attempt_at = now + datetime.timedelta(seconds=delay)
    row.enqueued_at = now
    batch.retry.setdefault(delay, []).append(row.pk)


def _send(rows: list[Notification], batch: Batch, now: datetime.datetime) -> list[Notification]:
    """Build and send the claimed rows on one SMTP session; returns the rows not sent, changed for the record."""
    stop_at = time.monotonic() + claim_lease().total_seconds() / 2
    conf = NotificationSettings.load()
    try:
        reads = emails.Reads(rows)
        session = emails.Session()
    except Exception as error:  # the batch's reads failed: every row fails this attempt (retried, then failed)
        logger.exception("A batch of %d notifications could not be prepared", len(rows))
        for row in rows:
            _failure(row, error, conf, now, batch)
        return list(rows)
    others: list[Notification] = []
    for row in rows:
        if time.monotonic() > stop_at:  # the rest would be sent too close to the lease's end: queued again
            row.claimed_at, row.attempts, row.enqueued_at = None, row.attempts - 1, now
            batch.released.append(row.pk)
            others.append(row)
            continue
        try:
            reason = reads.reason_not_to_send(row)
            if reason:
                raise emails.NothingToSend(reason)
            session.send(reads.build(row))
        except emails.NothingToSend as nothing:
            row.status, row.cancelled_at, row.last_error = Notification.Status.CANCELLED, now, str(nothing)
            batch.cancelled.append(row.pk)
            others.append(row)
        except Exception as error:  # SMTP refusals, network errors, a down mail server
            _failure(row, error, conf, now, batch)
            others.append(row)
        else:
            batch.sent.append(row.pk)
    return others


MARKED = [
    "status",
    "attempts",
    "last_error",
    "claimed_at",
    "cancelled_at",
    "failed_at",
    "next_attempt_at",
    "enqueued_at",
]


def _enqueue_held(ids: list[int], held: set[int], countdown: float | None = None) -> None:
    """Queue again, after the commit, those of ``ids`` this attempt still held."""
    if ids := [pk for pk in ids if pk in held]:
        transaction.on_commit(partial(enqueue.notifications, ids, countdown=countdown))


def notifications_deliver(*, ids: list[int], now: datetime.datetime | None = None) -> Batch:
    """E-mail a batch of notifications: claim, send over one SMTP session, then record, each step committed.

    1. Claim (committed): the rows get this attempt's id and time, and one more attempt counted.
    2. Build every message from data read once for the batch (emails.Reads) and send them on one session;
       no message is started once half the lease is gone (the rest are released and queued again), so a
       live worker's claim outlasts its sends.
    3. Record (one transaction): sent, cancelled, failed for good, or a retry with backoff.

    A worker that dies after 1 leaves claimed rows: the sweeper queues them again once the lease is over,
    and the retry sends the same Message-ID. So a notification is never lost, and a copy goes out only if
    a worker dies between the mail server's acceptance and the record of it.
    """
    now = now or timezone.now()
    batch = Batch(attempt=uuid.uuid4())
    rows = _claim(list(ids), batch.attempt, now)
    batch.skipped = len(set(ids)) - len(rows)
    if not rows:
        return batch
    others = _send(rows, batch, now)
    with transaction.atomic():
        # Only rows this attempt still holds: past the lease another attempt may have claimed (and sent) one,
        # and its record must not be overwritten nor the row queued again.
        held = Notification.objects.filter(claimed_by=batch.attempt, status=Notification.Status.PENDING)
        if batch.sent:
            held.filter(pk__in=batch.sent).update(status=Notification.Status.SENT, delivered_at=now, last_error="")
        if others:
            still = set(held.filter(pk__in=[row.pk for row in others]).select_for_update().values_list("pk", flat=True))
            Notification.objects.bulk_update([row for row in others if row.pk in still], MARKED)
            for delay, retry_ids in batch.retry.items():
                _enqueue_held(retry_ids, still, countdown=delay)
            _enqueue_held(batch.released, still)
    return batch


def notification_deliver(*, notification_id: int, now: datetime.datetime | None = None) -> Outcome:
    """One notification: a batch of one (notifications_deliver), as the status it ended in."""
    batch = notifications_deliver(ids=[notification_id], now=now)
    for delay in batch.retry:
        return Outcome("retry", retry_in=delay)
    for status, ids in (
        (Notification.Status.SENT, batch.sent),
        (Notification.Status.CANCELLED, batch.cancelled),
        (Notification.Status.FAILED, batch.failed),
        ("retry", batch.released),
    ):
        if ids:
            return Outcome(status)
    current = Notification.objects.filter(pk=notification_id).values_list("status", flat=True).first()
    return Outcome(current or "missing")


def webhook_deliver(*, delivery_id: int, now: datetime.datetime | None = None) -> Outcome:
    """POST one webhook delivery at most once per success, retried with backoff, then marked failed."""
    conf = NotificationSettings.load()
    with transaction.atomic():
        delivery = (
            WebhookDelivery.objects.select_for_update().select_related("subscription").filter(pk=delivery_id).first()
        )
        if delivery is None or delivery.status != WebhookDelivery.Status.PENDING:
            return Outcome(delivery.status if delivery else "missing")
        now = now or timezone.now()
        subscription = delivery.subscription
        delivery.attempts += 1
        response = signed_requests.post(
            url=subscription.url,
            secret=subscription.secret,
            event_type=delivery.event_type,
            delivery_id=delivery.pk,
            payload=delivery.payload,
        )
        delivery.response_status = response.status
        if response.ok:
            delivery.status = WebhookDelivery.Status.DELIVERED
            delivery.delivered_at = now
            delivery.last_error = ""
            delivery.save()
            return Outcome(WebhookDelivery.Status.DELIVERED)
        delivery.last_error = response.error[:2000]
        if response.permanent or delivery.attempts >= conf.webhook_max_attempts:  # a refused address: no retry
            delivery.status = WebhookDelivery.Status.FAILED
            delivery.failed_at = now
            delivery.save()
            return Outcome(WebhookDelivery.Status.FAILED)
        delay = backoff_seconds(delivery.attempts, _retry_base(conf))
        delivery.next_attempt_at = now + datetime.timedelta(seconds=delay)
        delivery.enqueued_at = now
        delivery.save()
        return Outcome("retry", retry_in=delay)


def _due_for_sweep(now: datetime.datetime, after: int) -> Q:
    """Queued this long ago and still not done (the broker lost it), or a retry overdue by as long."""
    cutoff = now - datetime.timedelta(seconds=after)
    return (
        Q(next_attempt_at__isnull=True, enqueued_at__lt=cutoff)
        | Q(next_attempt_at__isnull=True, enqueued_at__isnull=True)
        | Q(next_attempt_at__lt=cutoff)
    )


def _orphaned(now: datetime.datetime) -> Q:
    """Claimed by an attempt whose lease is over (its worker died) and not queued again within a lease."""
    expired = now - claim_lease()
    return Q(claimed_at__lt=expired) & (Q(enqueued_at__isnull=True) | Q(enqueued_at__lt=expired))


def undelivered_sweep(
    *, now: datetime.datetime | None = None, older_than: int | None = None, limit: int = 2000
) -> tuple[list[int], list[int]]:
    """Queue again what is still undelivered (broker down, worker killed). Beat runs it every 30 seconds.

    A notification claimed by an attempt that did not finish is queued again once the claim's lease is
    over (NOTIFICATIONS_CLAIM_LEASE_SECONDS, 60 s); one never claimed, ``older_than`` seconds after it was
    queued (the admin's "sweep after"). Returns (notification ids, webhook delivery ids) queued again.
    A row queued twice is still sent once: its claim lets one attempt at a time hold it.
    """
    now = now or timezone.now()
    after = NotificationSettings.load().sweep_after_seconds if older_than is None else older_than
    pending = Notification.Status.PENDING
    with transaction.atomic():
        notes = list(
            Notification.objects.filter(status=pending)
            .filter((Q(claimed_at__isnull=True) & _due_for_sweep(now, after)) | _orphaned(now))
            .select_for_update(skip_locked=True)
            .order_by("pk")
            .values_list("pk", flat=True)[:limit]
        )
        hooks = list(
            WebhookDelivery.objects.filter(status=WebhookDelivery.Status.PENDING)
            .filter(_due_for_sweep(now, after))
            .select_for_update(skip_locked=True)
            .order_by("pk")
            .values_list("pk", flat=True)[:limit]
        )
        Notification.objects.filter(pk__in=notes).update(enqueued_at=now, next_attempt_at=None)
        WebhookDelivery.objects.filter(pk__in=hooks).update(enqueued_at=now, next_attempt_at=None)
        if notes:
            transaction.on_commit(partial(enqueue.notifications, notes))
        if hooks:
            transaction.on_commit(partial(enqueue.webhook_deliveries, hooks))
    return notes, hooks


def _retry_failed(*, actor, model, pk: int, what: str, enqueue_ids) -> Any:
    """Put a failed notification or webhook delivery back in the queue, from the start of its retries."""
    if not roles_of(actor).omb_admin:
        raise PermissionDenied(f"Only OMB admins retry {what}s.")
    with transaction.atomic():
        row = model.objects.select_for_update().get(pk=pk)
        if row.status != model.Status.FAILED:
            raise ValidationError(f"Only a failed {what} can be sent again.")
        row.status = model.Status.PENDING
        row.attempts = 0
        row.failed_at = None
        row.enqueued_at = timezone.now()
        row.save(update_fields=["status", "attempts", "failed_at", "enqueued_at"])
        transaction.on_commit(partial(enqueue_ids, [row.pk]))
    return row


def notification_retry(*, actor, notification: Notification) -> Notification:
    """An OMB admin sends a failed notification again (from the admin)."""
    return _retry_failed(
        actor=actor, model=Notification, pk=notification.pk, what="notification", enqueue_ids=enqueue.notifications
    )


def webhook_delivery_retry(*, actor, delivery: WebhookDelivery) -> WebhookDelivery:
    """An OMB admin sends a failed webhook delivery again (from the admin)."""
    return _retry_failed(
        actor=actor,
        model=WebhookDelivery,
        pk=delivery.pk,
        what="webhook delivery",
        enqueue_ids=enqueue.webhook_deliveries,
    )
