"""Meetings, challenge cards, follow-up actions and their history.

Fields, constraints and choices only: every write goes through services/, every read starts in querysets.py.
"""

from __future__ import annotations

import uuid
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from .querysets import (
    CardUpdateQuerySet,
    ChallengeCardQuerySet,
    EvidenceQuerySet,
    FollowUpActionQuerySet,
    MeetingQuerySet,
)

EASTERN = ZoneInfo("America/New_York")


class Rating(models.TextChoices):
    """The traffic-light rating of the old PMA scorecard."""

    GREEN = "green", "Green"
    YELLOW = "yellow", "Yellow"
    RED = "red", "Red"


class PmaPriority(models.Model):
    """One priority of the President's Management Agenda."""

    number = models.PositiveSmallIntegerField(unique=True)
    title = models.CharField(max_length=200)
    short_title = models.CharField(max_length=60)
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["number"]
        verbose_name = "PMA priority"
        verbose_name_plural = "PMA priorities"

    def __str__(self) -> str:
        return f"Priority {self.number}: {self.short_title}"


class PmaStrategy(models.Model):
    """A strategy under a PMA priority, such as 'Improve federal hiring'."""

    priority = models.ForeignKey(PmaPriority, on_delete=models.CASCADE, related_name="strategies")
    number = models.PositiveSmallIntegerField()
    title = models.CharField(max_length=200)

    class Meta:
        ordering = ["priority__number", "number"]
        verbose_name = "PMA strategy"
        verbose_name_plural = "PMA strategies"
        constraints = [
            models.UniqueConstraint(fields=["priority", "number"], name="unique_strategy_number_per_priority"),
        ]

    def __str__(self) -> str:
        return f"{self.priority.number}.{self.number} {self.title}"


# The longest a PMC meeting may be, in minutes: pages, API and admin share it (the model checks it).
MEETING_MAX_MINUTES = 600


class Meeting(models.Model):
    """A monthly meeting of the President's Management Council."""

    class Status(models.TextChoices):
        SCHEDULED = "scheduled", "Scheduled"
        HELD = "held", "Held"
        CANCELLED = "cancelled", "Cancelled"

    starts_at = models.DateTimeField(help_text="Stored in UTC; shown in Eastern time.")
    duration_minutes = models.PositiveSmallIntegerField(
        default=90, validators=[MinValueValidator(1), MaxValueValidator(MEETING_MAX_MINUTES)]
    )
    location = models.CharField(max_length=200, blank=True)
    video_url = models.URLField(blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.SCHEDULED)
    agenda_notes = models.TextField(blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = MeetingQuerySet.as_manager()

    class Meta:
        ordering = ["starts_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["starts_at"],
                condition=~Q(status="cancelled"),
                name="one_meeting_at_a_time",
                violation_error_message="Another meeting is already scheduled at that time.",
            ),
            models.CheckConstraint(
                condition=Q(duration_minutes__gte=1),
                name="meeting_duration_positive",
                violation_error_message="A meeting lasts at least a minute.",
            ),
        ]
        indexes = [models.Index(fields=["status", "starts_at"], name="meeting_status_start")]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("challenge_cards:meeting_detail", args=[self.pk])

    @property
    def starts_at_eastern(self):
        return self.starts_at.astimezone(EASTERN)

    @property
    def title(self) -> str:
        return f"PMC meeting, {self.starts_at_eastern:%B %-d, %Y}"


class Horizon(models.TextChoices):
    MONTH = "month", "This month"
    YEAR = "year", "This year"


class CardStatus(models.TextChoices):
    NOT_STARTED = "not_started", "Not started"
    IN_PROGRESS = "in_progress", "In progress"
    AT_RISK = "at_risk", "At risk"
    BLOCKED = "blocked", "Blocked"
    DONE = "done", "Done"


class Disposition(models.TextChoices):
    """OMB's decision on a card at or after a meeting."""

    OPEN = "open", "Open"
    ACCEPTED = "accepted", "Accepted"
    CARRIED_OVER = "carried_over", "Carried over"
    DROPPED = "dropped", "Dropped"


class ChallengeCard(models.Model):
    """What one agency's deputy secretary is asked to work on, issued at a meeting."""

    meeting = models.ForeignKey(Meeting, on_delete=models.PROTECT, related_name="cards")
    agency = models.ForeignKey("agencies.Agency", on_delete=models.PROTECT, related_name="cards")
    issued_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="cards_received",
        help_text="The agency's deputy secretary when the card was issued.",
    )
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="cards_issued"
    )
    issued_at = models.DateTimeField()
    issue_batch = models.UUIDField(
        default=uuid.uuid4, db_index=True, help_text="Cards issued together to several agencies share this."
    )
    title = models.CharField(max_length=200)
    ask = models.TextField(help_text="What the deputy secretary is asked to do.")
    priority = models.ForeignKey(PmaPriority, on_delete=models.PROTECT, related_name="cards")
    strategy = models.ForeignKey(PmaStrategy, null=True, blank=True, on_delete=models.SET_NULL, related_name="cards")
    horizon = models.CharField(max_length=5, choices=Horizon.choices, default=Horizon.MONTH)
    due_date = models.DateField()
    status = models.CharField(max_length=12, choices=CardStatus.choices, default=CardStatus.NOT_STARTED)
    agency_rating = models.CharField(max_length=6, choices=Rating.choices, blank=True)
    omb_rating = models.CharField("OMB rating", max_length=6, choices=Rating.choices, blank=True)
    metric_name = models.CharField(max_length=200, blank=True)
    metric_unit = models.CharField(max_length=40, blank=True)
    metric_baseline = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    metric_target = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    metric_value = models.DecimalField("value now", max_digits=14, decimal_places=2, null=True, blank=True)
    carried_over_from = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="carried_over_to"
    )
    carry_count = models.PositiveSmallIntegerField(default=0, help_text="How many times this ask was carried over.")
    disposition = models.CharField(max_length=12, choices=Disposition.choices, default=Disposition.OPEN)
    disposition_reason = models.TextField(blank=True)
    version = models.PositiveIntegerField(default=1, help_text="Raised by every change; refuses stale writes.")
    last_agency_update_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    objects = ChallengeCardQuerySet.as_manager()

    class Meta:
        ordering = ["due_date", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(metric_target__isnull=True) | ~Q(metric_name=""),
                name="card_metric_target_needs_a_name",
                violation_error_message="A measurable target needs a metric name.",
            ),
            models.CheckConstraint(
                condition=~Q(title="") & ~Q(ask=""),
                name="card_title_and_ask_not_blank",
                violation_error_message="A card needs a title and an ask.",
            ),
            models.CheckConstraint(
                condition=Q(disposition__in=["open", "accepted"]) | ~Q(disposition_reason=""),
                name="card_disposition_reason_required",
                violation_error_message="Carrying over or dropping a card needs a reason.",
            ),
            models.CheckConstraint(
                condition=Q(carried_over_from__isnull=True) | Q(carry_count__gte=1),
                name="card_carried_over_counts",
                violation_error_message="A carried-over card has a carry count of at least one.",
            ),
            models.UniqueConstraint(
                fields=["meeting", "agency", "title"],
                name="unique_card_title_per_agency_and_meeting",
                violation_error_message="This agency already has a card with that title at this meeting.",
            ),
        ]
        indexes = [
            models.Index(fields=["agency", "disposition", "due_date"], name="card_agency_open_due"),
            models.Index(fields=["meeting", "agency"], name="card_meeting_agency"),
            models.Index(fields=["status", "due_date"], name="card_status_due"),
            models.Index(fields=["due_date", "id"], name="card_due_id"),  # API card list order (else: sort all)
            models.Index(fields=["issued_at", "id"], name="card_issued_id"),  # card list page's, newest first
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.agency.abbreviation})"

    def get_absolute_url(self) -> str:
        return reverse("challenge_cards:card_detail", args=[self.pk])

    @property
    def is_open(self) -> bool:
        return self.disposition == Disposition.OPEN

    @property
    def has_metric(self) -> bool:
        return bool(self.metric_name)


class ActionStatus(models.TextChoices):
    OPEN = "open", "Open"
    DONE = "done", "Done"
    DROPPED = "dropped", "Dropped"


class ActionOwnerSide(models.TextChoices):
    """Agencies often need something from OMB (or OPM, GSA) to move a card."""

    AGENCY = "agency", "Agency"
    OMB = "omb", "OMB"


class FollowUpAction(models.Model):
    """A follow-up action identified for a card, tracked until done."""

    card = models.ForeignKey(ChallengeCard, on_delete=models.CASCADE, related_name="actions")
    description = models.CharField(max_length=500)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="actions_owned"
    )
    owner_name = models.CharField(max_length=200, blank=True, help_text="When the owner has no account.")
    owned_by = models.CharField(max_length=6, choices=ActionOwnerSide.choices, default=ActionOwnerSide.AGENCY)
    due_date = models.DateField(null=True, blank=True)
    status = models.CharField(max_length=8, choices=ActionStatus.choices, default=ActionStatus.OPEN)
    completed_at = models.DateTimeField(null=True, blank=True)
    dropped_reason = models.TextField(blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)
    version = models.PositiveIntegerField(default=1)

    objects = FollowUpActionQuerySet.as_manager()

    class Meta:
        ordering = ["due_date", "id"]
        verbose_name = "follow-up action"
        constraints = [
            models.CheckConstraint(
                condition=~Q(description=""),
                name="action_description_not_blank",
                violation_error_message="Say what the action is.",
            ),
            models.CheckConstraint(
                condition=Q(status="done", completed_at__isnull=False)
                | (~Q(status="done") & Q(completed_at__isnull=True)),
                name="action_completed_at_matches_status",
                violation_error_message="A done action has a completion time, and only a done action has one.",
            ),
            models.CheckConstraint(
                condition=~Q(status="dropped") | ~Q(dropped_reason=""),
                name="action_drop_needs_reason",
                violation_error_message="Dropping an action needs a reason.",
            ),
        ]
        indexes = [
            models.Index(fields=["card", "status"], name="action_card_status"),
            models.Index(fields=["status", "due_date"], name="action_status_due"),
        ]

    def __str__(self) -> str:
        return self.description

    @property
    def owner_display(self) -> str:
        if (owner := self.owner) is not None:  # None, without a query, when there is no owner
            return owner.get_full_name() or owner.username
        return self.owner_name or "Unassigned"


class UpdateKind(models.TextChoices):
    ISSUED = "issued", "Issued"
    UPDATE = "update", "Update"
    OMB_REVIEW = "omb_review", "OMB review"
    CARRIED_OVER = "carried_over", "Carried over"
    RETURNED = "returned", "Returned"
    ACTION = "action", "Follow-up action"
    CERTIFIED = "certified", "Certified"


class Certification(models.TextChoices):
    NOT_REQUIRED = "not_required", "Not required"
    PENDING = "pending", "Awaiting the deputy secretary"
    CERTIFIED = "certified", "Certified"


class CardUpdate(models.Model):
    """An append-only history entry: who changed what on a card, when, and on whose behalf."""

    card = models.ForeignKey(ChallengeCard, on_delete=models.CASCADE, related_name="updates")
    kind = models.CharField(max_length=12, choices=UpdateKind.choices, default=UpdateKind.UPDATE)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="card_updates"
    )
    on_behalf_of = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(db_index=True)
    changes = models.JSONField(default=dict, blank=True, help_text='{"field": [old, new], ...}')
    status_to = models.CharField(
        max_length=12, choices=CardStatus.choices, blank=True, help_text="The status this update set, if any."
    )
    note = models.TextField(blank=True)
    certification = models.CharField(max_length=12, choices=Certification.choices, default=Certification.NOT_REQUIRED)
    certified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    certified_at = models.DateTimeField(null=True, blank=True)

    objects = CardUpdateQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        get_latest_by = "created_at"
        constraints = [
            models.CheckConstraint(
                condition=~Q(status_to__in=["at_risk", "blocked"]) | ~Q(note=""),
                name="update_at_risk_or_blocked_needs_note",
                violation_error_message="Say why the card is at risk or blocked.",
            ),
        ]
        indexes = [models.Index(fields=["card", "created_at"], name="update_card_created")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}, {timezone.localtime(self.created_at):%b %-d, %Y %-I:%M %p}"

    def save(self, *args, **kwargs) -> None:
        # History is append-only; only certification may be stamped on a pending update.
        certification_fields = {"certification", "certified_by", "certified_at"}
        if self.pk is not None and not set(kwargs.get("update_fields") or ["*"]) <= certification_fields:
            raise ValueError("Card history is append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("Card history is append-only.")


def evidence_upload_to(instance: Evidence, filename: str) -> str:
    """A random stored name: the uploader's file name never reaches the file system."""
    suffix = filename.rsplit(".", 1)[-1].lower() if "." in filename else "bin"
    return f"evidence/{uuid.uuid4().hex}.{suffix}"


class Evidence(models.Model):
    """A file or a link that shows progress on a card; files are served only through a checked view."""

    card = models.ForeignKey(ChallengeCard, on_delete=models.CASCADE, related_name="evidence")
    title = models.CharField(max_length=200)
    file = models.FileField(upload_to=evidence_upload_to, blank=True)
    original_name = models.CharField(max_length=255, blank=True)
    content_type = models.CharField(max_length=100, blank=True)
    size = models.PositiveIntegerField(default=0)
    url = models.URLField("link", max_length=500, blank=True)
    added_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    on_behalf_of = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    added_at = models.DateTimeField(auto_now_add=True)

    objects = EvidenceQuerySet.as_manager()

    class Meta:
        ordering = ["-added_at", "-id"]
        verbose_name_plural = "evidence"
        constraints = [
            models.CheckConstraint(
                condition=(Q(file="") & ~Q(url="")) | (~Q(file="") & Q(url="")),
                name="evidence_is_a_file_or_a_link",
                violation_error_message="Evidence is either a file or a link.",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        if self.url:
            return self.url
        return reverse("challenge_cards:evidence_download", args=[self.pk])

    @property
    def is_file(self) -> bool:
        return bool(self.file)


class InterimTarget(models.Model):
    """A milestone on the way to a card's measurable target; the pace runs through these."""

    card = models.ForeignKey(ChallengeCard, on_delete=models.CASCADE, related_name="interim_targets")
    date = models.DateField()
    value = models.DecimalField(max_digits=14, decimal_places=2)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["card", "date"]
        constraints = [
            models.UniqueConstraint(
                fields=["card", "date"],
                name="one_interim_target_per_card_and_date",
                violation_error_message="This card already has an interim target on that date.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.value} by {self.date:%Y-%m-%d}"


class BriefingPacket(models.Model):
    """A meeting's briefing packet as a PDF, built by a Celery task that records its progress here."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Waiting to start"
        BUILDING = "building", "Being built"
        READY = "ready", "Ready"
        FAILED = "failed", "Failed"

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="briefing_packets")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    requested_at = models.DateTimeField(auto_now_add=True)
    email_admins = models.BooleanField(default=False, help_text="E-mail the PDF to the OMB admins when it is ready.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    status_since = models.DateTimeField(default=timezone.now, editable=False)  # last queued, or started building
    progress = models.PositiveSmallIntegerField(default=0, help_text="Percent done.")
    progress_note = models.CharField(max_length=200, blank=True)
    pdf = models.BinaryField(null=True, blank=True, editable=False)
    card_count = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-requested_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(progress__lte=100),
                name="packet_progress_at_most_100",
                violation_error_message="Progress is a percentage.",
            ),
        ]

    def __str__(self) -> str:
        return f"Briefing packet for the {self.meeting} ({self.get_status_display()})"

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.READY, self.Status.FAILED)
