"""OMB admins send a failed notification or webhook delivery again, from the start of its retries."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from notifications import services
from notifications.models import Notification, WebhookDelivery, WebhookSubscription


@pytest.fixture
def failed_notification(deputy):
    return Notification.objects.create(
        rule="card_issued",
        subject="card:1",
        recipient=deputy,
        occurrence="issued",
        title="A challenge card was issued",
        status=Notification.Status.FAILED,
        attempts=5,
        failed_at=timezone.now(),
    )


@pytest.fixture
def failed_delivery(agency):
    subscription = WebhookSubscription.objects.create(
        agency=agency, event_type="card.updated", url="http://127.0.0.1:9/"
    )
    return WebhookDelivery.objects.create(
        subscription=subscription,
        event_type="card.updated",
        event_id="card-1-v2",
        payload={"card": 1},
        status=WebhookDelivery.Status.FAILED,
        attempts=6,
        failed_at=timezone.now(),
    )


def test_an_omb_admin_queues_a_failed_notification_again(
    failed_notification, admin_user, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        services.notification_retry(actor=admin_user, notification=failed_notification)
    failed_notification.refresh_from_db()
    assert failed_notification.status == Notification.Status.PENDING
    assert failed_notification.attempts == 0
    assert failed_notification.failed_at is None
    assert len(callbacks) == 1


def test_an_omb_admin_queues_a_failed_webhook_delivery_again(failed_delivery, admin_user):
    services.webhook_delivery_retry(actor=admin_user, delivery=failed_delivery)
    failed_delivery.refresh_from_db()
    assert failed_delivery.status == WebhookDelivery.Status.PENDING
    assert failed_delivery.attempts == 0


def test_only_omb_admins_retry(failed_notification, failed_delivery, deputy, omb_viewer_user):
    for actor in (deputy, omb_viewer_user):
        with pytest.raises(PermissionDenied):
            services.notification_retry(actor=actor, notification=failed_notification)
        with pytest.raises(PermissionDenied):
            services.webhook_delivery_retry(actor=actor, delivery=failed_delivery)
    failed_notification.refresh_from_db()
    assert failed_notification.status == Notification.Status.FAILED


def test_only_a_failed_notification_is_sent_again(failed_notification, admin_user):
    Notification.objects.filter(pk=failed_notification.pk).update(status=Notification.Status.SENT, failed_at=None)
    with pytest.raises(ValidationError, match="Only a failed notification"):
        services.notification_retry(actor=admin_user, notification=failed_notification)
