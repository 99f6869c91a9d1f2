"""Metric trends: the series from the history, the pace, interim targets, and the chart's table on the card page."""

from __future__ import annotations

import datetime
import re
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from challenge_cards import services, trends
from challenge_cards.models import CardUpdate, Certification, InterimTarget
from tests import factories

from . import briefing_world
from .briefing_world import NOW, at

pytestmark = pytest.mark.django_db

D = Decimal


@pytest.fixture
def world(agency, other_agency, deputy, other_deputy, admin_user, priority):
    return briefing_world.build(
        agency=agency,
        other_agency=other_agency,
        deputy=deputy,
        other_deputy=other_deputy,
        admin_user=admin_user,
        priority=priority,
    )


def _trend(card, as_of=None):
    return trends.trend_for(
        card, CardUpdate.objects.filter(card=card), InterimTarget.objects.filter(card=card), as_of=as_of
    )


def test_the_series_is_the_value_at_issue_then_each_posted_value(world):
    trend = _trend(world["phones"])
    assert [(p.date, p.value) for p in trend.points] == [
        (datetime.date(2026, 11, 10), D("28")),
        (datetime.date(2026, 11, 14), D("20")),
        (datetime.date(2026, 11, 20), D("12")),
    ]


def test_a_draft_awaiting_certification_is_not_in_the_series(world, deputy):
    card = world["phones"]
    factories.CardUpdateFactory(
        card=card,
        author=deputy,
        changes={"metric_value": ["12.00", "2"]},
        certification=Certification.PENDING,
        created_at=at(11, 22),
    )
    assert [p.value for p in _trend(card).points] == [D("28"), D("20"), D("12")]


def test_a_certified_draft_is_in_the_series_once_when_it_took_effect(world, deputy, agency):
    card = world["phones"]
    agency.certification_required = True
    agency.save()
    delegate = factories.delegate_of(agency, user__username="delegate.treas")
    card.refresh_from_db()
    with time_machine.travel(at(11, 22), tick=False):
        draft = services.card_update(
            actor=delegate, card=card, expected_version=card.version, metric_value=D("9"), note="Draft."
        )
    with time_machine.travel(at(11, 24), tick=False):
        services.card_update_certify(actor=deputy, update=draft, expected_version=card.version)
    history = CardUpdate.objects.visible_to(deputy).filter(card=card)
    assert history.filter(changes__has_key="metric_value").count() == 4  # two posted, the draft, its certification
    points = _trend(card).points
    assert [(p.date, p.value) for p in points[-2:]] == [
        (datetime.date(2026, 11, 20), D("12")),
        (datetime.date(2026, 11, 24), D("9")),
    ]
    assert [p.value for p in points].count(D("9")) == 1


def test_pace_is_linear_from_the_value_at_issue_to_the_target_at_the_due_date(world):
    card = world["phones"]  # 28 on Nov 10 → 3 on Dec 8: 28 days, -0.893 a day
    assert trends.expected_on(_trend(card).plan, datetime.date(2026, 11, 24)) == D("15.50")
    # 12 on Nov 25: expected 14.61, lower is better here: on pace.
    assert _trend(card, as_of=datetime.date(2026, 11, 25)).pace == trends.ON_PACE
    # By Dec 5 the pace expects 5.68; still 12: behind.
    later = _trend(card, as_of=datetime.date(2026, 12, 5))
    assert later.pace == trends.BEHIND and later.expected_now == D("5.68")


def test_a_rising_target_is_behind_below_the_line(agency, deputy, admin_user, priority, meeting):
    card = factories.ChallengeCardFactory(
        agency=agency,
        meeting=meeting,
        priority=priority,
        issued_at=at(11, 1),
        due_date=datetime.date(2026, 12, 1),
        metric_name="Hires",
        metric_baseline=D("0"),
        metric_target=D("300"),
        metric_value=D("100"),
    )
    factories.CardUpdateFactory(card=card, author=deputy, changes={"metric_value": ["0", "100"]}, created_at=at(11, 5))
    assert _trend(card, as_of=datetime.date(2026, 11, 11)).pace == trends.ON_PACE  # expects 100
    assert _trend(card, as_of=datetime.date(2026, 11, 16)).pace == trends.BEHIND  # expects 150


def test_interim_targets_bend_the_pace(world, admin_user):
    card = world["phones"]
    as_of = datetime.date(2026, 11, 25)
    assert _trend(card, as_of=as_of).pace == trends.ON_PACE
    with time_machine.travel(NOW, tick=False):
        services.interim_target_add(actor=admin_user, card=card, date=datetime.date(2026, 11, 24), value=D("8"))
    trend = _trend(card, as_of=as_of)
    assert [p.value for p in trend.plan] == [D("28"), D("8"), D("3")]
    assert trend.pace == trends.BEHIND  # 12 against the interim 8 on the way to 3
    assert trend.expected_now == D("7.64")


def test_interim_targets_are_checked(world, admin_user, other_deputy):
    card = world["phones"]
    with pytest.raises(ValidationError) as error:
        services.interim_target_add(actor=admin_user, card=card, date=datetime.date(2026, 12, 20), value=D("5"))
    assert "date" in error.value.message_dict
    with pytest.raises(PermissionDenied):
        services.interim_target_add(actor=other_deputy, card=card, date=datetime.date(2026, 11, 24), value=D("5"))
    with pytest.raises(ValidationError) as error:
        services.interim_target_add(
            actor=admin_user, card=world["labor"], date=datetime.date(2026, 11, 15), value=D("5")
        )
    assert "no measurable target" in str(error.value)


def test_a_carried_over_card_starts_where_its_predecessor_was(agency, deputy, admin_user, priority):
    from challenge_cards.models import Meeting

    first = Meeting.objects.create(starts_at=at(10, 13), status="held")
    second = Meeting.objects.create(starts_at=at(11, 10))
    with time_machine.travel(at(10, 13, 11), tick=False):
        [card] = services.card_issue(
            actor=admin_user,
            meeting=first,
            agencies=[agency],
            title="Hire",
            ask="Hire people.",
            priority=priority,
            metric_name="Hires",
            metric_baseline=D("0"),
            metric_target=D("10"),
            due_date=datetime.date(2026, 11, 10),
        )
    with time_machine.travel(at(10, 20), tick=False):
        services.card_update(actor=deputy, card=card, expected_version=None, metric_value=D("4"))
    with time_machine.travel(at(11, 10, 11), tick=False):
        successor = services.card_carry_over(
            actor=admin_user,
            card=card,
            expected_version=None,
            reason="Slow",
            to_meeting=second,
            due_date=datetime.date(2026, 12, 8),
        )
    with time_machine.travel(at(11, 20), tick=False):
        services.card_update(actor=deputy, card=successor, expected_version=None, metric_value=D("7"))
    successor.refresh_from_db()
    trend = _trend(successor)
    assert [(p.date.isoformat(), p.value) for p in trend.points] == [("2026-11-10", D("4")), ("2026-11-20", D("7"))]


def test_the_card_page_shows_the_chart_and_a_table_of_the_same_series(world, deputy, client):
    card = world["phones"]
    client.force_login(deputy)
    with time_machine.travel(NOW, tick=False):
        response = client.get(reverse("challenge_cards:card_detail", args=[card.pk]))
    html = response.content.decode()
    trend = _trend(card, as_of=NOW.date())
    table = html[html.index('id="card-trend-table"') : html.index("</table>", html.index('id="card-trend-table"'))]
    rows = re.findall(r'<tr><th scope="row">([^<]+)</th><td>([^<]+)</td><td>([^<]+)</td></tr>', table)
    assert rows == [
        (
            f"{row['date']:%b} {row['date'].day}, {row['date'].year}",
            f"{row['value'].normalize():f}",
            _fmt(row["expected"]),
        )
        for row in trend.rows()
    ]
    assert len(rows) == 3
    svg = html[html.index("<svg") : html.index("</svg>")]
    assert 'role="img"' in svg and 'aria-describedby="card-trend-table"' in svg
    polyline = re.search(r'class="cc-trend__values" points="([^"]+)"', svg).group(1)
    assert len(polyline.split()) == len(trend.points)
    assert svg.count("<circle") == len(trend.points)
    assert "On pace" in html
    assert "Add an interim target" in html  # the deputy may add one


def _fmt(value: Decimal) -> str:
    return f"{value.normalize():,f}" if value == value.to_integral() else f"{value:,}"


def test_a_card_without_a_metric_has_no_trend_section(world, admin_user, client):
    client.force_login(admin_user)
    response = client.get(reverse("challenge_cards:card_detail", args=[world["labor"].pk]))
    assert response.status_code == 200 and "Metric trend" not in response.content.decode()


def test_adding_an_interim_target_from_the_card_page(world, admin_user, client):
    card = world["phones"]
    client.force_login(admin_user)
    with time_machine.travel(NOW, tick=False):
        response = client.post(
            reverse("challenge_cards:interim_target_add", args=[card.pk]), {"date": "2026-11-30", "value": "6"}
        )
    assert response.status_code == 302
    assert list(InterimTarget.objects.filter(card=card).values_list("date", "value")) == [
        (datetime.date(2026, 11, 30), D("6.00"))
    ]
    assert card.updates.filter(changes__has_key="interim_target").count() == 1
