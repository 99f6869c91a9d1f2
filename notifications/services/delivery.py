"""Delivery: each e-mail and webhook sent at most once per success, retried with backoff, then failed.

The tasks call these with an ID. A task can run twice (late acks, a killed worker), so each
delivery locks its row, sends, and marks it done in one transaction: the second run finds the
row no longer pending and does nothing. The sweeper queues again what the broker lost, and
OMB admins put a failed row back in the queue from the admin.
"""

from __future__ import annotations

import datetime
import logging
from dataclasses import dataclass
from functools import partial
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
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


def notification_deliver(*, notification_id: int, now: datetime.datetime | None = None) -> Outcome:
    """Send one notification's e-mail at most once: lock the row, send, mark it sent, in one transaction.

    A duplicate task finds the row no longer pending and does nothing. A failure counts an
    attempt and asks for a retry with backoff, until the last attempt marks it failed.
    """
    with transaction.atomic():
        notification = (
            Notification.objects.select_for_update(of=("self",))
            .select_related("recipient", "meeting", "card__agency", "agency", "action")
            .filter(pk=notification_id)
            .first()
        )
        if notification is None or notification.status != Notification.Status.PENDING:
            return Outcome(notification.status if notification else "missing")
        now = now or timezone.now()
        notification.attempts += 1
        try:
            reason = emails.reason_not_to_send(notification)
            if reason:
                raise emails.NothingToSend(reason)
            emails.send(emails.build(notification))
        except emails.NothingToSend as nothing:
            notification.status = Notification.Status.CANCELLED
            notification.cancelled_at = now
            notification.last_error = str(nothing)
            notification.save(update_fields=["status", "cancelled_at", "last_error"])
            return Outcome(Notification.Status.CANCELLED)
        except Exception as error:  # SMTP refusals, network errors, a down mail server
            conf = NotificationSettings.load()
            notification.last_error = f"{type(error).__name__}: {error}"[:2000]
            if notification.attempts >= conf.email_max_attempts:
                notification.status = Notification.Status.FAILED
                notification.failed_at = now
                notification.save(update_fields=["attempts", "last_error", "status", "failed_at"])
                logger.error("Notification %s failed for good: %s", notification.pk, notification.last_error)
                return Outcome(Notification.Status.FAILED)
            delay = backoff_seconds(notification.attempts, _retry_base(conf))
            notification.next_attempt_at = now + datetime.timedelta(seconds=delay)
            notification.enqueued_at = now
            notification.save(update_fields=["attempts", "last_error", "next_attempt_at", "enqueued_at"])
            return Outcome("retry", retry_in=delay)
        notification.status = Notification.Status.SENT
        notification.delivered_at = now
        notification.save(update_fields=["attempts", "status", "delivered_at", "last_error"])
    return Outcome(Notification.Status.SENT)


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


def _due_for_sweep(model, pending: str, now: datetime.datetime, after: int):
    cutoff = now - datetime.timedelta(seconds=after)
    return model.objects.filter(status=pending).filter(
        Q(next_attempt_at__isnull=True, enqueued_at__lt=cutoff)
        | Q(next_attempt_at__isnull=True, enqueued_at__isnull=True)
        | Q(next_attempt_at__lt=cutoff)
    )


def undelivered_sweep(
    *, now: datetime.datetime | None = None, older_than: int | None = None, limit: int = 2000
) -> tuple[list[int], list[int]]:
    """Queue again what is still undelivered long after it was queued (broker down, worker killed).

    Returns (notification ids, webhook delivery ids) queued again. A row queued twice is still
    sent once: the delivery locks it and finds it already sent.
    """
    now = now or timezone.now()
    after = NotificationSettings.load().sweep_after_seconds if older_than is None else older_than
    with transaction.atomic():
        notes = list(
            _due_for_sweep(Notification, Notification.Status.PENDING, now, after)
            .select_for_update(skip_locked=True)
            .order_by("pk")
            .values_list("pk", flat=True)[:limit]
        )
        hooks = list(
            _due_for_sweep(WebhookDelivery, WebhookDelivery.Status.PENDING, now, after)
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
