"""Initiatives read and rolled up: the total against the target, pace, each agency's share, the trend.

Nothing is stored twice: each agency's value is its card's (trends.series over the card's history,
its predecessors' too when carried over), added up by the initiative's rule. The total is
government-wide for everyone; the agency table shows an agency only its own cards unless OMB
shared it. A few queries for any number of initiatives, cards and updates.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import Decimal
from types import SimpleNamespace
from typing import Any, cast

from django.db.models import Prefetch, QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.safestring import SafeString

from agencies.models import Agency
from agencies.roles import roles_of
from challenge_cards import trends
from challenge_cards.models import EASTERN, CardStatus, CardUpdate, Certification, ChallengeCard, Disposition, Meeting

from .. import permissions
from ..models import Initiative, InitiativeCard, Rollup

TWO_PLACES = Decimal("0.01")


@dataclass
class AgencyRow:
    agency: Agency
    cards: list[ChallengeCard]
    points: list[trends.Point]  # the agency's value over time, its cards' histories merged
    done_on: datetime.date | None  # the day its current cards were all done, None if not done
    value: Decimal | None = None
    share: Decimal | None = None  # percent of the total (sum), None for the other rules

    @property
    def target(self) -> Decimal | None:
        targets = [card.metric_target for card in self.cards if card.metric_target is not None]
        return sum(targets, Decimal(0)) if targets else None

    @property
    def done(self) -> bool:
        return self.done_on is not None

    def value_on(self, day: datetime.date) -> Decimal | None:
        before = [point.value for point in self.points if point.date <= day]
        return before[-1] if before else None

    def done_by(self, day: datetime.date) -> bool:
        return self.done_on is not None and self.done_on <= day


@dataclass
class MeetingTotal:
    meeting: Meeting | None  # None: today
    date: datetime.date
    total: Decimal | None
    expected: Decimal | None

    @property
    def label(self) -> str:
        return self.meeting.title if self.meeting else "Today"


@dataclass
class InitiativeRollup:
    initiative: Initiative
    rows: list[AgencyRow] = field(default_factory=list)  # every agency (do not show: see visible_rows)
    visible_rows: list[AgencyRow] = field(default_factory=list)
    total: Decimal | None = None
    expected_now: Decimal | None = None
    pace: str | None = None
    history: list[MeetingTotal] = field(default_factory=list)
    as_of: datetime.date | None = None

    @property
    def agency_count(self) -> int:
        return len(self.rows)

    @property
    def hidden_count(self) -> int:
        return len(self.rows) - len(self.visible_rows)

    @property
    def percent_of_target(self) -> Decimal | None:
        target = self.initiative.target_value
        if self.total is None or not target:
            return None
        return (self.total * 100 / target).quantize(Decimal("1"))

    @property
    def pace_label(self) -> str:
        return trends.PACE_LABELS.get(self.pace or "", "No pace yet")

    @property
    def chart_id(self) -> str:
        return f"initiative-trend-{self.initiative.pk}"

    def chart(self) -> SafeString:
        return chart_svg(self)


def _day(moment: datetime.datetime) -> datetime.date:
    return moment.astimezone(EASTERN).date()


def _status_done_on(cards: list[ChallengeCard]) -> datetime.date | None:
    """When the agency's current cards were all done (status done, or accepted), from their history."""
    current = [card for card in cards if card.disposition != Disposition.CARRIED_OVER]
    days = []
    for card in current:
        if card.status != CardStatus.DONE and card.disposition != Disposition.ACCEPTED:
            return None
        marks = [
            update.created_at
            for update in cast(Any, card).history
            if update.status_to == CardStatus.DONE
            or (update.changes or {}).get("disposition", [None, None])[1] == "accepted"
        ]
        days.append(_day(min(marks)) if marks else _day(card.issued_at))
    return max(days) if days else None


def _agency_row(agency: Agency, cards: list[ChallengeCard]) -> AgencyRow:
    points: list[trends.Point] = []
    for card in sorted(cards, key=lambda card: (card.issued_at, card.pk)):
        points += trends.series(card, cast(Any, card).history)
    points.sort(key=lambda point: point.date)
    row = AgencyRow(agency=agency, cards=cards, points=points, done_on=_status_done_on(cards))
    row.value = row.value_on(datetime.date.max)
    return row


def _rollup_value(initiative: Initiative, rows: list[AgencyRow], day: datetime.date) -> Decimal | None:
    if initiative.rollup == Rollup.COUNT_DONE:
        return Decimal(sum(row.done_by(day) for row in rows))
    values = [value for row in rows if (value := row.value_on(day)) is not None]
    if not values:
        return None
    total = sum(values, Decimal(0))
    if initiative.rollup == Rollup.AVERAGE:
        return (total / len(values)).quantize(TWO_PLACES)
    return total


def pace_plan(initiative: Initiative) -> list[trends.Point]:
    return [
        trends.Point(initiative.starts_on, initiative.baseline, "Start"),
        trends.Point(initiative.target_date, initiative.target_value, "Target"),
    ]


def _history(initiative: Initiative, rows: list[AgencyRow], meetings: list[Meeting], today: datetime.date):
    plan = pace_plan(initiative)
    first = min((card.meeting.starts_at for row in rows for card in row.cards), default=None)
    history = [
        MeetingTotal(meeting, day, _rollup_value(initiative, rows, day), trends.expected_on(plan, day))
        for meeting in meetings
        if first is not None and meeting.starts_at >= first and (day := _day(meeting.starts_at)) <= today
    ]
    history.append(MeetingTotal(None, today, _rollup_value(initiative, rows, today), trends.expected_on(plan, today)))
    return history


def _build(user, initiative: Initiative, meetings: list[Meeting], today: datetime.date) -> InitiativeRollup:
    by_agency: dict[int, list[ChallengeCard]] = {}
    for link in cast(Any, initiative).links:
        by_agency.setdefault(link.card.agency_id, []).append(link.card)
    rows = sorted(
        (_agency_row(cards[0].agency, cards) for cards in by_agency.values()), key=lambda row: row.agency.name
    )
    result = InitiativeRollup(initiative=initiative, rows=rows, as_of=today)
    result.history = _history(initiative, rows, meetings, today)
    result.total = result.history[-1].total
    result.expected_now = result.history[-1].expected
    if result.total is not None and result.expected_now is not None:
        result.pace = trends.ON_PACE if result.total >= result.expected_now else trends.BEHIND
    if initiative.rollup == Rollup.SUM and result.total:
        for row in rows:
            row.share = (row.value * 100 / result.total).quantize(Decimal("0.1")) if row.value is not None else None
    if permissions.sees_every_agency(user, initiative):
        result.visible_rows = rows
    else:
        mine = roles_of(user).agency_ids
        result.visible_rows = [row for row in rows if row.agency.pk in mine]
    return result


def with_cards(initiatives: QuerySet[Initiative]) -> QuerySet[Initiative]:
    """Initiatives with their cards, each card's agency, meeting and applied history: four queries."""
    history = CardUpdate.objects.exclude(certification=Certification.PENDING).order_by("created_at", "id")
    links = InitiativeCard.objects.select_related("card__agency", "card__meeting").prefetch_related(
        Prefetch("card__updates", queryset=history, to_attr="history")
    )
    return initiatives.select_related("priority", "owner").prefetch_related(
        Prefetch("memberships", queryset=links, to_attr="links")
    )


def _meetings() -> list[Meeting]:
    return list(Meeting.objects.exclude(status=Meeting.Status.CANCELLED).order_by("starts_at"))


def initiative_rollups(user, *, today=None) -> list[InitiativeRollup]:
    """Every initiative this user may see, rolled up (the list page, the scorecard, exports)."""
    return rollups_of(user, with_cards(Initiative.objects.visible_to(user)), today=today)


def rollups_of(user, initiatives, *, today=None) -> list[InitiativeRollup]:
    """Initiatives read through with_cards (a page of the API list, say), rolled up for this user."""
    today = today or timezone.localdate()
    meetings = _meetings()
    return [_build(user, initiative, meetings, today) for initiative in initiatives]


def initiative_rollup(user, pk: int, *, today=None) -> InitiativeRollup:
    """One initiative rolled up, 404 when the user may not see it."""
    initiative = get_object_or_404(with_cards(Initiative.objects.visible_to(user)), pk=pk)
    return _build(user, initiative, _meetings(), today or timezone.localdate())


def chart_svg(rollup: InitiativeRollup) -> SafeString:
    """The card trend's chart (challenge_cards.trends), drawn from the totals at each meeting and the pace line."""
    initiative = rollup.initiative
    points = [trends.Point(item.date, item.total, item.label) for item in rollup.history if item.total is not None]
    like_a_card = SimpleNamespace(
        metric_name=f"{initiative.target_name} (government-wide)",
        metric_unit=initiative.target_unit,
        metric_target=initiative.target_value,
        due_date=initiative.target_date,
    )
    trend = trends.Trend(card=cast(ChallengeCard, like_a_card), points=points, plan=pace_plan(initiative))
    trend.pace = rollup.pace
    return trends.chart_svg(trend, chart_id=rollup.chart_id)


def totals_by_meeting(rollups: list[InitiativeRollup]) -> tuple[list[str], list[dict]]:
    """The scorecard's rows: a column per meeting any initiative has a total at, a row per initiative."""
    dates = sorted({(item.date, item.label) for rollup in rollups for item in rollup.history if item.meeting})
    columns = [label for _, label in dates]
    rows = []
    for rollup in rollups:
        by_label = {item.label: item.total for item in rollup.history}
        rows.append({"rollup": rollup, "totals": [by_label.get(label) for label in columns]})
    return columns, rows
