"""Scheduling, changing, cancelling and closing PMC meetings (OMB admins only)."""

from __future__ import annotations

import calendar
import datetime
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from .. import permissions, signals
from ..domain import MEETING_YEARS, MEETING_YEARS_MESSAGE
from ..models import EASTERN, Meeting
from ._common import StaleWrite


def _require_meeting_admin(actor) -> None:
    if actor is not None and not permissions.can_manage_meetings(actor):
        raise PermissionDenied("Only OMB admins schedule and change meetings.")


def _validate_meeting_time(starts_at: datetime.datetime, *, exclude_pk: int | None = None) -> None:
    if timezone.is_naive(starts_at):
        raise ValidationError({"starts_at": "Give the time with its time zone."})
    if not MEETING_YEARS[0] <= starts_at.year <= MEETING_YEARS[1]:
        raise ValidationError({"starts_at": MEETING_YEARS_MESSAGE})
    clash = Meeting.objects.exclude(status=Meeting.Status.CANCELLED).filter(starts_at=starts_at)
    if exclude_pk:
        clash = clash.exclude(pk=exclude_pk)
    if clash.exists():
        # code "conflict": the API answers 409 (the state of the data, not the input, is the problem).
        clash_message = "Another meeting is already scheduled at that time."
        raise ValidationError({"starts_at": ValidationError(clash_message, code="conflict")})


@transaction.atomic
def meeting_schedule(
    *,
    actor,
    starts_at: datetime.datetime,
    duration_minutes: int = 90,
    location: str = "",
    video_url: str = "",
    agenda_notes: str = "",
) -> Meeting:
    """Schedule one PMC meeting."""
    _require_meeting_admin(actor)
    _validate_meeting_time(starts_at)
    meeting = Meeting(
        starts_at=starts_at,
        duration_minutes=duration_minutes,
        location=location,
        video_url=video_url,
        agenda_notes=agenda_notes,
        created_by=actor,
    )
    meeting.full_clean(validate_constraints=False)
    meeting.save()
    signals.meeting_scheduled.send(sender=Meeting, meeting=meeting, actor=actor)
    return meeting


def next_monthly_start(previous: datetime.datetime) -> datetime.datetime:
    """The same week and weekday of the following month, at the same Eastern wall time.

    The 2nd Tuesday stays the 2nd Tuesday; a 5th weekday becomes the month's last one.
    """
    local = previous.astimezone(EASTERN)
    week_index = (local.day - 1) // 7
    year, month = (local.year + 1, 1) if local.month == 12 else (local.year, local.month + 1)
    days = [
        day
        for day in range(1, calendar.monthrange(year, month)[1] + 1)
        if datetime.date(year, month, day).weekday() == local.weekday()
    ]
    day = days[min(week_index, len(days) - 1)]
    return datetime.datetime.combine(datetime.date(year, month, day), local.time(), tzinfo=EASTERN)


def default_due_date(meeting: Meeting) -> datetime.date:
    """A card is due at the meeting after the one that issued it (or a month on)."""
    following = (
        Meeting.objects.filter(status=Meeting.Status.SCHEDULED, starts_at__gt=meeting.starts_at)
        .order_by("starts_at")
        .first()
    )
    start = following.starts_at if following else next_monthly_start(meeting.starts_at)
    return start.astimezone(EASTERN).date()


def meeting_schedule_next(*, actor, after: Meeting | None = None, **details: Any) -> Meeting:
    """Schedule the meeting after ``after`` (default: the latest meeting), a month on."""
    if after is None:
        after = Meeting.objects.exclude(status=Meeting.Status.CANCELLED).order_by("-starts_at").first()
    if after is None:
        raise ValidationError("There is no meeting to schedule the next one from. Schedule the first meeting.")
    for field in ("duration_minutes", "location", "video_url"):
        details.setdefault(field, getattr(after, field))
    return meeting_schedule(actor=actor, starts_at=next_monthly_start(after.starts_at), **details)


@transaction.atomic
def meeting_update(
    *, actor, meeting: Meeting, expected_updated_at: datetime.datetime | None = None, **changes: Any
) -> Meeting:
    """Change a scheduled meeting's time, place or notes.

    ``expected_updated_at`` is the meeting's updated_at when the caller loaded it; a later
    change by someone else refuses the write (StaleWrite) instead of silently reverting it.
    """
    _require_meeting_admin(actor)
    meeting = Meeting.objects.select_for_update().get(pk=meeting.pk)
    if expected_updated_at is not None and meeting.updated_at != expected_updated_at:
        raise StaleWrite(
            None, "Someone else changed this meeting after you opened it. Review their change, then submit yours again."
        )
    if meeting.status == Meeting.Status.CANCELLED:
        raise ValidationError("A cancelled meeting cannot be changed.")
    allowed = {"starts_at", "duration_minutes", "location", "video_url", "agenda_notes"}
    unknown = set(changes) - allowed
    if unknown:
        raise ValidationError(f"Unknown meeting fields: {', '.join(sorted(unknown))}.")
    if "starts_at" in changes:
        _validate_meeting_time(changes["starts_at"], exclude_pk=meeting.pk)
    changed = {
        field: (getattr(meeting, field), value) for field, value in changes.items() if getattr(meeting, field) != value
    }
    for field, value in changes.items():
        setattr(meeting, field, value)
    meeting.full_clean(validate_constraints=False)
    meeting.save()
    if changed:
        signals.meeting_changed.send(sender=Meeting, meeting=meeting, actor=actor, changes=changed)
    return meeting


def _meeting_leave_scheduled(*, actor, meeting: Meeting, status: str, refusal: str) -> Meeting:
    """Move a scheduled meeting to held or cancelled; any other starting status is refused."""
    _require_meeting_admin(actor)
    meeting = Meeting.objects.select_for_update().get(pk=meeting.pk)
    if meeting.status != Meeting.Status.SCHEDULED:
        raise ValidationError(refusal)
    meeting.status = status
    meeting.save(update_fields=["status", "updated_at"])
    return meeting


@transaction.atomic
def meeting_cancel(*, actor, meeting: Meeting) -> Meeting:
    meeting = _meeting_leave_scheduled(
        actor=actor,
        meeting=meeting,
        status=Meeting.Status.CANCELLED,
        refusal="Only a scheduled meeting can be cancelled.",
    )
    signals.meeting_cancelled.send(sender=Meeting, meeting=meeting, actor=actor)
    return meeting


@transaction.atomic
def meeting_mark_held(*, actor, meeting: Meeting) -> Meeting:
    return _meeting_leave_scheduled(
        actor=actor,
        meeting=meeting,
        status=Meeting.Status.HELD,
        refusal="Only a scheduled meeting can be marked as held.",
    )
