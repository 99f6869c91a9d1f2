"""OMB's side of a card: rating and disposition, carry-over to a later meeting, return of a done card."""

from __future__ import annotations

import datetime
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from .. import permissions, signals
from ..domain import refuse_long_text
from ..models import (
    ActionStatus,
    CardStatus,
    CardUpdate,
    ChallengeCard,
    Disposition,
    FollowUpAction,
    Meeting,
    Rating,
    UpdateKind,
)
from ._common import StaleWrite, _check_version, _lock_card, _record
from .closeout import card_continue


def _disposition_problem(card: ChallengeCard, disposition: str, reason: str) -> tuple[str, str] | None:
    """Why card_review refuses this disposition, as (field, message); None when it may be set."""
    if disposition == Disposition.CARRIED_OVER:
        return "disposition", "Carry a card over to a meeting with a new due date instead."
    if disposition not in (Disposition.ACCEPTED, Disposition.DROPPED):
        return "disposition", "Choose accept or drop."
    if not card.is_open:
        return "disposition", f"This card is already {card.get_disposition_display().lower()}."
    if disposition == Disposition.DROPPED and not reason:
        return "reason", "Say why the card is dropped."
    return None


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
    refuse_long_text(reason=reason, note=note)
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
        problem = _disposition_problem(card, disposition, reason)
        if problem:
            errors[problem[0]] = problem[1]
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


def _kept_due_date(card: ChallengeCard) -> datetime.date | None:
    """A carry-over without a new due date keeps the old one while it is still ahead; never an earlier one."""
    return card.due_date if card.due_date > timezone.localdate() else None


def _carry_target(card: ChallengeCard, to_meeting: Meeting | None, errors: dict[str, str]) -> Meeting | None:
    """The meeting a card is carried over to (default: the next scheduled one), or None with the error noted."""
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
    return to_meeting


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
    """Carry an open card to a later meeting: a new card continues it, open actions move along.

    ``due_date`` is the successor's; without one it keeps the old due date if that is still ahead,
    and is refused otherwise (a carry-over never moves a card's due date earlier by itself).
    """
    if not permissions.can_review_card(actor):
        raise PermissionDenied("Only OMB admins carry cards over.")
    card = _lock_card(card)
    _check_version(card.version, expected_version)
    errors: dict[str, str] = {}
    if not card.is_open:
        errors["disposition"] = f"This card is already {card.get_disposition_display().lower()}."
    if not reason.strip():
        errors["reason"] = "Say why the card is carried over."
    to_meeting = _carry_target(card, to_meeting, errors)
    due_date = due_date or _kept_due_date(card)
    if due_date is None:
        errors["due_date"] = (
            f"Give the new due date: the card was due {card.due_date:%B} {card.due_date.day}, {card.due_date.year}."
        )
    if errors or to_meeting is None or due_date is None:
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
        due_date=due_date,
        status=CardStatus.IN_PROGRESS if card.status != CardStatus.NOT_STARTED else CardStatus.NOT_STARTED,
        agency_rating=card.agency_rating,
        metric_name=card.metric_name,
        metric_unit=card.metric_unit,
        metric_baseline=card.metric_baseline,
        metric_target=card.metric_target,
        metric_value=card.metric_value,
        carried_over_from=card,
        carry_count=card.carry_count + 1,
        # The predecessor's updates are the successor's history: "not updated since" reads the same.
        last_agency_update_at=card.last_agency_update_at,
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
    signals.card_carried_over.send(sender=ChallengeCard, card=successor, predecessor=card, actor=actor)
    return successor


@transaction.atomic
def card_decide(
    *,
    actor,
    card: ChallengeCard,
    expected_version: int | None,
    decision: str,
    omb_rating: str | None = None,
    reason: str = "",
    due_date: datetime.date | None = None,
    meeting: Meeting | None = None,
) -> CardUpdate | ChallengeCard:
    """OMB's review decision on one card, as the review board takes it: rating and disposition, all or nothing.

    ``decision`` is one of domain.REVIEW_DECISIONS. Keep (rating only), accept and drop are one card_review;
    continue is one card_continue (a decision at the close-out, with the rating in the same row);
    carry-over and return first record a changed rating (its own history row), then move the card.
    ``meeting`` is the close-out a "continue" counts for (default: the card's next close-out).
    ``card`` is the card the reviewer saw: its rating says whether the rating changed, and
    ``expected_version`` refuses the whole decision if anyone changed the card since.
    """
    if decision in ("keep", "accept", "drop"):
        return card_review(
            actor=actor,
            card=card.pk,
            expected_version=expected_version,
            omb_rating=omb_rating,
            disposition={"accept": Disposition.ACCEPTED, "drop": Disposition.DROPPED}.get(decision),
            reason=reason,
        )
    if decision == "continue":
        return card_continue(
            actor=actor,
            card=card.pk,
            expected_version=expected_version,
            omb_rating=omb_rating,
            note=reason,
            meeting=meeting,
        )
    if decision not in ("carry_over", "return"):
        raise ValidationError({"decision": "Choose a disposition from the list."})
    version = expected_version
    if omb_rating is not None and omb_rating != card.omb_rating:
        card_review(actor=actor, card=card.pk, expected_version=version, omb_rating=omb_rating)
        version = None if version is None else version + 1
    if decision == "carry_over":
        return card_carry_over(actor=actor, card=card.pk, expected_version=version, reason=reason, due_date=due_date)
    return card_return(actor=actor, card=card.pk, expected_version=version, reason=reason)


@transaction.atomic
def cards_decide(
    *,
    actor,
    cards: list[int],
    decision: str,
    reason: str = "",
    due_date: datetime.date | None = None,
    versions: dict[int, int] | None = None,
) -> list[CardUpdate | ChallengeCard]:
    """One decision with one reason for several cards (the board's bulk decision): card_decide for each,
    all or nothing. A refusal names the card it is about; none of the cards changes. ``versions`` are the
    versions the reviewer saw: a card changed since is refused (StaleWrite) and nothing is saved."""
    if not permissions.can_review_card(actor):
        raise PermissionDenied("Only OMB admins review cards.")
    if not cards:
        raise ValidationError({"cards": "Select at least one card."})
    chosen = list(
        ChallengeCard.objects.filter(pk__in=cards).select_related("agency").order_by("agency__name", "title", "id")
    )
    if len(chosen) != len(set(cards)):
        raise ValidationError({"cards": "Some of the selected cards no longer exist."})
    done: list[CardUpdate | ChallengeCard] = []
    for card in chosen:
        try:
            done.append(
                card_decide(
                    actor=actor,
                    card=card,
                    expected_version=(versions or {}).get(card.pk),
                    decision=decision,
                    reason=reason,
                    due_date=due_date,
                )
            )
        except ValidationError as error:
            raise ValidationError(
                {"cards": [f"{card.agency.abbreviation}: {card.title}: {message}" for message in error.messages]}
            ) from error
        except StaleWrite as error:
            raise ValidationError(
                {"cards": f"{card.agency.abbreviation}: {card.title} changed after you opened the board. Check it."}
            ) from error
    return done
