"""The scorecard: figures against the data, words beside colours, movement, filters, exports and query cost."""

from __future__ import annotations

import csv
import io

import openpyxl
import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from challenge_cards import scorecard
from challenge_cards.models import Meeting, Rating
from tests import factories

from .briefing_world import NOW, at

pytestmark = pytest.mark.django_db

G, Y, R = Rating.GREEN, Rating.YELLOW, Rating.RED


@pytest.fixture
def grid(agency, other_agency, priority):
    """TREAS improves on priority 1 and is new on priority 2; DOL worsens on priority 1."""
    second = factories.PmaPriorityFactory(number=2, short_title="CX", title="Customer experience")
    october = Meeting.objects.create(starts_at=at(10, 13), status="held")
    november = Meeting.objects.create(starts_at=at(11, 10), status="held")

    def card(meeting, agency_, priority_, agency_rating, omb_rating):
        return factories.ChallengeCardFactory(
            meeting=meeting, agency=agency_, priority=priority_, agency_rating=agency_rating, omb_rating=omb_rating
        )

    card(october, agency, priority, R, R)
    card(november, agency, priority, Y, G)
    card(november, agency, priority, G, Y)
    card(november, agency, second, G, R)
    card(october, other_agency, priority, G, G)
    card(november, other_agency, priority, R, "")
    return {"october": october, "november": november, "second": second}


def _cells(result):
    return {
        (row.agency.abbreviation, priority.number): cell
        for row in result.rows
        for priority, cell in zip(result.priorities, row.cells, strict=True)
    }


def test_each_cell_is_the_worst_rating_of_its_cards_with_the_movement_since_the_previous_meeting(grid, admin_user):
    result = scorecard.build(admin_user, grid["november"])
    assert result.previous == grid["october"]
    cells = _cells(result)
    treas = cells[("TREAS", 1)]
    assert (treas.card_count, treas.agency_rating, treas.omb_rating) == (2, Y, Y)
    assert (treas.agency_movement, treas.omb_movement) == (scorecard.IMPROVED, scorecard.IMPROVED)  # red → yellow
    new = cells[("TREAS", 2)]
    assert (new.card_count, new.agency_rating, new.omb_rating, new.omb_movement) == (1, G, R, scorecard.NEW)
    labor = cells[("DOL", 1)]
    assert (labor.agency_rating, labor.agency_movement) == (R, scorecard.WORSE)
    assert (labor.omb_rating, labor.omb_movement) == ("", scorecard.UNRATED)
    assert cells[("DOL", 2)].card_count == 0 and cells[("DOL", 2)].agency_movement == scorecard.EMPTY


def test_filtering_by_meeting(grid, admin_user, client):
    client.force_login(admin_user)
    response = client.get(reverse("challenge_cards:scorecard"), {"meeting": grid["october"].pk})
    result = response.context["scorecard"]
    assert result.meeting == grid["october"] and result.previous is None
    cells = _cells(result)
    assert (cells[("TREAS", 1)].agency_rating, cells[("TREAS", 1)].omb_movement) == (R, scorecard.NEW)
    assert cells[("TREAS", 2)].card_count == 0
    # Without a filter: the latest meeting held so far that has cards.
    with time_machine.travel(NOW, tick=False):
        assert client.get(reverse("challenge_cards:scorecard")).context["scorecard"].meeting == grid["november"]


def test_the_page_says_every_rating_in_words(grid, admin_user, client):
    client.force_login(admin_user)
    html = client.get(reverse("challenge_cards:scorecard"), {"meeting": grid["november"].pk}).content.decode()
    table = html[html.index('data-testid="scorecard"') :]
    assert "Agency: Yellow" in table and "OMB: Yellow" in table and "Agency: Red" in table
    assert "OMB: Not rated" in table and "Improved" in table and "Worse" in table and "New this meeting" in table


def test_an_agency_sees_only_its_own_row(grid, deputy, client):
    client.force_login(deputy)
    result = client.get(reverse("challenge_cards:scorecard"), {"meeting": grid["november"].pk}).context["scorecard"]
    assert [row.agency.abbreviation for row in result.rows] == ["TREAS"]


def test_the_scorecard_exports_as_csv_and_xlsx(grid, admin_user, client):
    client.force_login(admin_user)
    query = {"meeting": grid["november"].pk}
    response = client.get(reverse("challenge_cards:scorecard_csv"), query)
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    treas = next(r for r in rows if r["Abbreviation"] == "TREAS" and r["PMA priority"].startswith("Priority 1"))
    assert (
        treas["Cards"] == "2" and treas["Agency rating"] == "Yellow" and treas["Agency rating movement"] == "Improved"
    )
    assert treas["Agency rating at previous meeting"] == "Red"
    assert len(rows) == 4  # 2 agencies × 2 priorities

    response = client.get(reverse("challenge_cards:scorecard_xlsx"), query)
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    values = list(sheet.values)
    assert values[0][:4] == ("Agency", "Abbreviation", "PMA priority", "Cards")
    assert [["" if v is None else str(v) for v in row] for row in values[1:]] == [list(r.values()) for r in rows]


def test_the_scorecard_costs_the_same_queries_at_small_and_large_sizes(
    grid, admin_user, client, priority, django_assert_num_queries
):
    client.force_login(admin_user)
    url = reverse("challenge_cards:scorecard")
    query = {"meeting": grid["november"].pk}
    client.get(url, query)
    with CaptureQueriesContext(connection) as small:
        response = client.get(url, query)
    assert len(response.context["scorecard"].rows) == 2
    for index in range(8):
        agency = factories.AgencyFactory(abbreviation=f"N{index}", name=f"Noise {index}")
        for meeting in (grid["october"], grid["november"]):
            for _ in range(3):
                factories.ChallengeCardFactory(
                    meeting=meeting, agency=agency, priority=priority, agency_rating=G, omb_rating=Y
                )
    with django_assert_num_queries(len(small)):
        response = client.get(url, query)
    assert len(response.context["scorecard"].rows) == 10
    scorecard.build(admin_user, grid["november"])  # the user's roles are then cached on it
    with django_assert_num_queries(4):  # priorities, previous meeting, cards, agencies
        scorecard.build(admin_user, grid["november"])


# The scorecard's rows as its template wrote them before challenge_cards.rows.scorecard_rows_html.
ROWS_TEMPLATE = """{% load cc_tags %}{% for row in rows %}
    <tr>
      <th scope="row">{{ row.agency.name }} ({{ row.agency.abbreviation }})</th>
      {% for cell in row.cells %}
      <td>{% if cell.card_count %}
        <div>{% rating_tag cell.agency_rating "Agency:" %} <span class="font-body-3xs">{{ cell.agency_movement_label }}</span></div>
        <div class="margin-top-05">{% rating_tag cell.omb_rating "OMB:" %} <span class="font-body-3xs">{{ cell.omb_movement_label }}</span></div>
        <div class="font-body-3xs" data-testid="cell-count">{{ cell.card_count }} card{{ cell.card_count|pluralize }}, {{ cell.open_count }} open</div>
      {% else %}<span class="font-body-3xs">No cards</span>{% endif %}</td>
      {% endfor %}
    </tr>
  {% endfor %}"""  # noqa: E501


def test_the_rows_written_in_python_are_what_the_template_wrote():
    from django.template import Context, Template

    from agencies.models import Agency
    from challenge_cards.rows import scorecard_rows_html

    cells = [
        scorecard.Cell(),
        scorecard.Cell(card_count=1, open_count=1, agency_rating=G, omb_rating="", previous_agency_rating=R),
        scorecard.Cell(card_count=3, open_count=0, agency_rating=Y, omb_rating=R, previous_agency_rating=None),
        scorecard.Cell(card_count=2, open_count=2, agency_rating=R, omb_rating=G, previous_omb_rating=R),
    ]
    rows = [
        scorecard.Row(Agency(name="Treasury <&> \"Fiscal\" 'Service'", abbreviation="T&S"), cells),
        scorecard.Row(Agency(name="Labor", abbreviation="DOL"), cells[::-1]),
        scorecard.Row(Agency(name="No priorities", abbreviation="NP"), []),
    ]
    written = Template(ROWS_TEMPLATE).render(Context({"rows": rows}))
    assert "&lt;&amp;&gt;" in written and "3 cards, 0 open" in written and "1 card, 1 open" in written
    assert scorecard_rows_html(rows) == written
    assert scorecard_rows_html([]) == ""
