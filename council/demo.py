"""The demo's government-wide initiative: "Pooled hiring: 400 hires", five agencies' cards, three meetings of values.

Seeded after challenge_cards' demo (its demo_seeded signal), through the same services a person would use,
then dated like the rest of the demo: issued at the oldest past meeting, values posted in the month after
each meeting. Running it twice does nothing twice.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.db import transaction

from agencies.models import Agency, Membership, Role
from challenge_cards import services as card_services
from challenge_cards.models import EASTERN, CardStatus, CardUpdate, ChallengeCard, Horizon, Meeting, PmaPriority

from . import services
from .models import Initiative, Rollup

TITLE = "Pooled hiring: 400 hires"
CARD_TITLE = "Hire through OPM's pooled hiring actions"
# Hires reported after the first, second and third past meeting, per agency (80 each by the target date).
VALUES = {
    "OPM": ("25", "50", "72"),
    "VA": ("20", "42", "66"),
    "DHS": ("12", "30", "51"),
    "TREASURY": ("10", "22", "40"),
    "HHS": ("8", "20", "36"),
}


def _deputy(agency: Agency):
    membership = Membership.objects.current().filter(agency=agency, role=Role.DEPUTY_SECRETARY).first()
    return membership.user if membership else None


@transaction.atomic
def seed(*, admin, meetings: list[Meeting]) -> Initiative | None:
    """The initiative and its cards at meetings[0]; values dated after meetings[0], [1] and [2]."""
    if len(meetings) < 3 or Initiative.objects.filter(title=TITLE).exists():
        return None
    agencies = list(Agency.objects.filter(abbreviation__in=VALUES))
    start = meetings[0].starts_at.astimezone(EASTERN).date()
    initiative = services.initiative_create(
        actor=admin,
        title=TITLE,
        priority=PmaPriority.objects.get(number=1),
        target_name="People hired through pooled hiring",
        target_value=Decimal(400),
        target_unit="people",
        starts_on=start,
        target_date=start + datetime.timedelta(days=180),
        rollup=Rollup.SUM,
    )
    cards = services.initiative_issue(
        actor=admin,
        initiative=initiative,
        meeting=meetings[0],
        agencies=agencies,
        title=CARD_TITLE,
        ask="Hire from the shared certificates of OPM's pooled hiring actions and report the hires each month.",
        priority=initiative.priority,
        horizon=Horizon.YEAR,
        due_date=initiative.target_date,
        metric_name="People hired through pooled hiring",
        metric_unit="people",
        metric_baseline=Decimal(0),
        metric_target=Decimal(80),
    )
    issued = meetings[0].starts_at + datetime.timedelta(hours=2)
    for card in cards:
        _story(card, admin, meetings, issued)
    return initiative


def _story(card: ChallengeCard, admin, meetings: list[Meeting], issued: datetime.datetime) -> None:
    deputy = _deputy(card.agency) or admin
    ChallengeCard.objects.filter(pk=card.pk).update(issued_at=issued)
    CardUpdate.objects.filter(card=card).update(created_at=issued)
    for index, value in enumerate(VALUES[card.agency.abbreviation]):
        update = card_services.card_update(
            actor=deputy,
            card=card.pk,
            expected_version=None,
            status=CardStatus.IN_PROGRESS,
            metric_value=Decimal(value),
            note=f"{value} people hired from the pooled certificates so far.",
        )
        # The month after each meeting (the last one no later than a day after the third meeting).
        at = meetings[index].starts_at + datetime.timedelta(days=1 if index == 2 else 10)
        CardUpdate.objects.filter(pk=update.pk).update(created_at=at)
        ChallengeCard.objects.filter(pk=card.pk).update(last_agency_update_at=at)
