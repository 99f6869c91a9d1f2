"""Periodic housekeeping of the shared API plumbing (Celery beat)."""

from celery import shared_task

from core.api.idempotency import idempotency_purge_expired


# The task keeps the name it had in the agencies app: messages queued under it, and beats and workers of
# the previous release during a rolling deploy, still find it.
@shared_task(name="agencies.tasks.purge_expired_idempotency_keys", ignore_result=True)
def purge_expired_idempotency_keys() -> int:
    """Idempotency records are kept 24 hours; without this the table only grows."""
    return idempotency_purge_expired()
