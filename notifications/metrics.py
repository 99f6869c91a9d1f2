"""The notification outbox for /metrics (core.metrics reads METRICS_COLLECTORS): size, age, failures.

Undelivered means pending: written, not yet sent (e-mail) or delivered (webhook). Its size and the age of
its oldest row say whether the workers keep up; failed rows are deliveries given up on after their retries.
"""

from __future__ import annotations

from collections.abc import Iterator

from django.db.models import Count, Min
from django.utils import timezone
from prometheus_client.core import GaugeMetricFamily

from .models import Notification, WebhookDelivery


class OutboxCollector:
    def collect(self) -> Iterator[GaugeMetricFamily]:
        now = timezone.now()
        size = GaugeMetricFamily(
            "cc_notifications_outbox_size", "Notifications and webhook deliveries not yet delivered.", labels=["kind"]
        )
        age = GaugeMetricFamily(
            "cc_notifications_outbox_oldest_age_seconds",
            "Age of the oldest undelivered notification or webhook delivery (0 when none).",
            labels=["kind"],
        )
        failed = GaugeMetricFamily(
            "cc_notifications_failed", "Notifications and webhook deliveries that failed for good.", labels=["kind"]
        )
        for kind, model in (("email", Notification), ("webhook", WebhookDelivery)):
            pending = model.objects.filter(status=model.Status.PENDING).aggregate(
                count=Count("pk"), oldest=Min("created_at")
            )
            size.add_metric([kind], pending["count"])
            oldest = pending["oldest"]
            age.add_metric([kind], (now - oldest).total_seconds() if oldest else 0.0)
            failed.add_metric([kind], model.objects.filter(status=model.Status.FAILED).count())
        yield from (size, age, failed)
