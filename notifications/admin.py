"""The admin OMB admins use: rules and settings without a deploy, failed deliveries, webhook log."""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError

from . import services
from .models import (
    Notification,
    NotificationSettings,
    ReminderRule,
    WebhookDelivery,
    WebhookSubscription,
)


@admin.register(NotificationSettings)
class NotificationSettingsAdmin(admin.ModelAdmin):
    list_display = ["__str__", "send_time", "card_issued_enabled", "card_updated_enabled", "action_overdue_enabled"]

    def has_add_permission(self, request) -> bool:
        return not NotificationSettings.objects.exists()

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(ReminderRule)
class ReminderRuleAdmin(admin.ModelAdmin):
    list_display = ["rule", "business_days_before", "active"]
    list_editable = ["active"]
    list_filter = ["rule", "active"]


def _retry(modeladmin, request, queryset, service, kwarg: str) -> None:
    done = 0
    for obj in queryset:
        try:
            service(actor=request.user, **{kwarg: obj})
            done += 1
        except (PermissionDenied, ValidationError) as error:
            modeladmin.message_user(request, f"{obj}: {error}", messages.WARNING)
    modeladmin.message_user(request, f"Queued {done} again.", messages.SUCCESS)


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["created_at", "rule", "recipient", "title", "status", "attempts", "delivered_at", "read_at"]
    list_filter = ["status", "rule", "created_at"]
    search_fields = ["title", "recipient__username", "recipient__email", "subject"]
    list_select_related = ["recipient"]
    readonly_fields = [field.name for field in Notification._meta.fields]
    date_hierarchy = "created_at"
    actions = ["retry_failed"]

    def has_add_permission(self, request) -> bool:
        return False

    @admin.action(description="Send the selected failed notifications again")
    def retry_failed(self, request, queryset):
        _retry(self, request, queryset, services.notification_retry, "notification")


@admin.register(WebhookSubscription)
class WebhookSubscriptionAdmin(admin.ModelAdmin):
    list_display = ["agency", "event_type", "url", "active", "created_at"]
    list_filter = ["event_type", "active", "agency"]
    search_fields = ["url", "agency__name", "agency__abbreviation"]
    readonly_fields = ["standard_webhooks_secret"]

    @admin.display(description="Secret for Standard Webhooks libraries")
    def standard_webhooks_secret(self, subscription: WebhookSubscription) -> str:
        return subscription.standard_webhooks_secret if subscription.pk else "(after saving)"


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = [
        "created_at",
        "event_type",
        "event_id",
        "subscription",
        "status",
        "attempts",
        "response_status",
        "last_error",
    ]
    list_filter = ["status", "event_type", "subscription__agency"]
    search_fields = ["event_id", "subscription__url"]
    list_select_related = ["subscription__agency"]
    readonly_fields = [field.name for field in WebhookDelivery._meta.fields]
    actions = ["retry_failed"]

    def has_add_permission(self, request) -> bool:
        return False

    @admin.action(description="Send the selected failed deliveries again")
    def retry_failed(self, request, queryset):
        _retry(self, request, queryset, services.webhook_delivery_retry, "delivery")
