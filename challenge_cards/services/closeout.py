"""Closing a PMC meeting: which cards need OMB's decision (and why), "continue" as a decision, the close itself.

A card lives as long as its horizon. At the close of a meeting, OMB decides only the open cards that
were due by that meeting, and this-month cards; a card due later stays open with no action. Deciding
is accepting, dropping, carrying over (services.review) or continuing: keeping the card open, with or
without a note, recorded for the meeting being closed.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from .. import permissions, signals
from ..domain import CLOSEOUT_DUE, CLOSEOUT_MONTH, CLOSEOUT_STAYS_OPEN
from ..models import EASTERN, CardUpdate, ChallengeCard, Disposition, Horizon, Meeting, Rating, UpdateKind
from ._common import _check_version, _lock_card, _record


@dataclass
class CloseOutItem:
    """One card on the close-out page: why it is listed, and the decision it has (empty when it needs one)."""

    card: ChallengeCard
    why: str
    reason: str
    decision: str = ""


@dataclass
class CloseOut:
    meeting: Meeting
    to_decide: list[CloseOutItem] = field(default_factory=list)
    decided: list[CloseOutItem] = field(default_factory=list)
    stay_open: list[CloseOutItem] = field(default_factory=list)


def _day(meeting: Meeting) -> datetime.date:
    return meeting.starts_at.astimezone(EASTERN).date()


def closeout_why(card: ChallengeCard, meeting: Meeting) -> tuple[str, str]:
    """(why, in words): due by the meeting, a this-month card, or staying open (due later, no decision needed)."""
    day = _day(meeting)
    if card.due_date <= day:
        when = "was due" if card.due_date < day else "is due"
        return CLOSEOUT_DUE, f"It {when} {card.due_date:%b} {card.due_date.day}, by this meeting."
    if card.horizon == Horizon.MONTH:
        return CLOSEOUT_MONTH, f"A this-month card (due {card.due_date:%b} {card.due_date.day}): its month is up."
    return (
        CLOSEOUT_STAYS_OPEN,
        f"Due {card.due_date:%b} {card.due_date.day}, {card.due_date.year}, after this meeting: it stays open.",
    )


def continued_at(meeting: Meeting) -> QuerySet[CardUpdate]:
    """The "continue" decisions taken for this meeting's close-out."""
    return CardUpdate.objects.filter(
        kind=UpdateKind.OMB_REVIEW, changes__decision__1="continue", changes__meeting__1=meeting.pk
    )


def meeting_closeout(meeting: Meeting) -> CloseOut:
    """The close-out of a meeting in one query, sorted into to decide, decided and stay open.

    It looks at the cards still open that were issued at this meeting or before, and the cards issued
    at this meeting that were accepted, dropped or carried over.
    """
    still_open = (
        Q(meeting__starts_at__lte=meeting.starts_at)
        & ~Q(meeting__status=Meeting.Status.CANCELLED)
        & Q(disposition=Disposition.OPEN)
    )
    closed_here = Q(meeting=meeting) & ~Q(disposition=Disposition.OPEN)
    rows = (
        ChallengeCard.objects.filter(still_open | closed_here)
        .annotate(continues=Exists(continued_at(meeting).filter(card=OuterRef("pk"))))
        .select_related("agency")
        .order_by("agency__name", "title", "id")
    )
    result = CloseOut(meeting=meeting)
    for card in rows:
        why, reason = closeout_why(card, meeting)
        item = CloseOutItem(card=card, why=why, reason=reason)
        if not card.is_open:
            item.decision = card.get_disposition_display()
            result.decided.append(item)
        elif card.continues:
            item.decision = "Continues"
            result.decided.append(item)
        elif why == CLOSEOUT_STAYS_OPEN:
            result.stay_open.append(item)
        else:
            result.to_decide.append(item)
    return result


def closeout_meeting_for(card: ChallengeCard) -> Meeting | None:
    """The close-out a decision on this card counts for: the latest meeting that has started and is not
    closed (nor cancelled), from the one that issued the card on; before any, the next meeting."""
    meetings = Meeting.objects.exclude(status=Meeting.Status.CANCELLED).filter(
        closed_at__isnull=True, starts_at__gte=card.meeting.starts_at
    )
    now = timezone.now()
    started = meetings.filter(starts_at__lte=now).order_by("-starts_at").first()
    return started or meetings.filter(starts_at__gt=now).order_by("starts_at").first()


@transaction.atomic
def card_continue(
    *,
    actor,
    card: ChallengeCard | int,
    expected_version: int | None,
    meeting: Meeting | None = None,
    note: str = "",
    omb_rating: str | None = None,
) -> CardUpdate:
    """OMB keeps an open card open: a decision at the close-out of ``meeting`` (default: closeout_meeting_for).

    The card keeps its due date and carry count. A changed rating is recorded in the same history row.
    """
    if not permissions.can_review_card(actor):
        raise PermissionDenied("Only OMB admins decide on cards.")
    card = _lock_card(card)
    _check_version(card.version, expected_version)
    if not card.is_open:
        raise ValidationError({"decision": f"This card is already {card.get_disposition_display().lower()}."})
    meeting = meeting or closeout_meeting_for(card)
    if meeting is None:
        raise ValidationError({"decision": "Schedule the next meeting first; the decision counts for its close-out."})
    changes: dict[str, list[Any]] = {"decision": [None, "continue"], "meeting": [None, meeting.pk]}
    if omb_rating is not None and omb_rating != card.omb_rating:
        if omb_rating not in Rating.values:
            raise ValidationError({"omb_rating": "Choose green, yellow or red."})
        changes["omb_rating"] = [card.omb_rating, omb_rating]
        card.omb_rating = omb_rating
    card.version += 1
    card.save()
    text = note.strip() or f"Continues after the {meeting.title}, due {card.due_date:%B} {card.due_date.day}."
    update = _record(card=card, kind=UpdateKind.OMB_REVIEW, actor=actor, changes=changes, note=text)
    signals.card_reviewed.send(sender=CardUpdate, update=update, card=card, actor=actor)
    return update


def _refusal(item: CloseOutItem) -> str:
    card = item.card
    return (
        f"{card.agency.abbreviation}: {card.title} (card {card.pk}) has no decision yet. {item.reason} "
        "Accept it, continue it, carry it over with a new due date and a reason, or drop it with a reason."
    )


@transaction.atomic
def meeting_close(*, actor, meeting: Meeting | int) -> Meeting:
    """Close a meeting: refused until every card due by it (and every this-month card) has a decision.

    Cards due after the meeting stay open and need none. The refusal lists the cards and why each is asked.
    """
    if actor is not None and not permissions.can_manage_meetings(actor):
        raise PermissionDenied("Only OMB admins schedule and change meetings.")
    meeting = Meeting.objects.select_for_update().get(pk=meeting.pk if isinstance(meeting, Meeting) else meeting)
    if meeting.status == Meeting.Status.CANCELLED:
        raise ValidationError({"meeting": "A cancelled meeting cannot be closed."})
    if meeting.closed_at is not None:
        raise ValidationError({"meeting": "This meeting is already closed."})
    if meeting.starts_at > timezone.now():
        raise ValidationError({"meeting": "A meeting can be closed only once it has started."})
    undecided = meeting_closeout(meeting).to_decide
    if undecided:
        raise ValidationError({"cards": [_refusal(item) for item in undecided]}, code="undecided_cards")
    meeting.closed_at = timezone.now()
    meeting.status = Meeting.Status.HELD
    meeting.save(update_fields=["closed_at", "status", "updated_at"])
    return meeting


def meeting_undecided_cards(meeting: Meeting) -> list[ChallengeCard]:
    """The cards the close-out still asks a decision for (meeting_closeout's to_decide)."""
    return [item.card for item in meeting_closeout(meeting).to_decide]
