"""A small council with three meetings and a known history, for the meeting-preparation tests.

Meetings on October 13 and November 10, 2026 (held) and December 8, 2026 (next); "now" is
November 25, 2026. Treasury has a metric card (phone wait time, 28 → 3 minutes) with two
updates since the last meeting, and a card carried over from October; Labor has a card with
an overdue follow-up action and no update since the last meeting; a dropped card is not on
the agenda.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

import time_machine

from challenge_cards import services
from challenge_cards.models import EASTERN, CardStatus, Meeting, Rating
from tests import factories

NOW = datetime.datetime(2026, 11, 25, 12, 0, tzinfo=EASTERN)
TODAY = NOW.date()


def at(month: int, day: int, hour: int = 10) -> datetime.datetime:
    return datetime.datetime(2026, month, day, hour, 0, tzinfo=EASTERN)


def build(*, agency, other_agency, deputy, other_deputy, admin_user, priority) -> dict:
    october = Meeting.objects.create(starts_at=at(10, 13), status=Meeting.Status.HELD)
    november = Meeting.objects.create(starts_at=at(11, 10), status=Meeting.Status.HELD)
    december = Meeting.objects.create(starts_at=at(12, 8))
    with time_machine.travel(at(10, 13, 11), tick=False):
        [old] = services.card_issue(
            actor=admin_user,
            meeting=october,
            agencies=[agency],
            title="Name a CX lead",
            ask="Name a senior accountable CX executive.",
            priority=priority,
            due_date=datetime.date(2026, 11, 10),
        )
    with time_machine.travel(at(11, 10, 11), tick=False):
        carried = services.card_carry_over(
            actor=admin_user,
            card=old,
            expected_version=None,
            reason="Still hiring",
            to_meeting=november,
            due_date=datetime.date(2026, 12, 8),
        )
        [phones] = services.card_issue(
            actor=admin_user,
            meeting=november,
            agencies=[agency],
            title="Cut phone wait times",
            ask="Bring the average phone wait time down to 3 minutes.",
            priority=priority,
            due_date=datetime.date(2026, 12, 8),
            metric_name="Average phone wait time",
            metric_unit="minutes",
            metric_baseline=Decimal("28"),
            metric_target=Decimal("3"),
        )
        [labor] = services.card_issue(
            actor=admin_user,
            meeting=november,
            agencies=[other_agency],
            title="Run a pooled hiring action",
            ask="Join an OPM pooled hiring action.",
            priority=priority,
            due_date=datetime.date(2026, 11, 20),
        )
        [dropped] = services.card_issue(
            actor=admin_user,
            meeting=november,
            agencies=[other_agency],
            title="A card that was dropped",
            ask="Nothing.",
            priority=priority,
        )
        services.card_review(
            actor=admin_user, card=dropped, expected_version=None, disposition="dropped", reason="Overtaken"
        )
        overdue_action = services.action_add(
            actor=other_deputy,
            card=labor,
            description="Send the job analysis to OPM",
            owner_name="Chief Human Capital Officer",
            due_date=datetime.date(2026, 11, 18),
        )
    with time_machine.travel(at(11, 14), tick=False):
        services.card_update(
            actor=deputy,
            card=phones,
            expected_version=None,
            status=CardStatus.IN_PROGRESS,
            metric_value=Decimal("20"),
            note="New call-back system.",
        )
    with time_machine.travel(at(11, 20), tick=False):
        services.card_update(
            actor=deputy, card=phones, expected_version=None, metric_value=Decimal("12"), agency_rating=Rating.YELLOW
        )
        services.card_review(actor=admin_user, card=phones, expected_version=None, omb_rating=Rating.RED)
    for card in (phones, carried, labor):
        card.refresh_from_db()
    return {
        "october": october,
        "november": november,
        "december": december,
        "phones": phones,
        "carried": carried,
        "old": old,
        "labor": labor,
        "dropped": dropped,
        "overdue_action": overdue_action,
    }


def add_noise(*, agencies: int, cards_per_agency: int, meeting: Meeting, admin_user, priority) -> None:
    """More agencies, cards, updates, actions and interim targets, for the query-count tests."""
    from challenge_cards.models import InterimTarget

    for index in range(agencies):
        agency = factories.AgencyFactory(abbreviation=f"N{index}", name=f"Noise agency {index}")
        deputy = factories.deputy_of(agency)
        for number in range(cards_per_agency):
            card = factories.ChallengeCardFactory(
                agency=agency,
                meeting=meeting,
                priority=priority,
                issued_at=meeting.starts_at,
                due_date=datetime.date(2026, 12, 8),
                metric_name="Hires",
                metric_baseline=Decimal("0"),
                metric_target=Decimal("10"),
                metric_value=Decimal("0"),
                agency_rating=Rating.GREEN,
                omb_rating=Rating.YELLOW if number % 2 else Rating.RED,
            )
            factories.CardUpdateFactory(card=card, author=deputy, changes={"metric_value": ["0", "4"]}, created_at=NOW)
            factories.FollowUpActionFactory(card=card, due_date=datetime.date(2026, 11, 1))
            InterimTarget.objects.create(card=card, date=datetime.date(2026, 11, 25), value=Decimal("5"))
