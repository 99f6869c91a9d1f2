"""Benchmark data in bulk: hundreds of agencies, tens of thousands of cards and actions.

This bypasses services and writes with ``bulk_create`` in batches: issuing 30,000 cards one
service call at a time would take many minutes, and the benchmark needs volume, not a
realistic story (the small demo, built first, has that). Every row still satisfies the
model's constraints. An agency that already has benchmark cards is skipped, so running it
again adds nothing.
"""

from __future__ import annotations

import datetime
import random
from collections.abc import Iterable, Iterator

from django.db import transaction
from django.utils import timezone
from tqdm import tqdm

from agencies.models import Agency, Membership, Role

from ..models import (
    EASTERN,
    ActionOwnerSide,
    ActionStatus,
    CardStatus,
    CardUpdate,
    ChallengeCard,
    Disposition,
    FollowUpAction,
    Meeting,
    PmaStrategy,
    UpdateKind,
)

TITLE_PREFIX = "Benchmark card "
TEST_AGENCY_PREFIX = "TA"
AGENCIES_PER_CHUNK = 20
BATCH_SIZE = 2000
STATUSES = [CardStatus.NOT_STARTED, CardStatus.IN_PROGRESS, CardStatus.IN_PROGRESS, CardStatus.AT_RISK, CardStatus.DONE]
ACTION_STATUSES = [ActionStatus.OPEN, ActionStatus.OPEN, ActionStatus.OPEN, ActionStatus.DONE, ActionStatus.DROPPED]


def ensure_agencies(total: int) -> list[Agency]:
    """The real agencies first, then generated 'Test Agency 0001'... up to ``total``."""
    real = list(Agency.objects.exclude(abbreviation__startswith=TEST_AGENCY_PREFIX).order_by("-cfo_act", "name"))
    missing = total - len(real)
    if missing > 0:
        Agency.objects.bulk_create(
            [
                Agency(name=f"Test Agency {n:04d}", abbreviation=f"{TEST_AGENCY_PREFIX}{n:04d}")
                for n in range(1, missing + 1)
            ],
            ignore_conflicts=True,
        )
    generated = Agency.objects.filter(abbreviation__startswith=TEST_AGENCY_PREFIX, name__startswith="Test Agency ")
    return (real + list(generated.order_by("abbreviation")))[:total]


def _chunks(items: list, size: int) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _cards_for(agency: Agency, *, count: int, meetings, strategies, deputies, admin, rng) -> Iterable[ChallengeCard]:
    for index in range(count):
        meeting = meetings[index % len(meetings)]
        strategy = strategies[index % len(strategies)]
        issued_at = meeting.starts_at + datetime.timedelta(hours=2)
        status = rng.choice(STATUSES)
        yield ChallengeCard(
            meeting=meeting,
            agency=agency,
            issued_to_id=deputies.get(agency.pk),
            issued_by=admin,
            issued_at=issued_at,
            title=f"{TITLE_PREFIX}{index + 1:04d}",
            ask="Benchmark ask: report progress on this PMA strategy before the next meeting.",
            priority_id=strategy.priority_id,
            strategy=strategy,
            due_date=(meeting.starts_at.astimezone(EASTERN) + datetime.timedelta(days=rng.randint(14, 60))).date(),
            status=status,
            disposition=Disposition.ACCEPTED if status == CardStatus.DONE and rng.random() < 0.5 else Disposition.OPEN,
        )


def _actions_for(card: ChallengeCard, *, count: int, admin, rng, now) -> Iterable[FollowUpAction]:
    for index in range(count):
        status = rng.choice(ACTION_STATUSES)
        yield FollowUpAction(
            card=card,
            description=f"Benchmark follow-up action {index + 1} for {card.title.lower()}",
            owner_name="Chief Human Capital Officer" if index % 2 else "OMB Office of Performance and Personnel",
            owned_by=ActionOwnerSide.AGENCY if index % 2 else ActionOwnerSide.OMB,
            due_date=card.due_date + datetime.timedelta(days=rng.randint(-20, 20)),
            status=status,
            completed_at=now if status == ActionStatus.DONE else None,
            dropped_reason="No longer needed." if status == ActionStatus.DROPPED else "",
            created_by=admin,
        )


def build(*, admin, agencies: int, cards_per_agency: int, actions_per_card: int, progress: bool = True) -> int:
    """Add benchmark cards, actions and one 'issued' update per card; returns how many cards were added."""
    targets = ensure_agencies(agencies)
    done = set(
        ChallengeCard.objects.filter(title__startswith=TITLE_PREFIX).values_list("agency_id", flat=True).distinct()
    )
    todo = [agency for agency in targets if agency.pk not in done]
    meetings = list(Meeting.objects.exclude(status=Meeting.Status.CANCELLED).order_by("starts_at"))
    strategies = list(PmaStrategy.objects.order_by("priority__number", "number"))
    deputies = dict(Membership.objects.current().filter(role=Role.DEPUTY_SECRETARY).values_list("agency_id", "user_id"))
    now = timezone.now()
    added = 0
    with tqdm(total=len(todo) * cards_per_agency, unit="card", disable=not progress) as bar:
        for chunk in _chunks(todo, AGENCIES_PER_CHUNK):
            with transaction.atomic():
                cards: list[ChallengeCard] = []
                for agency in chunk:
                    rng = random.Random(agency.abbreviation)
                    cards.extend(
                        _cards_for(
                            agency,
                            count=cards_per_agency,
                            meetings=meetings,
                            strategies=strategies,
                            deputies=deputies,
                            admin=admin,
                            rng=rng,
                        )
                    )
                cards = ChallengeCard.objects.bulk_create(cards, batch_size=BATCH_SIZE)
                rng = random.Random(chunk[0].abbreviation)
                FollowUpAction.objects.bulk_create(
                    (
                        action
                        for card in cards
                        for action in _actions_for(card, count=actions_per_card, admin=admin, rng=rng, now=now)
                    ),
                    batch_size=BATCH_SIZE,
                )
                CardUpdate.objects.bulk_create(
                    (
                        CardUpdate(
                            card=card,
                            kind=UpdateKind.ISSUED,
                            author=admin,
                            created_at=card.issued_at,
                            changes={"status": [None, card.status], "due_date": [None, card.due_date.isoformat()]},
                            note="Issued for the benchmark.",
                        )
                        for card in cards
                    ),
                    batch_size=BATCH_SIZE,
                )
            added += len(cards)
            bar.update(len(cards))
    return added
