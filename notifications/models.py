"""Notifications, the rules that cause them, and how they reach people and agency tools.

Fields and constraints only: every write goes through services.py. A Notification row is
both the inbox entry and the e-mail's delivery record; its unique key (rule, subject,
recipient, occurrence) is what makes each notification happen once.
"""

from __future__ import annotations

import datetime
import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from .webhooks import standard_secret, url_problem


class Rule(models.TextChoices):
    MEETING_REMINDER = "meeting_reminder", "Reminder before a PMC meeting"
    STALE_CARDS = "stale_cards", "Cards not updated since the last meeting"
    CARD_ISSUED = "card_issued", "A challenge card issued to your agency"
    ACTION_OVERDUE = "action_overdue", "A follow-up action overdue"
    CARD_UPDATED = "card_updated", "An agency update on a card you issued"
    MENTION = "mention", "You are mentioned in a comment on a card"
    MEETING_RECORD = "meeting_record", "The record of a meeting you attended"
    MEETING_INVITATION = "meeting_invitation", "Calendar invitations to PMC meetings"
    # Not an event: the preference to get one e-mail a day instead of one per event (on by default for OMB admins),
    # and the daily e-mail itself.
    DAILY_DIGEST = "daily_digest", "One daily digest instead of an e-mail per event"


SCAN_RULES = (Rule.MEETING_REMINDER, Rule.STALE_CARDS)
# A daily digest covers the notifications left for it in the day before it is made.
DIGEST_WINDOW = datetime.timedelta(hours=24)
# What a daily digest gathers (for those who chose it): one e-mail per event otherwise. Meeting reminders,
# invitations and the stale-cards list (a digest already) keep their own e-mails.
DIGEST_RULES = frozenset(Rule.values) - {
    Rule.MEETING_REMINDER,
    Rule.MEETING_INVITATION,
    Rule.STALE_CARDS,
    Rule.DAILY_DIGEST,
}


class NotificationSettings(models.Model):
    """Site-wide switches OMB admins change in the admin, without a deploy. One row (pk=1)."""

    send_time = models.TimeField(
        default=datetime.time(8, 0), help_text="Eastern time from which the day's reminders go out."
    )
    card_issued_enabled = models.BooleanField("notify when a card is issued", default=True)
    card_updated_enabled = models.BooleanField("notify the issuer when an agency posts an update", default=True)
    action_overdue_enabled = models.BooleanField("notify when a follow-up action is overdue", default=True)
    email_max_attempts = models.PositiveSmallIntegerField(
        default=5, validators=[MinValueValidator(1), MaxValueValidator(20)]
    )
    webhook_max_attempts = models.PositiveSmallIntegerField(
        default=6, validators=[MinValueValidator(1), MaxValueValidator(20)]
    )
    retry_base_seconds = models.PositiveIntegerField(
        default=30, help_text="First retry after this many seconds, doubling after each failure."
    )
    sweep_after_seconds = models.PositiveIntegerField(
        default=120, help_text="A notification still undelivered this long after it was queued is queued again."
    )

    class Meta:
        verbose_name = "notification settings"
        verbose_name_plural = "notification settings"

    def __str__(self) -> str:
        return "Notification settings"

    @classmethod
    def load(cls) -> NotificationSettings:
        """The one settings row; defaults when nobody has saved it yet."""
        return cls.objects.filter(pk=1).first() or cls(pk=1)


class ReminderRule(models.Model):
    """How many business days before a meeting a reminder goes out (weekends and federal holidays skipped)."""

    rule = models.CharField(
        max_length=20,
        choices=[
            (Rule.MEETING_REMINDER.value, Rule.MEETING_REMINDER.label),
            (Rule.STALE_CARDS.value, Rule.STALE_CARDS.label),
        ],
    )
    business_days_before = models.PositiveSmallIntegerField(validators=[MinValueValidator(1), MaxValueValidator(30)])
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["rule", "-business_days_before"]
        constraints = [
            models.UniqueConstraint(
                fields=["rule", "business_days_before"],
                name="one_reminder_rule_per_offset",
                violation_error_message="There is already a reminder that many business days before.",
            ),
            models.CheckConstraint(
                condition=Q(business_days_before__gte=1),
                name="reminder_at_least_one_business_day_before",
                violation_error_message="A reminder goes out at least one business day before the meeting.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_rule_display()}: {self.business_days_before} business days before"


class NotificationQuerySet(models.QuerySet):
    def visible_to(self, user) -> NotificationQuerySet:
        """People see their own notifications only, never someone else's inbox."""
        if not getattr(user, "is_authenticated", False):
            return self.none()
        return self._inbox_of(user)

    def _inbox_of(self, recipient) -> NotificationQuerySet:
        return self.filter(recipient=recipient).exclude(status=Notification.Status.CANCELLED)

    def unread(self) -> NotificationQuerySet:
        return self.filter(read_at__isnull=True)

    def unread_count_of(self, recipient: models.Expression) -> models.Expression:
        """The recipient's unread count as a sub-select, so the user's own query brings the header's badge."""
        counted = (
            self._inbox_of(recipient)
            .unread()
            .order_by()
            .values("recipient")
            .annotate(unread=models.Count("pk"))
            .values("unread")
        )
        return Coalesce(models.Subquery(counted), 0)


class Notification(models.Model):
    """One notification to one person: an inbox entry and an e-mail sent at most once."""

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting to be sent"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"
        NO_EMAIL = "no_email", "In the inbox only (no e-mail address)"
        IN_DIGEST = "in_digest", "Sent in the daily digest"

    rule = models.CharField(max_length=20, choices=Rule.choices)
    subject = models.CharField(max_length=100, help_text='What it is about, e.g. "meeting:4/agency:7" or "card:12".')
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    occurrence = models.CharField(max_length=60, help_text='Which time, e.g. "7bd:2026-12-01" or "issued".')
    meeting = models.ForeignKey(
        "challenge_cards.Meeting", null=True, blank=True, on_delete=models.CASCADE, related_name="notifications"
    )
    agency = models.ForeignKey("agencies.Agency", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    card = models.ForeignKey(
        "challenge_cards.ChallengeCard", null=True, blank=True, on_delete=models.CASCADE, related_name="notifications"
    )
    action = models.ForeignKey(
        "challenge_cards.FollowUpAction", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    title = models.CharField(max_length=300)
    url = models.CharField(max_length=500, blank=True, help_text="Where the notification leads, a path on this site.")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    batch = models.UUIDField(null=True, blank=True, db_index=True, help_text="The scan or change that created it.")
    read_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    enqueued_at = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    # The delivery attempt that holds the row (services/delivery.py): claimed and committed before sending, so a
    # claim left by a worker that died is seen, and taken again once its lease is over.
    claimed_by = models.UUIDField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)

    objects = NotificationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["rule", "subject", "recipient", "occurrence"],
                name="notification_once_per_occurrence",
                violation_error_message="This notification was already made.",
            ),
        ]
        indexes = [
            models.Index(fields=["recipient", "read_at"], name="notification_inbox"),
            models.Index(fields=["status", "enqueued_at"], name="notification_status_queued"),
        ]

    def __str__(self) -> str:
        return f"{self.get_rule_display()} to {self.recipient_id}: {self.title}"

    @property
    def is_read(self) -> bool:
        return self.read_at is not None


class Preference(models.Model):
    """A person's choice to switch a kind of notification off (absent means on)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preferences"
    )
    rule = models.CharField(max_length=20, choices=Rule.choices)
    enabled = models.BooleanField(default=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "rule"], name="one_preference_per_user_and_rule")]

    def __str__(self) -> str:
        return f"{self.user}: {self.get_rule_display()} {'on' if self.enabled else 'off'}"


def new_feed_token() -> str:
    return secrets.token_urlsafe(32)


class CalendarFeed(models.Model):
    """A private iCalendar feed URL; replacing the token revokes the old URL."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_feed")
    token = models.CharField(max_length=64, unique=True, default=new_feed_token)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"Calendar feed of {self.user}"


class MeetingInvitation(models.Model):
    """The calendar invitation of a meeting: its SEQUENCE, raised on every change so calendars replace the old one."""

    meeting = models.OneToOneField("challenge_cards.Meeting", on_delete=models.CASCADE, related_name="invitation")
    sequence = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"Invitation to the {self.meeting}, sequence {self.sequence}"


class EventType(models.TextChoices):
    CARD_ISSUED = "card.issued", "A card issued"
    CARD_UPDATED = "card.updated", "A card updated by the agency"
    CARD_REVIEWED = "card.reviewed", "A card reviewed by OMB"
    ACTION_CHANGED = "action.changed", "A follow-up action changed"
    ACTION_OVERDUE = "action.overdue", "A follow-up action overdue"
    MEETING_CHANGED = "meeting.changed", "A meeting moved or changed"
    MEETING_CANCELLED = "meeting.cancelled", "A meeting cancelled"


def new_webhook_secret() -> str:
    return secrets.token_hex(32)


class WebhookSubscription(models.Model):
    """An agency tool's URL that receives signed events of one type for one agency."""

    agency = models.ForeignKey("agencies.Agency", on_delete=models.CASCADE, related_name="webhook_subscriptions")
    event_type = models.CharField(max_length=20, choices=EventType.choices)
    url = models.URLField(max_length=500)
    secret = models.CharField(
        max_length=128, default=new_webhook_secret, help_text="Shared with the agency tool to check signatures."
    )
    active = models.BooleanField(default=True)
    description = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["agency__name", "event_type"]
        constraints = [
            models.UniqueConstraint(
                fields=["agency", "event_type", "url"],
                name="one_webhook_per_agency_event_and_url",
                violation_error_message="This URL already receives this event for this agency.",
            )
        ]

    def __str__(self) -> str:
        return f"{self.agency.abbreviation} {self.event_type} → {self.url}"

    def clean(self) -> None:
        """Only public https addresses (notifications.webhooks.url_problem); checked again when sending."""
        problem = url_problem(self.url or "")
        if problem:
            raise ValidationError({"url": problem})

    @property
    def standard_webhooks_secret(self) -> str:
        """The secret as a Standard Webhooks key (whsec_...), for the receiver's off-the-shelf library."""
        return standard_secret(self.secret)


class WebhookDelivery(models.Model):
    """One event sent to one subscription: the delivery log OMB admins read."""

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting to be sent"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Failed"

    subscription = models.ForeignKey(WebhookSubscription, on_delete=models.CASCADE, related_name="deliveries")
    event_type = models.CharField(max_length=20, choices=EventType.choices)
    event_id = models.CharField(max_length=120)
    payload = models.JSONField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    enqueued_at = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "webhook deliveries"
        constraints = [
            models.UniqueConstraint(fields=["subscription", "event_id"], name="webhook_event_once_per_subscription")
        ]
        indexes = [models.Index(fields=["status", "enqueued_at"], name="webhook_status_queued")]

    def __str__(self) -> str:
        return f"{self.event_type} {self.event_id} → {self.subscription.url}"


def unread_count_of_user(user_id: models.Expression) -> models.Expression:
    """The page header's unread count, loaded with the signed-in user (SIGNED_IN_USER_ANNOTATIONS)."""
    return Notification.objects.unread_count_of(user_id)
