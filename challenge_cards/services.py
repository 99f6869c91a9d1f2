"""Every write to meetings, cards, follow-up actions and their history.

Views, the API, the admin, management commands and Celery tasks all call these, so
each rule lives here once. Each function runs in one transaction, locks the row it
changes, refuses a stale write (``expected_version``) and appends a history row.
"""

from __future__ import annotations

import calendar
import datetime
import uuid
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from agencies.models import Agency, Membership, Role
from agencies.roles import roles_of

from . import permissions, signals
from .models import (
    EASTERN,
    ActionOwnerSide,
    ActionStatus,
    CardStatus,
    CardUpdate,
    Certification,
    ChallengeCard,
    Disposition,
    FollowUpAction,
    Horizon,
    Meeting,
    PmaPriority,
    PmaStrategy,
    Rating,
    UpdateKind,
)


class StaleWrite(Exception):
    """Someone changed the object after the caller read it; nothing was written."""

    def __init__(self, current_version: int | None, message: str = ""):
        self.current_version = current_version
        super().__init__(
            message or "Someone else updated this after you opened it. Review their change, then submit yours again."
        )


class _Unset:
    def __repr__(self) -> str:
        return "UNSET"


UNSET: Any = _Unset()

# Which status an agency may move a card to from each status. Reopening a done card
# is OMB's call (card_return), not the agency's.
ALLOWED_TRANSITIONS: dict[str, frozenset[str]] = {
    CardStatus.NOT_STARTED: frozenset(
        {CardStatus.IN_PROGRESS, CardStatus.AT_RISK, CardStatus.BLOCKED, CardStatus.DONE}
    ),
    CardStatus.IN_PROGRESS: frozenset({CardStatus.AT_RISK, CardStatus.BLOCKED, CardStatus.DONE}),
    CardStatus.AT_RISK: frozenset({CardStatus.IN_PROGRESS, CardStatus.BLOCKED, CardStatus.DONE}),
    CardStatus.BLOCKED: frozenset({CardStatus.IN_PROGRESS, CardStatus.AT_RISK}),
    CardStatus.DONE: frozenset(),
}
NOTE_REQUIRED_FOR = frozenset({CardStatus.AT_RISK, CardStatus.BLOCKED})


def _json(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime.date | datetime.datetime):
        return value.isoformat()
    return value


def _check_version(current: int, expected: int | None) -> None:
    if expected is not None and current != expected:
        raise StaleWrite(current)


def _lock_card(card: ChallengeCard | int) -> ChallengeCard:
    card_id = card.pk if isinstance(card, ChallengeCard) else card
    # of=("self",): lock the card only, not its agency (other cards of that agency stay writable).
    return ChallengeCard.objects.select_for_update(of=("self",)).select_related("agency").get(pk=card_id)


def on_behalf_of_for(actor, agency: Agency):
    """The deputy secretary a delegate acts for; None when the actor is the deputy or OMB."""
    roles = roles_of(actor)
    if not roles.acts_on_behalf(agency.pk):
        return None
    for agency_id in (agency.pk, agency.parent_id):
        if agency_id is None:
            continue
        membership = (
            Membership.objects.current()
            .filter(agency_id=agency_id, role=Role.DEPUTY_SECRETARY)
            .select_related("user")
            .first()
        )
        if membership:
            return membership.user if membership.user_id != actor.pk else None
    return None


def _record(
    *,
    card: ChallengeCard,
    kind: str,
    actor,
    changes: dict[str, list[Any]],
    note: str = "",
    on_behalf_of=None,
    status_to: str = "",
    certification: str = Certification.NOT_REQUIRED,
    at: datetime.datetime | None = None,
) -> CardUpdate:
    return CardUpdate.objects.create(
        card=card,
        kind=kind,
        author=actor,
        on_behalf_of=on_behalf_of,
        created_at=at or timezone.now(),
        changes={key: [_json(old), _json(new)] for key, (old, new) in changes.items()},
        status_to=status_to,
        note=note,
        certification=certification,
    )


# --- meetings -------------------------------------------------------------------------


def _require_meeting_admin(actor) -> None:
    if actor is not None and not permissions.can_manage_meetings(actor):
        raise PermissionDenied("Only OMB admins schedule and change meetings.")


# Meetings fall in these years: far-off dates overflow the database and Python's datetime (year 10000 in UTC).
MEETING_YEARS = (2000, 2100)
MEETING_YEARS_MESSAGE = f"Give a date between {MEETING_YEARS[0]} and {MEETING_YEARS[1]}."


def _validate_meeting_time(starts_at: datetime.datetime, *, exclude_pk: int | None = None) -> None:
    if timezone.is_naive(starts_at):
        raise ValidationError({"starts_at": "Give the time with its time zone."})
    if not MEETING_YEARS[0] <= starts_at.year <= MEETING_YEARS[1]:
        raise ValidationError({"starts_at": MEETING_YEARS_MESSAGE})
    clash = Meeting.objects.exclude(status=Meeting.Status.CANCELLED).filter(starts_at=starts_at)
    if exclude_pk:
        clash = clash.exclude(pk=exclude_pk)
    if clash.exists():
        raise ValidationError({"starts_at": "Another meeting is already scheduled at that time."})


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


# --- cards ----------------------------------------------------------------------------


def default_due_date(meeting: Meeting) -> datetime.date:
    """A card is due at the meeting after the one that issued it (or a month on)."""
    following = (
        Meeting.objects.filter(status=Meeting.Status.SCHEDULED, starts_at__gt=meeting.starts_at)
        .order_by("starts_at")
        .first()
    )
    start = following.starts_at if following else next_monthly_start(meeting.starts_at)
    return start.astimezone(EASTERN).date()


@transaction.atomic
def card_issue(
    *,
    actor,
    meeting: Meeting,
    agencies: Iterable[Agency],
    title: str,
    ask: str,
    priority: PmaPriority,
    strategy: PmaStrategy | None = None,
    horizon: str = Horizon.MONTH,
    due_date: datetime.date | None = None,
    metric_name: str = "",
    metric_unit: str = "",
    metric_baseline: Decimal | None = None,
    metric_target: Decimal | None = None,
    metric_value: Decimal | None = None,
    note: str = "",
) -> list[ChallengeCard]:
    """Issue the same card to one or many agencies' deputy secretaries, all or nothing."""
    if actor is not None and not permissions.can_issue_cards(actor):
        raise PermissionDenied("Only OMB admins issue challenge cards.")
    agencies = list({agency.pk: agency for agency in agencies}.values())
    errors: dict[str, list[str]] = {}
    if not agencies:
        errors.setdefault("agencies", []).append("Choose at least one agency.")
    inactive = [agency.abbreviation for agency in agencies if not agency.active]
    if inactive:
        errors.setdefault("agencies", []).append(f"These agencies are not active: {', '.join(inactive)}.")
    if meeting.status == Meeting.Status.CANCELLED:
        errors.setdefault("meeting", []).append("Cards cannot be issued at a cancelled meeting.")
    if not title.strip():
        errors.setdefault("title", []).append("Give the card a title.")
    if not ask.strip():
        errors.setdefault("ask", []).append("Say what the deputy secretary is asked to do.")
    if strategy is not None and strategy.priority_id != priority.pk:
        errors.setdefault("strategy", []).append("That strategy belongs to another PMA priority.")
    if metric_target is not None and not metric_name.strip():
        errors.setdefault("metric_name", []).append("A measurable target needs a metric name.")
    if horizon not in Horizon.values:
        errors.setdefault("horizon", []).append("Choose this month or this year.")
    taken = set(
        ChallengeCard.objects.filter(meeting=meeting, agency__in=agencies, title=title.strip()).values_list(
            "agency__abbreviation", flat=True
        )
    )
    if taken:
        errors.setdefault("title", []).append(
            f"These agencies already have a card with this title at this meeting: {', '.join(sorted(taken))}."
        )
    if errors:
        raise ValidationError(errors)

    now = timezone.now()
    due = due_date or default_due_date(meeting)
    deputies = dict(
        Membership.objects.current()
        .filter(agency__in=agencies, role=Role.DEPUTY_SECRETARY)
        .values_list("agency_id", "user_id")
    )
    batch = uuid.uuid4()
    try:
        with transaction.atomic():
            cards = ChallengeCard.objects.bulk_create(
                [
                    ChallengeCard(
                        meeting=meeting,
                        agency=agency,
                        issued_to_id=deputies.get(agency.pk),
                        issued_by=actor,
                        issued_at=now,
                        issue_batch=batch,
                        title=title.strip(),
                        ask=ask.strip(),
                        priority=priority,
                        strategy=strategy,
                        horizon=horizon,
                        due_date=due,
                        metric_name=metric_name.strip(),
                        metric_unit=metric_unit.strip(),
                        metric_baseline=metric_baseline,
                        metric_target=metric_target,
                        metric_value=metric_value if metric_value is not None else metric_baseline,
                    )
                    for agency in agencies
                ]
            )
    except IntegrityError as error:  # a concurrent issue of the same title won the race
        raise ValidationError({"title": "A card with this title was just issued to one of these agencies."}) from error
    CardUpdate.objects.bulk_create(
        [
            CardUpdate(
                card=card,
                kind=UpdateKind.ISSUED,
                author=actor,
                created_at=now,
                changes={"status": [None, CardStatus.NOT_STARTED], "due_date": [None, due.isoformat()]},
                note=note or f"Issued at the {meeting.title}.",
            )
            for card in cards
        ]
    )
    signals.cards_issued.send(sender=ChallengeCard, cards=cards, actor=actor)
    return cards


def _status_change_errors(current: str, new: str) -> str | None:
    if new not in CardStatus.values:
        return "Choose a status from the list."
    if new != current and new not in ALLOWED_TRANSITIONS[current]:
        return f"A card that is {CardStatus(current).label.lower()} cannot become {CardStatus(new).label.lower()}."
    return None


def _apply_agency_changes(
    card: ChallengeCard,
    *,
    status: str | None,
    agency_rating: str | None,
    metric_value: Any,
    note: str,
) -> tuple[dict[str, list[Any]], str]:
    """Validate and apply an agency's changes to a locked card; returns (changes, status_to)."""
    errors: dict[str, str] = {}
    changes: dict[str, list[Any]] = {}
    status_to = ""
    if status is not None and status != card.status:
        problem = _status_change_errors(card.status, status)
        if problem:
            errors["status"] = problem
        else:
            changes["status"] = [card.status, status]
            status_to = status
            if status in NOTE_REQUIRED_FOR and not note.strip():
                errors["note"] = f"Say why the card is {CardStatus(status).label.lower()}."
    if agency_rating is not None and agency_rating != card.agency_rating:
        if agency_rating not in Rating.values:
            errors["agency_rating"] = "Choose green, yellow or red."
        else:
            changes["agency_rating"] = [card.agency_rating, agency_rating]
    if metric_value is not UNSET and metric_value != card.metric_value:
        if not card.has_metric:
            errors["metric_value"] = "This card has no measurable target."
        else:
            changes["metric_value"] = [card.metric_value, metric_value]
    if not changes and not note.strip() and not errors:
        errors["note"] = "Change something or write a note."
    if errors:
        raise ValidationError(errors)
    for field, (_old, new) in changes.items():
        setattr(card, field, new)
    return changes, status_to


@transaction.atomic
def card_update(
    *,
    actor,
    card: ChallengeCard | int,
    expected_version: int | None,
    status: str | None = None,
    agency_rating: str | None = None,
    metric_value: Any = UNSET,
    note: str = "",
) -> CardUpdate:
    """The agency posts an update: status, its own rating, the metric's value now, a note.

    A delegate's update is recorded as on behalf of the deputy secretary; where the agency
    requires certification it is a draft, not applied, until the deputy certifies it.
    """
    card = _lock_card(card)
    if not permissions.can_update_card(actor, card):
        if not card.is_open and permissions.can_view_card(actor, card):
            raise ValidationError("This card is closed; it can no longer be updated.")
        raise PermissionDenied("You cannot update this agency's cards.")
    _check_version(card.version, expected_version)
    note = note.strip()
    on_behalf_of = on_behalf_of_for(actor, card.agency)
    needs_certification = card.agency.certification_required and on_behalf_of is not None
    snapshot = {f: getattr(card, f) for f in ("status", "agency_rating", "metric_value")}
    changes, status_to = _apply_agency_changes(
        card, status=status, agency_rating=agency_rating, metric_value=metric_value, note=note
    )
    now = timezone.now()
    if needs_certification:
        for field, value in snapshot.items():
            setattr(card, field, value)
        return _record(
            card=card,
            kind=UpdateKind.UPDATE,
            actor=actor,
            changes=changes,
            note=note,
            on_behalf_of=on_behalf_of,
            status_to=status_to,
            certification=Certification.PENDING,
            at=now,
        )
    card.version += 1
    card.last_agency_update_at = now
    card.save()
    update = _record(
        card=card,
        kind=UpdateKind.UPDATE,
        actor=actor,
        changes=changes,
        note=note,
        on_behalf_of=on_behalf_of,
        status_to=status_to,
        at=now,
    )
    signals.card_updated.send(sender=CardUpdate, update=update, actor=actor)
    return update


DRAFT_OUTDATED_MESSAGE = "The card changed since this draft was written; ask for a new update."


def _draft_still_matches(card: ChallengeCard, draft: CardUpdate) -> bool:
    """Every field the draft changes still holds the value the draft recorded as old."""
    for field, (old, _new) in draft.changes.items():
        current = getattr(card, field, None)
        if field == "metric_value":
            if (None if old is None else Decimal(str(old))) != current:
                return False
        elif (old or "") != (current or ""):
            return False
    return True


@transaction.atomic
def card_update_certify(*, actor, update: CardUpdate | int, expected_version: int | None = None) -> CardUpdate:
    """The deputy secretary certifies a delegate's draft; only then does it reach the card and OMB.

    ``expected_version`` is the card version the deputy saw. A draft whose recorded old values
    no longer match the card (someone changed those fields since) is refused rather than
    overwriting the newer change. The certification is recorded as its own history entry
    (kind CERTIFIED, by the deputy) with the real old and new values; the draft is stamped certified.
    Returns the draft.
    """
    update_id = update.pk if isinstance(update, CardUpdate) else update
    update = (
        CardUpdate.objects.select_for_update(of=("self",)).select_related("card__agency", "author").get(pk=update_id)
    )
    if not permissions.can_certify(actor, update):
        raise PermissionDenied("Only the agency's deputy secretary certifies a pending update.")
    card = _lock_card(update.card_id)
    if not card.is_open:
        raise ValidationError("This card is closed; the draft can no longer be certified.")
    _check_version(card.version, expected_version)
    if not _draft_still_matches(card, update):
        raise ValidationError(DRAFT_OUTDATED_MESSAGE, code="draft_outdated")
    values = {field: pair[1] for field, pair in update.changes.items()}
    metric = values.get("metric_value", UNSET)
    changes, status_to = _apply_agency_changes(
        card,
        status=values.get("status"),
        agency_rating=values.get("agency_rating"),
        metric_value=Decimal(str(metric)) if metric not in (UNSET, None) else metric,
        note=update.note or "Certified.",
    )
    now = timezone.now()
    card.version += 1
    card.last_agency_update_at = now
    card.save()
    author = (update.author.get_full_name() or update.author.username) if update.author else "a delegate"
    certified = _record(
        card=card,
        kind=UpdateKind.CERTIFIED,
        actor=actor,
        changes=changes,
        note=f"Certified the draft update {update.pk} by {author} "
        f"of {timezone.localtime(update.created_at):%b %-d, %Y %-I:%M %p}.",
        status_to=status_to,
        at=now,
    )
    update.certification = Certification.CERTIFIED
    update.certified_by = actor
    update.certified_at = now
    update.save(update_fields=["certification", "certified_by", "certified_at"])
    signals.card_updated.send(sender=CardUpdate, update=certified, actor=actor)
    return update


@transaction.atomic
def card_review(
    *,
    actor,
    card: ChallengeCard | int,
    expected_version: int | None,
    omb_rating: str | None = None,
    disposition: str | None = None,
    reason: str = "",
    note: str = "",
) -> CardUpdate:
    """OMB sets its rating and accepts or drops a card. Carrying over is card_carry_over."""
    if not permissions.can_review_card(actor):
        raise PermissionDenied("Only OMB admins review cards.")
    card = _lock_card(card)
    _check_version(card.version, expected_version)
    reason = reason.strip()
    errors: dict[str, str] = {}
    changes: dict[str, list[Any]] = {}
    if omb_rating is not None and omb_rating != card.omb_rating:
        if omb_rating not in Rating.values:
            errors["omb_rating"] = "Choose green, yellow or red."
        else:
            changes["omb_rating"] = [card.omb_rating, omb_rating]
    if disposition is not None and disposition != card.disposition:
        if disposition == Disposition.CARRIED_OVER:
            errors["disposition"] = "Carry a card over to a meeting with a new due date instead."
        elif disposition not in (Disposition.ACCEPTED, Disposition.DROPPED):
            errors["disposition"] = "Choose accept or drop."
        elif not card.is_open:
            errors["disposition"] = f"This card is already {card.get_disposition_display().lower()}."
        elif disposition == Disposition.DROPPED and not reason:
            errors["reason"] = "Say why the card is dropped."
        else:
            changes["disposition"] = [card.disposition, disposition]
    if not changes and not errors:
        errors["omb_rating"] = "Nothing changed."
    if errors:
        raise ValidationError(errors)
    for field, (_old, new) in changes.items():
        setattr(card, field, new)
    if "disposition" in changes:
        card.disposition_reason = reason
    card.version += 1
    card.save()
    update = _record(card=card, kind=UpdateKind.OMB_REVIEW, actor=actor, changes=changes, note=note or reason)
    signals.card_reviewed.send(sender=CardUpdate, update=update, card=card, actor=actor)
    return update


@transaction.atomic
def card_return(*, actor, card: ChallengeCard | int, expected_version: int | None, reason: str) -> CardUpdate:
    """OMB returns a card the agency marked done: it is back in progress, with OMB's reason."""
    if not permissions.can_review_card(actor):
        raise PermissionDenied("Only OMB admins return cards.")
    card = _lock_card(card)
    _check_version(card.version, expected_version)
    if card.status != CardStatus.DONE:
        raise ValidationError({"status": "Only a card marked done can be returned."})
    if card.disposition not in (Disposition.OPEN, Disposition.ACCEPTED):
        # A dropped or carried-over card is closed for good; its successor carries the work.
        raise ValidationError({"disposition": f"This card is {card.get_disposition_display().lower()}."})
    if not reason.strip():
        raise ValidationError({"reason": "Say why the card is returned."})
    changes: dict[str, list[Any]] = {"status": [card.status, CardStatus.IN_PROGRESS]}
    if card.disposition == Disposition.ACCEPTED:
        changes["disposition"] = [card.disposition, Disposition.OPEN]
        card.disposition = Disposition.OPEN
        card.disposition_reason = ""
    card.status = CardStatus.IN_PROGRESS
    card.version += 1
    card.save()
    update = _record(
        card=card,
        kind=UpdateKind.RETURNED,
        actor=actor,
        changes=changes,
        note=reason.strip(),
        status_to=CardStatus.IN_PROGRESS,
    )
    signals.card_reviewed.send(sender=CardUpdate, update=update, card=card, actor=actor)
    return update


@transaction.atomic
def card_carry_over(
    *,
    actor,
    card: ChallengeCard | int,
    expected_version: int | None,
    reason: str,
    to_meeting: Meeting | None = None,
    due_date: datetime.date | None = None,
) -> ChallengeCard:
    """Carry an open card to a later meeting: a new card continues it, open actions move along."""
    if not permissions.can_review_card(actor):
        raise PermissionDenied("Only OMB admins carry cards over.")
    card = _lock_card(card)
    _check_version(card.version, expected_version)
    errors: dict[str, str] = {}
    if not card.is_open:
        errors["disposition"] = f"This card is already {card.get_disposition_display().lower()}."
    if not reason.strip():
        errors["reason"] = "Say why the card is carried over."
    if to_meeting is None:
        to_meeting = (
            Meeting.objects.filter(status=Meeting.Status.SCHEDULED, starts_at__gt=card.meeting.starts_at)
            .order_by("starts_at")
            .first()
        )
        if to_meeting is None:
            errors["to_meeting"] = "Schedule the next meeting first; the card is carried over to it."
    elif to_meeting.status == Meeting.Status.CANCELLED or to_meeting.starts_at <= card.meeting.starts_at:
        errors["to_meeting"] = "Choose a later meeting that is not cancelled."
    if errors:
        raise ValidationError(errors)
    if ChallengeCard.objects.filter(meeting=to_meeting, agency=card.agency, title=card.title).exists():
        raise ValidationError({"to_meeting": "That meeting already has a card with this title for this agency."})
    now = timezone.now()
    successor = ChallengeCard.objects.create(
        meeting=to_meeting,
        agency=card.agency,
        issued_to=card.issued_to,
        issued_by=actor,
        issued_at=now,
        title=card.title,
        ask=card.ask,
        priority=card.priority,
        strategy=card.strategy,
        horizon=card.horizon,
        due_date=due_date or default_due_date(to_meeting),
        status=CardStatus.IN_PROGRESS if card.status != CardStatus.NOT_STARTED else CardStatus.NOT_STARTED,
        agency_rating=card.agency_rating,
        metric_name=card.metric_name,
        metric_unit=card.metric_unit,
        metric_baseline=card.metric_baseline,
        metric_target=card.metric_target,
        metric_value=card.metric_value,
        carried_over_from=card,
        carry_count=card.carry_count + 1,
    )
    # Open actions move along: locked, moved and versioned in one update, one history row each (constant queries).
    moving = list(card.actions.select_for_update().filter(status=ActionStatus.OPEN).values_list("pk", "description"))
    if moving:
        FollowUpAction.objects.filter(pk__in=[pk for pk, _ in moving]).update(
            card=successor, updated_at=now, version=F("version") + 1
        )
        CardUpdate.objects.bulk_create(
            [
                CardUpdate(
                    card=successor,
                    kind=UpdateKind.ACTION,
                    author=actor,
                    created_at=now,
                    changes={"action": [None, pk], "carried_over_from": [None, card.pk]},
                    note=description,
                )
                for pk, description in moving
            ]
        )
    card.disposition = Disposition.CARRIED_OVER
    card.disposition_reason = reason.strip()
    card.version += 1
    card.save()
    carried = _record(
        card=card,
        kind=UpdateKind.CARRIED_OVER,
        actor=actor,
        changes={"disposition": [Disposition.OPEN, Disposition.CARRIED_OVER], "carried_over_to": [None, successor.pk]},
        note=reason.strip(),
        at=now,
    )
    _record(
        card=successor,
        kind=UpdateKind.ISSUED,
        actor=actor,
        changes={"carried_over_from": [None, card.pk], "due_date": [None, successor.due_date]},
        note=f"Carried over from the {card.meeting.title}: {reason.strip()}",
        at=now,
    )
    signals.card_reviewed.send(sender=CardUpdate, update=carried, card=card, actor=actor)
    signals.cards_issued.send(sender=ChallengeCard, cards=[successor], actor=actor)
    return successor


# --- follow-up actions ----------------------------------------------------------------


def _lock_action(action: FollowUpAction | int) -> FollowUpAction:
    action_id = action.pk if isinstance(action, FollowUpAction) else action
    # PostgreSQL refuses FOR UPDATE on the nullable (outer-joined) owner; lock the action row only.
    return (
        FollowUpAction.objects.select_for_update(of=("self",)).select_related("card__agency", "owner").get(pk=action_id)
    )


def _record_action(action: FollowUpAction, *, actor, changes: dict[str, list[Any]], note: str = "") -> CardUpdate:
    update = _record(
        card=action.card,
        kind=UpdateKind.ACTION,
        actor=actor,
        changes={"action": [None, action.pk], **changes},
        note=note or action.description,
        on_behalf_of=on_behalf_of_for(actor, action.card.agency),
    )
    signals.action_changed.send(sender=FollowUpAction, action=action, update=update, actor=actor)
    return update


def _validate_owner(*, card: ChallengeCard, owner, owned_by: str) -> None:
    """An OMB-owned action's owner is OMB staff; an agency-owned one's is a member of the card's agency.

    The owner is told about the action (overdue notices, the calendar feed), so naming anyone
    else would send another agency's card to them.
    """
    if owned_by not in ActionOwnerSide.values:
        raise ValidationError({"owned_by": "Choose agency or OMB."})
    if owner is None:
        return
    roles = roles_of(owner)
    if owned_by == ActionOwnerSide.OMB:
        if not roles.is_omb:
            raise ValidationError({"owner": "An action owned by OMB needs an owner on OMB's staff."})
    elif card.agency_id not in roles.agency_ids:
        raise ValidationError({"owner": "The owner must belong to this agency."})


@transaction.atomic
def action_add(
    *,
    actor,
    card: ChallengeCard | int,
    description: str,
    owner=None,
    owner_name: str = "",
    owned_by: str = ActionOwnerSide.AGENCY,
    due_date: datetime.date | None = None,
) -> FollowUpAction:
    card = _lock_card(card)
    if not permissions.can_add_action(actor, card):
        raise PermissionDenied("You cannot add follow-up actions to this card.")
    if not description.strip():
        raise ValidationError({"description": "Say what the action is."})
    _validate_owner(card=card, owner=owner, owned_by=owned_by)
    action = FollowUpAction.objects.create(
        card=card,
        description=description.strip(),
        owner=owner,
        owner_name=owner_name.strip(),
        owned_by=owned_by,
        due_date=due_date,
        created_by=actor,
    )
    _record_action(action, actor=actor, changes={"status": [None, ActionStatus.OPEN]})
    return action


def _change_action(action: FollowUpAction, *, actor, expected_version: int | None) -> FollowUpAction:
    action = _lock_action(action)
    if not permissions.can_edit_action(actor, action):
        raise PermissionDenied("You cannot change this follow-up action.")
    _check_version(action.version, expected_version)
    return action


def _save_action(action: FollowUpAction) -> None:
    action.version += 1
    # created_by may be empty (seed data, the admin, SET_NULL); that must not freeze the action.
    action.full_clean(exclude=["created_by"], validate_constraints=False)
    action.save()


def _require_open(action: FollowUpAction) -> None:
    if action.status != ActionStatus.OPEN:
        raise ValidationError({"status": f"This action is already {action.get_status_display().lower()}."})


@transaction.atomic
def action_complete(
    *, actor, action: FollowUpAction | int, expected_version: int | None, note: str = ""
) -> FollowUpAction:
    action = _change_action(action, actor=actor, expected_version=expected_version)
    _require_open(action)
    action.status = ActionStatus.DONE
    action.completed_at = timezone.now()
    _save_action(action)
    _record_action(action, actor=actor, changes={"status": [ActionStatus.OPEN, ActionStatus.DONE]}, note=note)
    return action


@transaction.atomic
def action_drop(*, actor, action: FollowUpAction | int, expected_version: int | None, reason: str) -> FollowUpAction:
    action = _change_action(action, actor=actor, expected_version=expected_version)
    _require_open(action)
    if not reason.strip():
        raise ValidationError({"reason": "Say why the action is dropped."})
    action.status = ActionStatus.DROPPED
    action.dropped_reason = reason.strip()
    _save_action(action)
    _record_action(action, actor=actor, changes={"status": [ActionStatus.OPEN, ActionStatus.DROPPED]}, note=reason)
    return action


@transaction.atomic
def action_reopen(
    *, actor, action: FollowUpAction | int, expected_version: int | None, note: str = ""
) -> FollowUpAction:
    action = _change_action(action, actor=actor, expected_version=expected_version)
    if action.status == ActionStatus.OPEN:
        raise ValidationError({"status": "This action is already open."})
    old = action.status
    action.status = ActionStatus.OPEN
    action.completed_at = None
    action.dropped_reason = ""
    _save_action(action)
    _record_action(action, actor=actor, changes={"status": [old, ActionStatus.OPEN]}, note=note)
    return action


@transaction.atomic
def action_reassign(
    *,
    actor,
    action: FollowUpAction | int,
    expected_version: int | None,
    owner=None,
    owner_name: str = "",
    owned_by: str | None = None,
) -> FollowUpAction:
    action = _change_action(action, actor=actor, expected_version=expected_version)
    owned_by = owned_by or action.owned_by
    if owner is None and not owner_name.strip():
        raise ValidationError({"owner": "Name the new owner."})
    _validate_owner(card=action.card, owner=owner, owned_by=owned_by)
    old = action.owner_display
    action.owner = owner
    action.owner_name = owner_name.strip()
    changes: dict[str, list[Any]] = {"owner": [old, action.owner_display]}
    if owned_by != action.owned_by:
        changes["owned_by"] = [action.owned_by, owned_by]
        action.owned_by = owned_by
    _save_action(action)
    _record_action(action, actor=actor, changes=changes)
    return action


@transaction.atomic
def action_change_due_date(
    *, actor, action: FollowUpAction | int, expected_version: int | None, due_date: datetime.date | None
) -> FollowUpAction:
    action = _change_action(action, actor=actor, expected_version=expected_version)
    if due_date == action.due_date:
        raise ValidationError({"due_date": "That is already the due date."})
    changes = {"due_date": [action.due_date, due_date]}
    action.due_date = due_date
    _save_action(action)
    _record_action(action, actor=actor, changes=changes)
    return action


# --- evidence and certification settings (web pages) ----------------------------------

EVIDENCE_MAX_BYTES = 10 * 1024 * 1024
EVIDENCE_TYPES: dict[str, str] = {
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "csv": "text/csv",
    "txt": "text/plain",
    "png": "image/png",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
}


@transaction.atomic
def evidence_add(*, actor, card: ChallengeCard | int, title: str, file=None, url: str = ""):
    """Attach a file (type and size checked, stored under a random name) or a link to a card."""
    from .models import Evidence

    card = _lock_card(card)
    if not permissions.can_update_card(actor, card):
        raise PermissionDenied("You cannot add evidence to this card.")
    errors: dict[str, str] = {}
    if not title.strip():
        errors["title"] = "Give the evidence a title."
    if bool(file) == bool(url.strip()):
        errors["file"] = "Attach a file or give a link, not both."
    content_type = ""
    if file:
        extension = file.name.rsplit(".", 1)[-1].lower() if "." in file.name else ""
        if extension not in EVIDENCE_TYPES:
            errors["file"] = f"Attach one of these file types: {', '.join(sorted(set(EVIDENCE_TYPES)))}."
        elif file.size > EVIDENCE_MAX_BYTES:
            errors["file"] = "The file is larger than 10 MB."
        else:
            content_type = EVIDENCE_TYPES[extension]
    if errors:
        raise ValidationError(errors)
    on_behalf_of = on_behalf_of_for(actor, card.agency)
    evidence = Evidence(
        card=card,
        title=title.strip(),
        url=url.strip(),
        added_by=actor,
        on_behalf_of=on_behalf_of,
    )
    if file:
        evidence.original_name = file.name[-255:]
        evidence.size = file.size
        evidence.content_type = content_type
        evidence.file = file
    evidence.full_clean(exclude=["file"], validate_constraints=False)
    evidence.save()
    _record(
        card=card,
        kind=UpdateKind.UPDATE,
        actor=actor,
        changes={"evidence": [None, evidence.title]},
        on_behalf_of=on_behalf_of,
    )
    return evidence


@transaction.atomic
def agency_set_certification(*, actor, agency: Agency | int, required: bool) -> Agency:
    """The deputy secretary (or an OMB admin) decides whether delegates' updates need certifying.

    Not in card history: the setting belongs to the agency, not to a card. It is to be recorded
    by the audit log (audit app) once that logs agency settings; no model of our own for it here.
    """
    agency = Agency.objects.select_for_update().get(pk=agency.pk if isinstance(agency, Agency) else agency)
    roles = roles_of(actor)
    if agency.pk not in roles.deputy_of and not roles.omb_admin:
        raise PermissionDenied("Only the agency's deputy secretary turns certification on or off.")
    agency.certification_required = required
    agency.save(update_fields=["certification_required", "updated_at"])
    return agency


# --- meeting preparation and close-out ------------------------------------------------


def meeting_undecided_cards(meeting: Meeting):
    """Cards issued at the meeting that still have no disposition (accept, carry over, drop)."""
    return (
        ChallengeCard.objects.filter(meeting=meeting, disposition=Disposition.OPEN)
        .select_related("agency")
        .order_by("agency__name", "title", "id")
    )


@transaction.atomic
def meeting_close(*, actor, meeting: Meeting | int) -> Meeting:
    """Close a meeting: refused until every card issued there has a disposition, listing those that lack one."""
    _require_meeting_admin(actor)
    meeting = Meeting.objects.select_for_update().get(pk=meeting.pk if isinstance(meeting, Meeting) else meeting)
    if meeting.status == Meeting.Status.CANCELLED:
        raise ValidationError({"meeting": "A cancelled meeting cannot be closed."})
    if meeting.closed_at is not None:
        raise ValidationError({"meeting": "This meeting is already closed."})
    if meeting.starts_at > timezone.now():
        raise ValidationError({"meeting": "A meeting can be closed only once it has started."})
    undecided = list(meeting_undecided_cards(meeting))
    if undecided:
        raise ValidationError(
            {
                "cards": [
                    f"{card.agency.abbreviation}: {card.title} (card {card.pk}) has no decision yet: "
                    "accept it, carry it over with a new due date and a reason, or drop it with a reason."
                    for card in undecided
                ]
            },
            code="undecided_cards",
        )
    meeting.closed_at = timezone.now()
    meeting.status = Meeting.Status.HELD
    meeting.save(update_fields=["closed_at", "status", "updated_at"])
    return meeting


@transaction.atomic
def interim_target_add(*, actor, card: ChallengeCard | int, date: datetime.date, value: Decimal):
    """A milestone on the way to the card's target; the metric's pace then runs through it."""
    from .models import InterimTarget

    card = _lock_card(card)
    if not permissions.can_add_action(actor, card):  # the same people who add follow-up actions
        raise PermissionDenied("You cannot set interim targets on this card.")
    errors: dict[str, str] = {}
    if card.metric_target is None:
        errors["value"] = "This card has no measurable target."
    issued = card.issued_at.astimezone(EASTERN).date()
    if not issued < date < card.due_date:
        errors["date"] = f"Choose a date after {issued:%B %-d, %Y} and before the due date, {card.due_date:%B %-d, %Y}."
    elif InterimTarget.objects.filter(card=card, date=date).exists():
        errors["date"] = "This card already has an interim target on that date."
    if errors:
        raise ValidationError(errors)
    target = InterimTarget.objects.create(card=card, date=date, value=value, created_by=actor)
    _record(
        card=card,
        kind=UpdateKind.OMB_REVIEW if roles_of(actor).omb_admin else UpdateKind.UPDATE,
        actor=actor,
        changes={"interim_target": [None, f"{value} by {date.isoformat()}"]},
        note=f"Interim target: {card.metric_name} at {value} by {date:%B %-d, %Y}.",
        on_behalf_of=on_behalf_of_for(actor, card.agency),
    )
    return target


@transaction.atomic
def packet_request(*, actor, meeting: Meeting, email_admins: bool = False):
    """Ask for a meeting's briefing packet PDF; a Celery task builds it after commit (one at a time per meeting)."""
    from .models import BriefingPacket
    from .tasks import build_briefing_packet

    if not permissions.can_build_packets(actor):
        raise PermissionDenied("Only OMB admins build briefing packets.")
    meeting = Meeting.objects.select_for_update().get(pk=meeting.pk)
    running = BriefingPacket.objects.filter(
        meeting=meeting, status__in=[BriefingPacket.Status.QUEUED, BriefingPacket.Status.BUILDING]
    ).first()
    if running is not None:
        if email_admins and not running.email_admins:
            running.email_admins = True
            running.save(update_fields=["email_admins"])
        return running
    packet = BriefingPacket.objects.create(meeting=meeting, requested_by=actor, email_admins=email_admins)
    transaction.on_commit(lambda: build_briefing_packet.delay(packet.pk))
    return packet


def _packet_progress(packet, progress: int, note: str, **fields: Any) -> None:
    """Committed at once (no surrounding transaction), so the page shows it while the task runs."""
    type(packet).objects.filter(pk=packet.pk).update(progress=progress, progress_note=note, **fields)


def packet_build(*, packet_id: int) -> None:
    """Build the PDF and record progress; running it again for a ready packet does nothing twice."""
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.core.mail import EmailMessage
    from django.urls import reverse

    from . import briefings
    from .models import BriefingPacket

    with transaction.atomic():
        packet = (
            BriefingPacket.objects.select_for_update(of=("self",))
            .select_related("meeting", "requested_by")
            .get(pk=packet_id)
        )
        if packet.status == BriefingPacket.Status.FAILED:
            return
        if packet.status != BriefingPacket.Status.READY:
            packet.status = BriefingPacket.Status.BUILDING
            packet.save(update_fields=["status"])
    if packet.status == BriefingPacket.Status.BUILDING:
        try:
            _packet_progress(packet, 10, "Gathering the cards, their history and follow-up actions")
            # The packet is OMB's: read as the OMB admin who asked (or as OMB when they are gone).
            data = briefings.packet_data(packet.requested_by or _SystemOmb(), packet.meeting)
            _packet_progress(packet, 40, f"Laying out {len(data.cards)} cards", card_count=len(data.cards))
            html = briefings.render_packet_html(data, base_url=settings.SITE_URL)
            _packet_progress(packet, 60, "Writing the PDF")
            pdf = briefings.render_pdf(html)
        except Exception as error:
            _packet_progress(
                packet, 0, "The packet could not be built", status=BriefingPacket.Status.FAILED, error=str(error)[:2000]
            )
            raise
        _packet_progress(packet, 100, "Ready", status=BriefingPacket.Status.READY, pdf=pdf, finished_at=timezone.now())
    packet.refresh_from_db()
    if packet.email_admins and packet.emailed_at is None:
        admins = list(
            get_user_model()
            .objects.filter(omb_role__kind="admin", is_active=True)
            .exclude(email="")
            .values_list("email", flat=True)
        )
        if admins:
            link = settings.SITE_URL + reverse("challenge_cards:meeting_packet", args=[packet.meeting_id])
            message = EmailMessage(
                subject=f"Briefing packet: {packet.meeting.title}",
                body=(
                    f"The briefing packet for the {packet.meeting.title} is attached "
                    f"({packet.card_count} open cards).\n\nThe packet page: {link}\n"
                ),
                to=admins,
            )
            message.attach(
                f"briefing-packet-{packet.meeting.starts_at_eastern:%Y-%m-%d}.pdf", packet.pdf, "application/pdf"
            )
            message.send()
        BriefingPacket.objects.filter(pk=packet.pk).update(emailed_at=timezone.now())


class _SystemOmb:
    """Reads as OMB for a packet whose requester's account is gone."""

    is_authenticated = True
    is_active = True
    pk = None

    def __init__(self) -> None:
        from agencies.roles import UserRoles

        self._challenge_cards_roles = UserRoles(omb_viewer=True)
