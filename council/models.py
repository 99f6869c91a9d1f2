"""Initiatives, comments on cards and the meeting's record: fields, constraints and choices only.

Every write goes through services/, every read starts from visible_to(user) in querysets.py.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse

from .querysets import CommentQuerySet, InitiativeQuerySet, MeetingRecordQuerySet


class Rollup(models.TextChoices):
    """How an initiative adds up its agencies' cards: chosen when it is made, never changed."""

    SUM = "sum", "Sum of the agencies' values"
    AVERAGE = "average", "Average of the agencies' values"
    COUNT_DONE = "count_done", "Number of agencies done"


class Initiative(models.Model):
    """A government-wide goal (pooled hiring: 400 hires) that groups the cards issued for it to many agencies."""

    title = models.CharField(max_length=200, unique=True)
    priority = models.ForeignKey("challenge_cards.PmaPriority", on_delete=models.PROTECT, related_name="initiatives")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="initiatives_owned",
        help_text="The owner at OMB.",
    )
    target_name = models.CharField(
        max_length=200, help_text="What is counted, e.g. people hired through pooled hiring."
    )
    target_value = models.DecimalField(max_digits=14, decimal_places=2)
    target_unit = models.CharField(max_length=40, blank=True)
    baseline = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    starts_on = models.DateField(help_text="Where the pace line starts.")
    target_date = models.DateField(help_text="When the government-wide target is due.")
    rollup = models.CharField(max_length=10, choices=Rollup.choices, default=Rollup.SUM)
    agency_table_shared = models.BooleanField(
        default=False, help_text="Agencies see each other's cards in this initiative (OMB decides)."
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    version = models.PositiveIntegerField(default=1)

    objects = InitiativeQuerySet.as_manager()

    class Meta:
        ordering = ["title"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(title="") & ~Q(target_name=""),
                name="initiative_title_and_target_named",
                violation_error_message="An initiative needs a title and says what its target counts.",
            ),
            models.CheckConstraint(
                condition=Q(target_date__gte=models.F("starts_on")),
                name="initiative_target_after_start",
                violation_error_message="The target date comes after the start.",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("council:initiative_detail", args=[self.pk])


class InitiativeCard(models.Model):
    """A card counted in an initiative; a card belongs to one initiative at most."""

    initiative = models.ForeignKey(Initiative, on_delete=models.CASCADE, related_name="memberships")
    card = models.OneToOneField(
        "challenge_cards.ChallengeCard", on_delete=models.CASCADE, related_name="initiative_link"
    )
    added_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["initiative", "card"]

    def __str__(self) -> str:
        return f"{self.card} in {self.initiative}"


class InitiativeChange(models.Model):
    """Append-only history of an initiative: made, cards added or removed, the agency table shared."""

    class Kind(models.TextChoices):
        CREATED = "created", "Created"
        CARD_ADDED = "card_added", "Card added"
        CARD_REMOVED = "card_removed", "Card removed"
        SHARING = "sharing", "Agency table sharing changed"

    initiative = models.ForeignKey(Initiative, on_delete=models.CASCADE, related_name="changes")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    card = models.ForeignKey(
        "challenge_cards.ChallengeCard", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    at = models.DateTimeField(auto_now_add=True)
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.initiative}"


class Comment(models.Model):
    """A message in the conversation on a card. Edited only by its author within 15 minutes; never deleted."""

    card = models.ForeignKey("challenge_cards.ChallengeCard", on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="card_comments")
    body = models.TextField()
    mentions = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="comment_mentions")
    created_at = models.DateTimeField()
    edited_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)

    objects = CommentQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(body=""), name="comment_not_blank", violation_error_message="Write a comment."
            ),
        ]
        indexes = [models.Index(fields=["card", "created_at"], name="comment_card_created")]

    def __str__(self) -> str:
        return f"Comment {self.pk} on card {self.card_id}"

    def delete(self, *args, **kwargs):
        raise ValueError("Comments are never deleted; a correction is a new comment.")


class CommentRevision(models.Model):
    """The text a comment had before an edit: every version of every comment is kept."""

    comment = models.ForeignKey(Comment, on_delete=models.CASCADE, related_name="revisions")
    body = models.TextField()
    replaced_at = models.DateTimeField()
    editor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["comment", "replaced_at", "id"]

    def __str__(self) -> str:
        return f"Earlier text of comment {self.comment_id}"


class AttendanceMode(models.TextChoices):
    IN_PERSON = "in_person", "In person"
    VIDEO = "video", "By video"


class MeetingRecord(models.Model):
    """The meeting's record: attendance, decisions on each card, minutes. Published at close; corrections versioned."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        PUBLISHED = "published", "Published"

    meeting = models.OneToOneField("challenge_cards.Meeting", on_delete=models.PROTECT, related_name="record")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    minutes = models.TextField(blank=True)
    version = models.PositiveIntegerField(default=0, help_text="The published version; 0 while a draft.")
    published_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = MeetingRecordQuerySet.as_manager()

    class Meta:
        ordering = ["-meeting__starts_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="draft", version=0) | Q(status="published", version__gte=1),
                name="record_version_matches_status",
                violation_error_message="A published record has a version; a draft has none.",
            ),
        ]

    def __str__(self) -> str:
        return f"Record of the {self.meeting}"

    def get_absolute_url(self) -> str:
        return reverse("council:record_detail", args=[self.meeting_id])


class Attendance(models.Model):
    """Who attended for an agency: its deputy secretary, or a named substitute; in person or by video."""

    record = models.ForeignKey(MeetingRecord, on_delete=models.CASCADE, related_name="attendance")
    agency = models.ForeignKey("agencies.Agency", on_delete=models.PROTECT, related_name="+")
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    name = models.CharField(max_length=200)
    mode = models.CharField(max_length=10, choices=AttendanceMode.choices, default=AttendanceMode.IN_PERSON)
    substitute = models.BooleanField(default=False, help_text="Attended in place of the deputy secretary.")

    class Meta:
        ordering = ["agency__name", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["record", "agency"],
                name="one_attendance_per_agency",
                violation_error_message="This agency's attendance is recorded already.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} for {self.agency}"


class RecordDecision(models.Model):
    """A decision taken on a card at the meeting's close-out, as the card's history recorded it."""

    class Decision(models.TextChoices):
        CONTINUED = "continued", "Continued"
        ACCEPTED = "accepted", "Accepted"
        CARRIED_OVER = "carried_over", "Carried over"
        DROPPED = "dropped", "Dropped"

    record = models.ForeignKey(MeetingRecord, on_delete=models.CASCADE, related_name="decisions")
    card = models.ForeignKey("challenge_cards.ChallengeCard", on_delete=models.PROTECT, related_name="+")
    decision = models.CharField(max_length=12, choices=Decision.choices)
    reason = models.TextField(blank=True)

    class Meta:
        ordering = ["card__agency__name", "card__title", "id"]
        constraints = [
            models.UniqueConstraint(fields=["record", "card"], name="one_decision_per_card_and_record"),
        ]

    def __str__(self) -> str:
        return f"{self.get_decision_display()}: {self.card}"


class RecordVersion(models.Model):
    """A published version of a meeting's record, frozen: the first at close, one more per correction."""

    record = models.ForeignKey(MeetingRecord, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    content = models.JSONField(help_text="Attendance, decisions and minutes as published.")
    correction_note = models.TextField(blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    published_at = models.DateTimeField()

    class Meta:
        ordering = ["record", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["record", "number"], name="one_record_version_number"),
            models.CheckConstraint(
                condition=Q(number=1) | ~Q(correction_note=""),
                name="record_correction_says_why",
                violation_error_message="Say what the correction changes.",
            ),
        ]

    def __str__(self) -> str:
        return f"Version {self.number} of {self.record}"

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None:
            raise ValueError("A published version of a record is never changed; publish a correction.")
        super().save(*args, **kwargs)
