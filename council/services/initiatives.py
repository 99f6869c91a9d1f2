"""Initiatives: made by OMB, joined by the cards issued for them, cards added or removed later.

Issuing one card to many agencies creates an initiative or joins the open one of the same title
(receivers.py calls initiative_join_issued from challenge_cards' cards_issued signal); a carried-over
card stays in its predecessor's initiative (initiative_follow_carry_over).
"""

from __future__ import annotations

import contextvars
import datetime
from collections.abc import Iterable
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from challenge_cards import services as card_services
from challenge_cards.models import ChallengeCard, PmaPriority

from .. import permissions, signals
from ..models import Initiative, InitiativeCard, InitiativeChange, Rollup
from ._common import check_version

# The initiative a card is being issued for (initiative_issue), read by the cards_issued receiver.
_issuing_for: contextvars.ContextVar[Initiative | None] = contextvars.ContextVar("issuing_for", default=None)


def _require_manager(actor) -> None:
    if actor is not None and not permissions.can_manage_initiatives(actor):
        raise PermissionDenied("Only OMB admins manage initiatives.")


def _create_errors(*, title: str, target_name: str, target_value, rollup: str, starts_on, target_date) -> dict:
    errors: dict[str, str] = {}
    if not title.strip():
        errors["title"] = "Give the initiative a title."
    elif Initiative.objects.filter(title__iexact=title.strip()).exists():
        errors["title"] = "An initiative with this title exists already."
    if not target_name.strip():
        errors["target_name"] = "Say what the target counts, e.g. people hired through pooled hiring."
    if target_value is None or Decimal(target_value) <= 0:
        errors["target_value"] = "The government-wide target is a number above zero."
    if rollup not in Rollup.values:
        errors["rollup"] = "Choose how the agencies' cards add up: sum, average or agencies done."
    if starts_on and target_date and target_date < starts_on:
        errors["target_date"] = "The target date comes after the start."
    return errors


@transaction.atomic
def initiative_create(
    *,
    actor,
    title: str,
    priority: PmaPriority,
    target_name: str,
    target_value: Decimal,
    target_date: datetime.date,
    starts_on: datetime.date,
    rollup: str = Rollup.SUM,
    target_unit: str = "",
    baseline: Decimal = Decimal(0),
    owner=None,
    cards: Iterable[ChallengeCard] = (),
) -> Initiative:
    """Make an initiative; its rollup rule is chosen here, once."""
    _require_manager(actor)
    errors = _create_errors(
        title=title,
        target_name=target_name,
        target_value=target_value,
        rollup=rollup,
        starts_on=starts_on,
        target_date=target_date,
    )
    if errors:
        raise ValidationError(errors)
    initiative = Initiative.objects.create(
        title=title.strip(),
        priority=priority,
        owner=owner or actor,
        target_name=target_name.strip(),
        target_value=target_value,
        target_unit=target_unit.strip(),
        baseline=baseline,
        starts_on=starts_on,
        target_date=target_date,
        rollup=rollup,
        created_by=actor,
    )
    InitiativeChange.objects.create(initiative=initiative, kind=InitiativeChange.Kind.CREATED, actor=actor)
    _add(initiative, list(cards), actor)
    _changed(initiative, InitiativeChange.Kind.CREATED, actor)
    return initiative


def _changed(initiative: Initiative, kind: str, actor) -> None:
    signals.initiative_changed.send(sender=Initiative, initiative=initiative, kind=kind, actor=actor)


def _add(initiative: Initiative, cards: list[ChallengeCard], actor, note: str = "") -> list[ChallengeCard]:
    taken = dict(
        InitiativeCard.objects.filter(card__in=cards)
        .exclude(initiative=initiative)
        .values_list("card_id", "initiative__title")
    )
    if taken:
        lines = [
            f"{card.agency.abbreviation}: {card.title} is in {taken[card.pk]}" for card in cards if card.pk in taken
        ]
        raise ValidationError({"cards": ["A card counts in one initiative only: " + "; ".join(lines) + "."]})
    mine = set(initiative.memberships.values_list("card_id", flat=True))
    added = [card for card in cards if card.pk not in mine]
    InitiativeCard.objects.bulk_create(
        [InitiativeCard(initiative=initiative, card=card, added_by=actor) for card in added]
    )
    InitiativeChange.objects.bulk_create(
        [
            InitiativeChange(
                initiative=initiative, kind=InitiativeChange.Kind.CARD_ADDED, card=card, actor=actor, note=note
            )
            for card in added
        ]
    )
    return added


def _locked(initiative: Initiative | int) -> Initiative:
    pk = initiative.pk if isinstance(initiative, Initiative) else initiative
    return Initiative.objects.select_for_update().get(pk=pk)


@transaction.atomic
def initiative_cards_add(*, actor, initiative: Initiative | int, cards: Iterable[ChallengeCard]) -> list[ChallengeCard]:
    """Count more cards in an initiative (a card counts in one initiative at most)."""
    _require_manager(actor)
    initiative = _locked(initiative)
    cards = list(ChallengeCard.objects.select_related("agency").filter(pk__in=[card.pk for card in cards]))
    added = _add(initiative, cards, actor)
    if added:
        initiative.version += 1
        initiative.save(update_fields=["version"])
        _changed(initiative, InitiativeChange.Kind.CARD_ADDED, actor)
    return added


@transaction.atomic
def initiative_card_remove(*, actor, initiative: Initiative | int, card: ChallengeCard | int, note: str = "") -> None:
    """Stop counting a card in an initiative; the card itself is untouched and the removal is recorded."""
    _require_manager(actor)
    initiative = _locked(initiative)
    card_id = card.pk if isinstance(card, ChallengeCard) else card
    removed, _ = InitiativeCard.objects.filter(initiative=initiative, card_id=card_id).delete()
    if not removed:
        raise ValidationError({"card": "This card is not in the initiative."})
    InitiativeChange.objects.create(
        initiative=initiative, kind=InitiativeChange.Kind.CARD_REMOVED, card_id=card_id, actor=actor, note=note[:300]
    )
    initiative.version += 1
    initiative.save(update_fields=["version"])
    _changed(initiative, InitiativeChange.Kind.CARD_REMOVED, actor)


@transaction.atomic
def initiative_share(*, actor, initiative: Initiative | int, shared: bool, expected_version: int | None) -> Initiative:
    """OMB shares (or stops sharing) the agency table: agencies then see each other's cards in it."""
    _require_manager(actor)
    initiative = _locked(initiative)
    check_version(initiative.version, expected_version)
    if initiative.agency_table_shared != shared:
        initiative.agency_table_shared = shared
        initiative.version += 1
        initiative.save(update_fields=["agency_table_shared", "version"])
        note = "Agencies see each other's cards." if shared else "Agencies see only their own cards."
        InitiativeChange.objects.create(
            initiative=initiative, kind=InitiativeChange.Kind.SHARING, actor=actor, note=note
        )
        _changed(initiative, InitiativeChange.Kind.SHARING, actor)
    return initiative


@transaction.atomic
def initiative_issue(*, actor, initiative: Initiative | int, **card: object) -> list[ChallengeCard]:
    """Issue one card to many agencies for an initiative (services.card_issue's arguments): they join it."""
    _require_manager(actor)
    initiative = _locked(initiative)
    token = _issuing_for.set(initiative)
    try:
        return card_services.card_issue(actor=actor, **card)  # type: ignore[arg-type]
    finally:
        _issuing_for.reset(token)


def _new_from(cards: list[ChallengeCard], actor) -> Initiative:
    first = cards[0]
    target = sum((card.metric_target or Decimal(0) for card in cards), Decimal(0))
    if first.has_metric and all(card.metric_target is not None for card in cards) and target > 0:
        rollup, name, unit = Rollup.SUM, first.metric_name, first.metric_unit
    else:  # no measurable target to add up (or one that falls to zero): count the agencies done
        target, rollup, name, unit = Decimal(len(cards)), Rollup.COUNT_DONE, "Agencies done", "agencies"
    return initiative_create(
        actor=None,
        title=first.title,
        priority=first.priority,
        target_name=name,
        target_value=target,
        target_unit=unit,
        baseline=sum((card.metric_baseline or Decimal(0) for card in cards), Decimal(0))
        if rollup == Rollup.SUM
        else Decimal(0),
        starts_on=first.issued_at.date(),
        target_date=max(first.due_date, first.issued_at.date()),
        rollup=rollup,
        owner=actor,
    )


@transaction.atomic
def initiative_join_issued(*, actor, cards: list[ChallengeCard]) -> Initiative | None:
    """Cards just issued: for initiative_issue's initiative, or one card to many agencies (creates or joins one)."""
    initiative = _issuing_for.get()
    if initiative is None:
        if len(cards) < 2:
            return None
        initiative = Initiative.objects.filter(title__iexact=cards[0].title).first() or _new_from(cards, actor)
    _add(initiative, cards, actor, note="Issued for the initiative")
    return initiative


@transaction.atomic
def initiative_follow_carry_over(*, card: ChallengeCard) -> None:
    """A carried-over card stays in its predecessor's initiative."""
    link = InitiativeCard.objects.filter(card_id=card.carried_over_from_id).select_related("initiative").first()
    if link is None or InitiativeCard.objects.filter(card=card).exists():
        return
    InitiativeCard.objects.create(initiative=link.initiative, card=card, added_by=card.issued_by)
    InitiativeChange.objects.create(
        initiative=link.initiative,
        kind=InitiativeChange.Kind.CARD_ADDED,
        card=card,
        actor=card.issued_by,
        note="Carried over: it stays in the initiative",
    )
