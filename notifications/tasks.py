"""Celery tasks: thin wrappers that load rows by ID and call services.

Tasks are acknowledged late and rejected back to the queue when a worker dies
(CELERY_TASK_ACKS_LATE, CELERY_TASK_REJECT_ON_WORKER_LOST), so a delivery can run twice;
the service's row lock makes the second run do nothing.
"""

from __future__ import annotations

import logging

from celery import shared_task

from . import services

logger = logging.getLogger(__name__)

# Publishing gives up quickly when the broker is down: the row stays pending and the sweeper queues it again.
PUBLISH_RETRY = {"max_retries": 2, "interval_start": 0.2, "interval_step": 0.5, "interval_max": 1}


def _publish(task, ids: list[int]) -> int:
    queued = 0
    for pk in ids:
        try:
            task.apply_async(args=[pk], retry=True, retry_policy=PUBLISH_RETRY)
        except Exception:  # broker down: the sweeper will queue the rest again later
            logger.exception("Could not queue %s for %s of %s rows; the sweeper will retry", task.name, pk, len(ids))
            break
        queued += 1
    return queued


def enqueue_notifications(ids: list[int]) -> int:
    """Called after commit with the new rows' IDs."""
    return _publish(deliver_notification, ids)


def enqueue_webhook_deliveries(ids: list[int]) -> int:
    return _publish(deliver_webhook, ids)


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=None, ignore_result=True)
def deliver_notification(self, notification_id: int) -> str:
    outcome = services.notification_deliver(notification_id=notification_id)
    if outcome.retry_in is not None:
        raise self.retry(countdown=outcome.retry_in)
    return outcome.status


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
