"""The meeting's record as a reader sees it: the version asked for, decisions on the cards they may see."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.http import Http404
from django.shortcuts import get_object_or_404

from agencies.roles import roles_of
from challenge_cards.models import ChallengeCard, Meeting

from ..models import AttendanceMode, MeetingRecord, RecordDecision, RecordVersion

MODE_LABELS = dict(AttendanceMode.choices)
DECISION_LABELS = dict(RecordDecision.Decision.choices)


@dataclass
class RecordView:
    meeting: Meeting
    record: MeetingRecord | None
    version: RecordVersion | None  # None: the draft (OMB only)
    versions: list[RecordVersion]
    content: dict[str, Any]

    @property
    def is_latest(self) -> bool:
        return self.version is None or not self.versions or self.version.number == self.versions[0].number


def record_content(user, content: dict[str, Any]) -> dict[str, Any]:
    """A published content with labels, its decisions narrowed to the cards this user may see."""
    visible = set(
        ChallengeCard.objects.visible_to(user)
        .filter(pk__in=[row["card"] for row in content.get("decisions", [])])
        .values_list("pk", flat=True)
    )
    return {
        "attendance": [
            {**row, "mode_label": MODE_LABELS.get(row["mode"], row["mode"])} for row in content["attendance"]
        ],
        "decisions": [
            {**row, "decision_label": DECISION_LABELS.get(row["decision"], row["decision"])}
            for row in content["decisions"]
            if row["card"] in visible
        ],
        "minutes": content.get("minutes", ""),
    }


def attendance_rows(record: MeetingRecord) -> list[dict[str, Any]]:
    """Who attended, as a published version keeps it (and the draft shows it)."""
    return [
        {
            "agency": row.agency.abbreviation,
            "agency_name": row.agency.name,
            "name": row.name,
            "mode": row.mode,
            "substitute": row.substitute,
        }
        for row in record.attendance.select_related("agency").order_by("agency__name", "name")
    ]


def _draft_content(record: MeetingRecord | None) -> dict[str, Any]:
    if record is None:
        return {"attendance": [], "decisions": [], "minutes": ""}
    return {
        "attendance": [
            {**row, "mode_label": MODE_LABELS.get(row["mode"], row["mode"])} for row in attendance_rows(record)
        ],
        "decisions": [],
        "minutes": record.minutes,
    }


def record_view(user, meeting: Meeting, record: MeetingRecord | None, *, number: int | None = None) -> RecordView:
    """A record as this user reads it: the latest (or the asked) published version, else the draft (OMB)."""
    versions = list(record.versions.select_related("published_by")) if record else []
    version = versions[0] if versions else None
    if number is not None:
        version = next((item for item in versions if item.number == number), None)
        if version is None:
            raise Http404("No such version of the record.")
    content = record_content(user, version.content) if version else _draft_content(record)
    return RecordView(meeting=meeting, record=record, version=version, versions=versions, content=content)


def record_detail(user, meeting_pk: int, *, number: int | None = None) -> RecordView:
    """The record of a meeting: its latest (or the asked) published version; OMB also sees the draft."""
    meeting = get_object_or_404(Meeting.objects.visible_to(user), pk=meeting_pk)
    record = MeetingRecord.objects.visible_to(user).filter(meeting=meeting).first()
    if record is None and not roles_of(user).is_omb:
        raise Http404("No record published for this meeting yet.")
    return record_view(user, meeting, record, number=number)
