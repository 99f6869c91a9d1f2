"""What every use case shares: the stale-write refusal, the UNSET marker, row locks and the history row."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from django.utils import timezone

from agencies.models import Agency, Membership, Role
from agencies.roles import roles_of
from core.exceptions import StaleWrite

from ..models import CardUpdate, Certification, ChallengeCard


class _Unset:
    def __repr__(self) -> str:
        return "UNSET"


UNSET: Any = _Unset()


def _json(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime.date | datetime.datetime):
        return value.isoformat()
    return value


def _check_version(current: int, expected: int | None) -> None:
    if expected is not None and current != expected:
        raise StaleWrite(current)


def _lock_card(card: ChallengeCard | int, *, update: bool = False) -> ChallengeCard:
    """The card, locked; for an agency's update (``update``) with what the update's listeners decide on."""
    card_id = card.pk if isinstance(card, ChallengeCard) else card
    # of=("self",): lock the card only, not its agency (other cards of that agency stay writable).
    cards = ChallengeCard.objects.select_for_update(of=("self",)).select_related("agency")
    return (cards.with_update_facts() if update else cards).get(pk=card_id)


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
