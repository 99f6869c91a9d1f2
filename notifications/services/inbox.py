"""A person's inbox: marking read, and the failure counts OMB admins see beside it."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from agencies.roles import roles_of

from ..models import Notification, WebhookDelivery


def notification_mark_read(*, user, notification: Notification | int) -> Notification:
    """Mark one of the person's own notifications read (another's is not found); the first time read stays."""
    notification_id = notification.pk if isinstance(notification, Notification) else notification
    with transaction.atomic():
        found = Notification.objects.visible_to(user).select_for_update().get(pk=notification_id)
        if found.read_at is None:
            found.read_at = timezone.now()
            found.save(update_fields=["read_at"])
    return found


def notifications_mark_all_read(*, user) -> int:
    """Mark every unread notification of the person read, in one update; returns how many."""
    return Notification.objects.visible_to(user).unread().update(read_at=timezone.now())


def delivery_failures_for(user) -> dict[str, int]:
    """E-mails and webhooks that failed for good, for OMB admins (the admin lists them and sends them
    again); nobody else is shown them."""
    if not roles_of(user).omb_admin:
        return {}
    return {
        "failed_emails": Notification.objects.filter(status=Notification.Status.FAILED).count(),
        "failed_webhooks": WebhookDelivery.objects.filter(status=WebhookDelivery.Status.FAILED).count(),
    }
