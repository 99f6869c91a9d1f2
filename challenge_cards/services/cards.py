"""Issuing cards, the agency's updates, a delegate's drafts and their certification, interim targets."""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from agencies.models import Agency, Membership, Role
from agencies.roles import roles_of

from .. import permissions, signals
from ..domain import ALLOWED_TRANSITIONS, NOTE_REQUIRED_FOR, refuse_long_text
from ..models import (
    EASTERN,
    CardStatus,
    CardUpdate,
    Certification,
    ChallengeCard,
    Horizon,
    Meeting,
    PmaPriority,
    PmaStrategy,
    Rating,
    UpdateKind,
)
from ._common import UNSET, _check_version, _lock_card, _record, on_behalf_of_for
from .meetings import default_due_date


def _issue_errors(
    *,
    meeting: Meeting,
    agencies: list[Agency],
    title: str,
    ask: str,
    priority: PmaPriority,
    strategy: PmaStrategy | None,
    horizon: str,
    metric_name: str,
    metric_target: Decimal | None,
) -> dict[str, list[str]]:
    """Every reason card_issue refuses, by field (all of them at once, so a form shows them together)."""
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
    return errors


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
    errors = _issue_errors(
        meeting=meeting,
        agencies=agencies,
        title=title,
        ask=ask,
        priority=priority,
        strategy=strategy,
        horizon=horizon,
        metric_name=metric_name,
        metric_target=metric_target,
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


def _status_change(card: ChallengeCard, status: str | None, note: str, *, errors: dict, changes: dict) -> str:
    """The status part of an agency's update; returns the new status ("" when it stays)."""
    if status is None or status == card.status:
        return ""
    problem = _status_change_errors(card.status, status)
    if problem:
        errors["status"] = problem
        return ""
    changes["status"] = [card.status, status]
    if status in NOTE_REQUIRED_FOR and not note.strip():
        errors["note"] = f"Say why the card is {CardStatus(status).label.lower()}."
    return status


def _rating_change(card: ChallengeCard, agency_rating: str | None, *, errors: dict, changes: dict) -> None:
    if agency_rating is None or agency_rating == card.agency_rating:
        return
    if agency_rating not in Rating.values:
        errors["agency_rating"] = "Choose green, yellow or red."
    else:
        changes["agency_rating"] = [card.agency_rating, agency_rating]


def _metric_change(card: ChallengeCard, metric_value: Any, *, errors: dict, changes: dict) -> None:
    if metric_value is UNSET or metric_value == card.metric_value:
        return
    if not card.has_metric:
        errors["metric_value"] = "This card has no measurable target."
    else:
        changes["metric_value"] = [card.metric_value, metric_value]


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
    status_to = _status_change(card, status, note, errors=errors, changes=changes)
    _rating_change(card, agency_rating, errors=errors, changes=changes)
    _metric_change(card, metric_value, errors=errors, changes=changes)
    if not changes and not note.strip() and not errors:
        errors["note"] = "Change something or write a note."
    if errors:
        raise ValidationError(errors)
    for field, (_old, new) in changes.items():
        setattr(card, field, new)
    return changes, status_to


def card_update(
    *,
    actor,
    card: ChallengeCard | int,
    expected_version: int | None,
    status: str | None = None,
    agency_rating: str | None = None,
    metric_value: Any = UNSET,
    note: str = "",
    locked: bool = False,
) -> CardUpdate:
    """The agency posts an update: status, its own rating, the metric's value now, a note.

    A delegate's update is recorded as on behalf of the deputy secretary; where the agency
    requires certification it is a draft, not applied, until the deputy certifies it.

    ``locked``: the caller read ``card`` with select_for_update, its agency and with_update_facts() in the
    transaction it has open (the API reads the card once, locked, for its If-Match and its answer); the
    update then joins that transaction: no second read of the card, no savepoint.
    """
    refuse_long_text(note=note)
    if locked:
        if not isinstance(card, ChallengeCard) or not transaction.get_connection().in_atomic_block:
            raise TypeError("locked=True needs the card read with select_for_update in an open transaction.")
        return _card_update(actor, card, expected_version, status, agency_rating, metric_value, note)
    with transaction.atomic():
        card = _lock_card(card, update=True)
        return _card_update(actor, card, expected_version, status, agency_rating, metric_value, note)


def _card_update(
    actor,
    card: ChallengeCard,
    expected_version: int | None,
    status: str | None,
    agency_rating: str | None,
    metric_value: Any,
    note: str,
) -> CardUpdate:
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
    # Only what an update changes: the card is locked, and a full save wrote (and bound) every column again.
    card.save(update_fields=[*changes, "version", "last_agency_update_at", "updated_at"])
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
    card = _lock_card(update.card_id, update=True)
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
def interim_target_add(*, actor, card: ChallengeCard | int, date: datetime.date, value: Decimal):
    """A milestone on the way to the card's target; the metric's pace then runs through it."""
    from ..models import InterimTarget

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
