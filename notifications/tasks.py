"""Celery tasks: thin wrappers that load rows by ID and call services.

Tasks are acknowledged late and rejected back to the queue when a worker dies
(CELERY_TASK_ACKS_LATE, CELERY_TASK_REJECT_ON_WORKER_LOST), so a delivery can run twice;
the service's claim (e-mail) or row lock (webhooks) makes the second run do nothing. E-mail
goes in batches: one task per batch of IDs, one SMTP session and two transactions per batch.
"""

from __future__ import annotations

import logging

from celery import shared_task

from . import services

logger = logging.getLogger(__name__)

# Publishing gives up quickly when the broker is down: the row stays pending and the sweeper queues it again.
PUBLISH_RETRY = {"max_retries": 2, "interval_start": 0.2, "interval_step": 0.5, "interval_max": 1}


# E-mails per task: large enough that a batch's reads and transactions cost little per message, small enough
# that a batch is sent well within the claim's lease; a few notifications are still spread over SPREAD tasks.
BATCH_SIZE = 100
SPREAD = 4


def _publish(task, args: list, countdown: float | None = None) -> int:
    queued = 0
    for arg in args:
        try:
            task.apply_async(args=[arg], countdown=countdown, retry=True, retry_policy=PUBLISH_RETRY)
        except Exception:  # broker down: the sweeper will queue the rest again later
            logger.exception("Could not queue %s (%s of %s); the sweeper will retry", task.name, queued, len(args))
            break
        queued += 1
    return queued


def batches(ids: list[int]) -> list[list[int]]:
    """IDs in batches of at most BATCH_SIZE, spread over up to SPREAD tasks when there are few."""
    size = max(1, min(BATCH_SIZE, -(-len(ids) // SPREAD)))
    return [ids[start : start + size] for start in range(0, len(ids), size)]


def enqueue_notifications(ids: list[int], countdown: float | None = None) -> int:
    """Called after commit with the rows' IDs; returns how many batches were queued."""
    return _publish(deliver_notifications, batches(list(ids)), countdown)


def enqueue_webhook_deliveries(ids: list[int]) -> int:
    return _publish(deliver_webhook, ids)


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def deliver_notifications(notification_ids: list[int]) -> str:
    """E-mail a batch: claim, send on one SMTP session, record (the service queues retries itself)."""
    return services.notifications_deliver(ids=notification_ids).summary()


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def deliver_notification(notification_id: int) -> str:
    """One notification: the name tasks queued before batching still carry."""
    return services.notification_deliver(notification_id=notification_id).status


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=None, ignore_result=True)
def deliver_webhook(self, delivery_id: int) -> str:
    outcome = services.webhook_deliver(delivery_id=delivery_id)
    if outcome.retry_in is not None:
        raise self.retry(countdown=outcome.retry_in)
    return outcome.status


@shared_task(ignore_result=True)
def scan_reminders() -> int:
    """Beat: create and queue every notification due now (the same code as `manage.py send_reminders`)."""
    result = services.reminders_scan()
    for line in result.lines():
        logger.info("Reminder scan: %s", line.strip())
    return len(result.created)


@shared_task(ignore_result=True)
def sweep_undelivered() -> int:
    """Beat: queue again what stayed undelivered (broker was down, a worker was killed)."""
    notes, hooks = services.undelivered_sweep()
    if notes or hooks:
        logger.warning("Queued again %s notifications and %s webhook deliveries", len(notes), len(hooks))
    return len(notes) + len(hooks)
