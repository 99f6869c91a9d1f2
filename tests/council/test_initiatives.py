"""Initiatives: issuing one card to many agencies makes one, the rollup rules, visibility, carry-overs, the API."""

import io
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.template.loader import render_to_string
from pypdf import PdfReader

from challenge_cards import services as card_services
from council import selectors, services
from council.models import Initiative, InitiativeChange, Rollup
from tests import factories


@pytest.fixture
def third_agency(db):
    return factories.AgencyFactory(name="Department of Veterans Affairs", abbreviation="VA")


@pytest.fixture
def issued(admin_user, meeting, priority, agency, other_agency, third_agency, deputy, other_deputy):
    cards = card_services.card_issue(
        actor=admin_user,
        meeting=meeting,
        agencies=[agency, other_agency, third_agency],
        title="Hire through pooled hiring",
        ask="Hire from OPM's pooled certificates.",
        priority=priority,
        metric_name="People hired",
        metric_unit="people",
        metric_baseline=Decimal(0),
        metric_target=Decimal(100),
    )
    return {card.agency.abbreviation: card for card in cards}


def _post(actor, card, value):
    card_services.card_update(actor=actor, card=card, expected_version=None, status="in_progress", metric_value=value)


def test_issuing_one_card_to_many_agencies_makes_one_initiative_that_sums_them(issued, deputy, other_deputy):
    initiative = Initiative.objects.get()
    assert (initiative.title, initiative.rollup, initiative.target_value) == (
        "Hire through pooled hiring",
        Rollup.SUM,
        Decimal(300),
    )
    assert set(initiative.memberships.values_list("card_id", flat=True)) == {c.pk for c in issued.values()}
    _post(deputy, issued["TREAS"], Decimal(30))
    _post(other_deputy, issued["DOL"], Decimal(10))
    rollup = selectors.initiative_rollup(factories.omb_viewer(user__username="viewer"), initiative.pk)
    assert rollup.total == Decimal(40)
    assert {row.agency.abbreviation: row.share for row in rollup.visible_rows} == {
        "TREAS": Decimal("75.0"),
        "DOL": Decimal("25.0"),
        "VA": Decimal("0.0"),
    }


def test_a_deputy_sees_the_total_and_only_their_own_card_unless_omb_shares(issued, deputy, other_deputy, admin_user):
    _post(deputy, issued["TREAS"], Decimal(30))
    _post(other_deputy, issued["DOL"], Decimal(10))
    initiative = Initiative.objects.get()
    mine = selectors.initiative_rollup(deputy, initiative.pk)
    assert mine.total == Decimal(40)
    assert [row.agency.abbreviation for row in mine.visible_rows] == ["TREAS"]
    assert mine.hidden_count == 2
    services.initiative_share(actor=admin_user, initiative=initiative, shared=True, expected_version=None)
    shared = selectors.initiative_rollup(deputy, initiative.pk)
    assert [row.agency.abbreviation for row in shared.visible_rows] == ["DOL", "VA", "TREAS"]  # by agency name
    assert InitiativeChange.objects.filter(kind=InitiativeChange.Kind.SHARING).count() == 1


def test_the_api_returns_the_same_numbers_and_hides_other_agencies(client, issued, deputy, other_deputy):
    _post(deputy, issued["TREAS"], Decimal(30))
    _post(other_deputy, issued["DOL"], Decimal(10))
    client.force_login(deputy)
    body = client.get("/api/v1/initiatives/").json()
    (item,) = body["results"]
    assert (item["total"], item["target_value"], item["agency_count"]) == ("40.00", "300.00", 3)
    assert [row["agency"] for row in item["agencies"]] == ["TREAS"]
    assert item["trend"][-1]["total"] == "40.00"
    detail = client.get(f"/api/v1/initiatives/{item['id']}/").json()
    assert detail["total"] == "40.00" and detail["pace"] in ("on_pace", "behind")
    card_page = client.get(issued["TREAS"].get_absolute_url())
    assert b'data-testid="card-initiative">Hire through pooled hiring</a>' in card_page.content


def test_a_carried_over_card_stays_in_the_initiative_and_counts_once(issued, deputy, admin_user, meeting):
    _post(deputy, issued["TREAS"], Decimal(30))
    later = factories.MeetingFactory()
    successor = card_services.card_carry_over(
        actor=admin_user, card=issued["TREAS"], expected_version=None, reason="Another month.", to_meeting=later
    )
    initiative = Initiative.objects.get()
    assert initiative.memberships.filter(card=successor).exists()
    rollup = selectors.initiative_rollup(admin_user, initiative.pk)
    assert rollup.total == Decimal(30)
    (treasury,) = [row for row in rollup.rows if row.agency.abbreviation == "TREAS"]
    assert len(treasury.cards) == 2


def test_cards_added_and_removed_later_are_recorded(issued, admin_user, agency, meeting, priority):
    initiative = Initiative.objects.get()
    extra = factories.ChallengeCardFactory(agency=agency, meeting=meeting, priority=priority, title="Extra")
    services.initiative_cards_add(actor=admin_user, initiative=initiative, cards=[extra])
    services.initiative_card_remove(actor=admin_user, initiative=initiative, card=issued["VA"])
    assert set(initiative.memberships.values_list("card__title", flat=True)) == {"Extra", "Hire through pooled hiring"}
    assert initiative.memberships.count() == 3
    kinds = list(InitiativeChange.objects.filter(initiative=initiative).values_list("kind", flat=True))
    assert kinds.count(InitiativeChange.Kind.CARD_REMOVED) == 1 and kinds.count(InitiativeChange.Kind.CARD_ADDED) == 4
    other = services.initiative_create(
        actor=admin_user,
        title="Another",
        priority=priority,
        target_name="Things",
        target_value=Decimal(5),
        starts_on=meeting.starts_at.date(),
        target_date=meeting.starts_at.date(),
    )
    with pytest.raises(ValidationError, match="one initiative only"):
        services.initiative_cards_add(actor=admin_user, initiative=other, cards=[extra])


def test_average_and_count_done_rules(admin_user, meeting, priority, agency, other_agency, deputy, other_deputy):
    day = meeting.starts_at.date()
    made = {}
    for rule in (Rollup.AVERAGE, Rollup.COUNT_DONE):
        made[rule] = services.initiative_create(
            actor=admin_user,
            title=f"By {rule}",
            priority=priority,
            target_name="Share in person",
            target_value=Decimal(50),
            starts_on=day,
            target_date=day,
            rollup=rule,
        )
        cards = services.initiative_issue(
            actor=admin_user,
            initiative=made[rule],
            meeting=meeting,
            agencies=[agency, other_agency],
            title=f"Card {rule}",
            ask="Do it.",
            priority=priority,
            metric_name="Share",
            metric_target=Decimal(50),
        )
        for card in cards:
            actor = deputy if card.agency_id == agency.pk else other_deputy
            _post(actor, card, Decimal(40) if card.agency_id == agency.pk else Decimal(20))
        done = next(card for card in cards if card.agency_id == agency.pk)
        card_services.card_update(actor=deputy, card=done, expected_version=None, status="done")
    assert Initiative.objects.count() == 2  # issued for an initiative: joined it, no new one
    assert selectors.initiative_rollup(admin_user, made[Rollup.AVERAGE].pk).total == Decimal(30)
    assert selectors.initiative_rollup(admin_user, made[Rollup.COUNT_DONE].pk).total == Decimal(1)


def test_only_omb_admins_make_initiatives(deputy, priority, meeting):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        services.initiative_create(
            actor=deputy,
            title="Mine",
            priority=priority,
            target_name="Things",
            target_value=Decimal(1),
            starts_on=meeting.starts_at.date(),
            target_date=meeting.starts_at.date(),
        )


def test_the_briefing_packet_has_a_page_per_initiative(issued, deputy, admin_user, meeting):
    from challenge_cards import briefings

    _post(deputy, issued["TREAS"], Decimal(30))
    later = factories.MeetingFactory()
    html = render_to_string("challenge_cards/meeting_prep/_packet_initiatives_pdf.html", {"base_url": ""})
    assert html.count('class="cc-initiative-page"') == 1
    page = html[html.index('class="cc-initiative-page"') :]
    assert "Initiative: Hire through pooled hiring" in page
    assert '<span data-testid="initiative-total">30</span> of 300 people' in page
    output = io.BytesIO()
    briefings.write_packet_pdf(admin_user, later, output)  # the initiatives are the PDF's last part
    assert "Initiative: Hire through pooled hiring" in PdfReader(output).pages[-1].extract_text()


def test_the_initiative_list_costs_the_same_for_more_initiatives(
    client, issued, admin_user, meeting, priority, django_assert_num_queries
):
    client.force_login(admin_user)
    client.get("/api/v1/initiatives/")  # the session and roles, read once
    with django_assert_num_queries(7) as one:
        client.get("/api/v1/initiatives/")
    for name in ("Second", "Third"):
        cards = [factories.ChallengeCardFactory(meeting=meeting, priority=priority, title=name) for _ in range(2)]
        services.initiative_create(
            actor=admin_user,
            title=name,
            priority=priority,
            target_name="Things",
            target_value=Decimal(5),
            starts_on=meeting.starts_at.date(),
            target_date=meeting.starts_at.date(),
            cards=cards,
        )
    with django_assert_num_queries(len(one.captured_queries)):
        body = client.get("/api/v1/initiatives/").json()
    assert body["count"] == 3


def test_the_export_has_the_total_and_only_the_readers_agencies(client, issued, deputy):
    import csv
    import io

    import openpyxl

    _post(deputy, issued["TREAS"], Decimal(30))
    client.force_login(deputy)
    response = client.get("/initiatives/export.csv")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert [(row[0], row[10], Decimal(row[11])) for row in rows[1:]] == [
        ("Hire through pooled hiring", "Government-wide", Decimal(30)),
        ("Hire through pooled hiring", "TREAS", Decimal(30)),
    ]
    workbook = openpyxl.load_workbook(io.BytesIO(client.get("/initiatives/export.xlsx").content))
    assert workbook.active.max_row == 3
