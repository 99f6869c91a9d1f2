"""The one door from the services to the broker: IDs only, and only after commit.

Callers hand these to ``transaction.on_commit``, so a rolled-back change queues nothing and a
task never reads a row its transaction has not committed. The import is late because
tasks.py imports the services.
"""

from __future__ import annotations


def notifications(ids: list[int], countdown: float | None = None) -> None:
    """E-mail these notifications, in batches (``countdown``: not before so many seconds, for a retry)."""
    from ..tasks import enqueue_notifications

    enqueue_notifications(ids, countdown=countdown)


def webhook_deliveries(ids: list[int]) -> None:
    from ..tasks import enqueue_webhook_deliveries

    enqueue_webhook_deliveries(ids)
