"""Metric trends: a card's measurable target as a time series, its pace, and a chart.

Nothing is stored twice: the series is the value at issue plus every applied update whose
``changes`` include ``metric_value`` (CardUpdate is the history; a certified draft counts
through its CERTIFIED entry). The pace is a straight line from the value at issue to the
target at the due date, or runs through the card's interim targets when it has any. The
chart is an inline SVG drawn here, with a table of the same points beside it for screen readers.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from .models import EASTERN, CardUpdate, Certification, ChallengeCard, InterimTarget

ON_PACE = "on_pace"
BEHIND = "behind"
PACE_LABELS = {ON_PACE: "On pace", BEHIND: "Behind"}


@dataclass(frozen=True)
class Point:
    date: datetime.date
    value: Decimal
    label: str = ""


@dataclass
class Trend:
    """What a card's chart, table and pace verdict are drawn from."""

    card: ChallengeCard
    points: list[Point] = field(default_factory=list)
    plan: list[Point] = field(default_factory=list)  # the pace line: start, interim targets, target
    pace: str | None = None  # ON_PACE, BEHIND, or None when the card has no complete target
    expected_now: Decimal | None = None
    as_of: datetime.date | None = None

    @property
    def pace_label(self) -> str:
        return PACE_LABELS.get(self.pace or "", "No pace: the target has no baseline or target value")

    @property
    def latest(self) -> Point | None:
        return self.points[-1] if self.points else None

    def rows(self) -> list[dict]:
        """The table beside the chart: each observed point with the value expected on pace that day."""
        return [
            {
                "date": point.date,
                "value": point.value,
                "expected": expected_on(self.plan, point.date),
                "label": point.label,
            }
            for point in self.points
        ]


def _decimal(value) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def _day(moment: datetime.datetime) -> datetime.date:
    return moment.astimezone(EASTERN).date()


def metric_updates(updates: Iterable[CardUpdate]) -> list[CardUpdate]:
    """The applied updates that changed the metric's value, oldest first.

    A delegate's draft never counts, pending or certified: certifying it records its own
    entry (kind CERTIFIED, when the value took effect), which is the one that counts, once.
    """
    chosen = [
        update
        for update in updates
        if "metric_value" in (update.changes or {}) and update.certification == Certification.NOT_REQUIRED
    ]
    return sorted(chosen, key=lambda update: (update.created_at, update.pk))


def series(card: ChallengeCard, updates: Iterable[CardUpdate]) -> list[Point]:
    """The value at issue, then each posted value, one point per update (the last one of a day wins on a chart)."""
    if not card.has_metric:
        return []
    changes = metric_updates(updates)
    # The value at issue: the first change's old value (a carried-over card starts where its predecessor was),
    # else the value now, else the baseline.
    start = _decimal(changes[0].changes["metric_value"][0]) if changes else _decimal(card.metric_value)
    if start is None:
        start = card.metric_baseline
    points = [Point(_day(card.issued_at), start, "At issue")] if start is not None else []
    for update in changes:
        value = _decimal(update.changes["metric_value"][1])
        if value is not None:
            points.append(Point(_day(update.created_at), value, "Update"))
    return points


def pace_plan(card: ChallengeCard, start: Point | None, interim: Iterable[InterimTarget]) -> list[Point]:
    """Start (value at issue), interim targets in date order, then the target at the due date."""
    if start is None or card.metric_target is None:
        return []
    plan = [Point(start.date, start.value, "At issue")]
    for target in sorted(interim, key=lambda item: item.date):
        if start.date < target.date < card.due_date:
            plan.append(Point(target.date, target.value, "Interim target"))
    plan.append(Point(max(card.due_date, start.date), card.metric_target, "Target"))
    return plan


def expected_on(plan: list[Point], day: datetime.date) -> Decimal | None:
    """The value the plan expects on a day: linear between its points, flat before and after."""
    if not plan:
        return None
    if day <= plan[0].date:
        return plan[0].value
    for before, after in zip(plan, plan[1:], strict=False):
        if day <= after.date:
            span = (after.date - before.date).days
            if span <= 0:
                return after.value
            share = Decimal((day - before.date).days) / Decimal(span)
            return (before.value + (after.value - before.value) * share).quantize(Decimal("0.01"))
    return plan[-1].value


def trend_for(
    card: ChallengeCard,
    updates: Iterable[CardUpdate],
    interim: Iterable[InterimTarget] = (),
    *,
    as_of: datetime.date | None = None,
) -> Trend:
    """Series, plan and the verdict as of a day (default today): is the latest value at least what the pace expects?"""
    as_of = as_of or timezone.localdate()
    points = series(card, updates)
    trend = Trend(card=card, points=points, as_of=as_of)
    if not points:
        return trend
    trend.plan = pace_plan(card, points[0], interim)
    if not trend.plan:
        return trend
    day = min(max(as_of, trend.plan[0].date), max(as_of, trend.plan[-1].date))
    expected = expected_on(trend.plan, day)
    trend.expected_now = expected
    if expected is None:  # not reached: the day is clamped into the plan, which has points
        return trend
    latest = points[-1].value
    rising = trend.plan[-1].value >= trend.plan[0].value
    trend.pace = ON_PACE if (latest >= expected if rising else latest <= expected) else BEHIND
    return trend


# --- the chart ------------------------------------------------------------------------------

WIDTH, HEIGHT = 480, 200
LEFT, RIGHT, TOP, BOTTOM = 56, 16, 16, 36


def _fmt(value: Decimal | None) -> str:
    if value is None:
        return "—"
    value = Decimal(value)
    return f"{value.normalize():,f}" if value == value.to_integral() else f"{value:,}"


def chart_svg(trend: Trend, *, chart_id: str) -> SafeString:
    """An SVG line chart: posted values (solid, dots) and the pace (dashed). Described by the table it sits beside."""
    values = [point.value for point in trend.points + trend.plan]
    dates = [point.date for point in trend.points + trend.plan]
    if not values:
        return SafeString("")
    low, high = min(values), max(values)
    if low == high:
        low, high = low - 1, high + 1
    first, last = min(dates), max(dates)
    days = max((last - first).days, 1)

    def x(day: datetime.date) -> float:
        return round(LEFT + (WIDTH - LEFT - RIGHT) * (day - first).days / days, 1)

    def y(value: Decimal) -> float:
        return round(TOP + (HEIGHT - TOP - BOTTOM) * float((high - value) / (high - low)), 1)

    def polyline(points: list[Point]) -> str:
        return " ".join(f"{x(p.date)},{y(p.value)}" for p in points)

    unit = f" {trend.card.metric_unit}" if trend.card.metric_unit else ""
    title = f"{trend.card.metric_name}: {_fmt(trend.points[0].value) if trend.points else '—'}{unit} at issue"
    if trend.latest:
        title += f", {_fmt(trend.latest.value)}{unit} on {trend.latest.date:%b %-d, %Y}"
    if trend.card.metric_target is not None:
        title += f"; target {_fmt(trend.card.metric_target)}{unit} by {trend.card.due_date:%b %-d, %Y}"
    title += f". {trend.pace_label}."
    plan_line = (
        format_html(
            '<polyline class="cc-trend__plan" points="{}" fill="none" stroke="#71767a" stroke-width="2" '
            'stroke-dasharray="6 4"/>',
            polyline(trend.plan),
        )
        if trend.plan
        else ""
    )
    dots = format_html_join(
        "",
        '<circle cx="{}" cy="{}" r="4" fill="#005ea2"/>',
        ((x(p.date), y(p.value)) for p in trend.points),
    )
    axis = format_html(
        '<g font-size="11" fill="#1b1b1b">'
        '<text x="{}" y="{}" text-anchor="end">{}</text><text x="{}" y="{}" text-anchor="end">{}</text>'
        '<text x="{}" y="{}">{}</text><text x="{}" y="{}" text-anchor="end">{}</text></g>'
        '<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="#1b1b1b"/>'
        '<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="#1b1b1b"/>',
        LEFT - 6,
        TOP + 4,
        _fmt(high),
        LEFT - 6,
        HEIGHT - BOTTOM,
        _fmt(low),
        LEFT,
        HEIGHT - BOTTOM + 16,
        f"{first:%b %-d, %Y}",
        WIDTH - RIGHT,
        HEIGHT - BOTTOM + 16,
        f"{last:%b %-d, %Y}",
        LEFT,
        TOP,
        LEFT,
        HEIGHT - BOTTOM,
        LEFT,
        HEIGHT - BOTTOM,
        WIDTH - RIGHT,
        HEIGHT - BOTTOM,
    )
    legend = format_html(
        '<g font-size="11" fill="#1b1b1b"><line x1="{}" y1="{}" x2="{}" y2="{}" stroke="#005ea2" stroke-width="2"/>'
        '<text x="{}" y="{}">Posted values</text>'
        '<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="#71767a" stroke-width="2" stroke-dasharray="6 4"/>'
        '<text x="{}" y="{}">Pace to target</text></g>',
        LEFT,
        HEIGHT - 6,
        LEFT + 20,
        HEIGHT - 6,
        LEFT + 24,
        HEIGHT - 2,
        LEFT + 130,
        HEIGHT - 6,
        LEFT + 150,
        HEIGHT - 6,
        LEFT + 154,
        HEIGHT - 2,
    )
    return format_html(
        '<svg xmlns="http://www.w3.org/2000/svg" class="cc-trend__chart" viewBox="0 0 {} {}" width="{}" height="{}" '
        'role="img" aria-labelledby="{}-title" aria-describedby="{}-table">'
        '<title id="{}-title">{}</title>{}{}'
        '<polyline class="cc-trend__values" points="{}" fill="none" stroke="#005ea2" stroke-width="2"/>{}{}</svg>',
        WIDTH,
        HEIGHT,
        WIDTH,
        HEIGHT,
        chart_id,
        chart_id,
        chart_id,
        title,
        axis,
        plan_line,
        polyline(trend.points),
        dots,
        legend,
    )
