"""The meeting's record: attendance and minutes kept as a draft, published at the close, corrected in versions.

The decisions are not typed twice: at publication they are read from the cards' history (what the
close-out recorded: accepted, dropped, carried over, continued, with OMB's reasons) and kept with the
record. Each publication freezes a RecordVersion; notifications sends it to the attendees.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from agencies.models import Agency, Membership, Role
from challenge_cards.models import CardUpdate, Meeting, UpdateKind

from .. import permissions, signals
from ..models import Attendance, AttendanceMode, MeetingRecord, RecordDecision, RecordVersion
from ..selectors.records import attendance_rows

DECIDED = {"accepted": "accepted", "dropped": "dropped", "carried_over": "carried_over"}


def _require_keeper(actor) -> None:
    if actor is not None and not permissions.can_keep_record(actor):
        raise PermissionDenied("Only OMB admins keep the meeting's record.")


def _locked_record(meeting: Meeting | int) -> MeetingRecord:
    meeting_id = meeting.pk if isinstance(meeting, Meeting) else meeting
    MeetingRecord.objects.get_or_create(meeting_id=meeting_id)
    return MeetingRecord.objects.select_for_update(of=("self",)).select_related("meeting").get(meeting_id=meeting_id)


def _draft(meeting: Meeting | int) -> MeetingRecord:
    record = _locked_record(meeting)
    if record.status == MeetingRecord.Status.PUBLISHED:
        raise ValidationError({"record": "The record is published: change it by publishing a correction."})
    return record


def _decision_of(update: CardUpdate, meeting: Meeting) -> str | None:
    changes = update.changes or {}
    disposition = (changes.get("disposition") or [None, None])[1]
    if disposition in DECIDED:
        return DECIDED[disposition]
    decided = (changes.get("decision") or [None, None])[1]
    for_meeting = (changes.get("meeting") or [None, meeting.pk])[1]
    if decided == "continue" and for_meeting == meeting.pk:
        return RecordDecision.Decision.CONTINUED
    return None


def close_out_decisions(meeting: Meeting) -> dict[int, tuple[str, str]]:
    """card id → (decision, reason): OMB's decisions since the previous meeting closed, up to this one's close."""
    previous = Meeting.objects.previous_to(meeting)
    updates = CardUpdate.objects.filter(
        kind__in=[UpdateKind.OMB_REVIEW, UpdateKind.CARRIED_OVER],
        card__meeting__starts_at__lte=meeting.starts_at,
        created_at__lte=meeting.closed_at or timezone.now(),
    )
    if previous is not None:
        updates = updates.filter(created_at__gt=previous.closed_at or previous.starts_at)
    decisions: dict[int, tuple[str, str]] = {}
    for update in updates.select_related("card").order_by("created_at", "id"):
        decision = _decision_of(update, meeting)
        if decision:
            decisions[update.card_id] = (decision, update.note or update.card.disposition_reason)
    return decisions


def _content(record: MeetingRecord) -> dict[str, Any]:
    return {
        "attendance": attendance_rows(record),
        "decisions": [
            {
                "card": row.card_id,
                "agency": row.card.agency.abbreviation,
                "title": row.card.title,
                "decision": row.decision,
                "reason": row.reason,
            }
            for row in record.decisions.select_related("card__agency").order_by("card__agency__name", "card__title")
        ],
        "minutes": record.minutes,
    }


@transaction.atomic
def record_attendance_set(
    *,
    actor,
    meeting: Meeting | int,
    agency: Agency,
    name: str = "",
    mode: str = AttendanceMode.IN_PERSON,
    substitute: bool = False,
    person=None,
) -> Attendance:
    """Who attended for an agency (one row per agency, replaced when set again), while the record is a draft.

    Unless a substitute came, it is the agency's deputy secretary: their account gets the record when published.
    """
    _require_keeper(actor)
    record = _draft(meeting)
    if person is None and not substitute:
        person = _deputy_of(agency)
    name = name.strip() or (person.get_full_name() or person.get_username() if person else "")
    if not name:
        raise ValidationError({"name": "Name who attended for the agency (a substitute is always named)."})
    if mode not in AttendanceMode.values:
        raise ValidationError({"mode": "Choose in person or by video."})
    row, _ = Attendance.objects.update_or_create(
        record=record,
        agency=agency,
        defaults={"name": name.strip(), "mode": mode, "substitute": substitute, "person": person},
    )
    return row


def _deputy_of(agency: Agency):
    membership = (
        Membership.objects.current().filter(agency=agency, role=Role.DEPUTY_SECRETARY).select_related("user").first()
    )
    return membership.user if membership else None


@transaction.atomic
def record_minutes_set(*, actor, meeting: Meeting | int, minutes: str) -> MeetingRecord:
    """The free minutes, while the record is a draft."""
    _require_keeper(actor)
    record = _draft(meeting)
    record.minutes = minutes.strip()
    record.save(update_fields=["minutes", "updated_at"])
    return record


def _publish_version(record: MeetingRecord, actor, note: str = "") -> RecordVersion:
    now = timezone.now()
    record.status = MeetingRecord.Status.PUBLISHED
    record.version += 1
    record.published_at = now
    record.save(update_fields=["status", "version", "published_at", "minutes", "updated_at"])
    version = RecordVersion.objects.create(
        record=record,
        number=record.version,
        content=_content(record),
        correction_note=note,
        published_by=actor,
        published_at=now,
    )
    signals.record_published.send(sender=MeetingRecord, record=record, version=version, actor=actor)
    return version


@transaction.atomic
def record_publish(*, actor, meeting: Meeting | int) -> RecordVersion:
    """Publish the record of a closed meeting with its close-out decisions; publishing twice does nothing twice."""
    _require_keeper(actor)
    record = _locked_record(meeting)
    if record.status == MeetingRecord.Status.PUBLISHED:
        return record.versions.order_by("-number").first()  # type: ignore[return-value]
    if record.meeting.closed_at is None:
        raise ValidationError({"record": "The record is published when the meeting is closed."})
    decisions = close_out_decisions(record.meeting)
    RecordDecision.objects.bulk_create(
        [
            RecordDecision(record=record, card_id=card_id, decision=decision, reason=reason)
            for card_id, (decision, reason) in decisions.items()
        ]
    )
    return _publish_version(record, actor)


def _replace_attendance(record: MeetingRecord, attendance: list[dict[str, Any]]) -> None:
    agencies = {
        agency.abbreviation: agency
        for agency in Agency.objects.filter(abbreviation__in=[row["agency"] for row in attendance])
    }
    errors = [
        row["agency"] for row in attendance if row["agency"] not in agencies or not str(row.get("name", "")).strip()
    ]
    if errors:
        raise ValidationError(
            {"attendance": f"Each attendance row needs a known agency and a name: {', '.join(errors)}."}
        )
    record.attendance.all().delete()
    Attendance.objects.bulk_create(
        [
            Attendance(
                record=record,
                agency=agencies[row["agency"]],
                name=str(row["name"]).strip(),
                mode=str(row.get("mode")) if row.get("mode") in AttendanceMode.values else AttendanceMode.IN_PERSON,
                substitute=bool(row.get("substitute")),
            )
            for row in attendance
        ]
    )


@transaction.atomic
def record_correct(
    *,
    actor,
    meeting: Meeting | int,
    note: str,
    minutes: str | None = None,
    attendance: list[dict[str, Any]] | None = None,
    expected_version: int | None = None,
) -> RecordVersion:
    """Correct a published record: a new version that says what changed; every earlier version is kept."""
    _require_keeper(actor)
    record = _locked_record(meeting)
    if record.status != MeetingRecord.Status.PUBLISHED:
        raise ValidationError({"record": "Only a published record is corrected; a draft is simply edited."})
    if expected_version is not None and expected_version != record.version:
        raise ValidationError({"version": f"The record is at version {record.version} now: read it again first."})
    if not note.strip():
        raise ValidationError({"note": "Say what the correction changes."})
    if minutes is None and attendance is None:
        raise ValidationError({"minutes": "Nothing to correct."})
    if minutes is not None:
        record.minutes = minutes.strip()
    if attendance is not None:
        _replace_attendance(record, attendance)
    return _publish_version(record, actor, note=note.strip())
