"""Exports of cards and follow-up actions (pages and API): the lists' filters, visible_to scoping, read back."""

from __future__ import annotations

import csv
import io

import openpyxl
import pytest
from django.urls import reverse

from challenge_cards.models import CardStatus
from tests import factories
from tests.api.conftest import client_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def cards(agency, other_agency, deputy, meeting, priority):
    mine = factories.ChallengeCardFactory(
        agency=agency, meeting=meeting, priority=priority, title="Hire data scientists", status=CardStatus.AT_RISK
    )
    done = factories.ChallengeCardFactory(
        agency=agency, meeting=meeting, priority=priority, title='=HYPERLINK("http://x")', status=CardStatus.DONE
    )
    theirs = factories.ChallengeCardFactory(agency=other_agency, meeting=meeting, priority=priority, title="Labor card")
    factories.FollowUpActionFactory(card=mine, description="Post the job announcement")
    factories.FollowUpActionFactory(card=theirs, description="Labor's action")
    return {"mine": mine, "done": done, "theirs": theirs}


def read_csv(content: bytes) -> list[dict]:
    assert content.startswith("\ufeff".encode())
    return list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"))))


def read_xlsx(content: bytes) -> list[dict]:
    rows = list(openpyxl.load_workbook(io.BytesIO(content)).active.values)
    return [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]


def test_the_card_export_is_scoped_to_what_the_user_may_see(cards, deputy, client):
    client.force_login(deputy)
    response = client.get(reverse("challenge_cards:card_export_csv"))
    assert response["Content-Disposition"].startswith('attachment; filename="challenge-cards-')
    rows = read_csv(response.content)
    assert {row["Card ID"] for row in rows} == {str(cards["mine"].pk), str(cards["done"].pk)}


def test_the_card_export_uses_the_card_lists_filters(cards, admin_user, client):
    client.force_login(admin_user)
    response = client.get(reverse("challenge_cards:card_export_xlsx"), {"status": CardStatus.AT_RISK})
    rows = read_xlsx(response.content)
    assert [(row["Title"], row["Status"], row["Agency"]) for row in rows] == [
        ("Hire data scientists", "At risk", "TREAS")
    ]
    assert rows[0]["Link"].endswith(cards["mine"].get_absolute_url())
    everything = read_xlsx(client.get(reverse("challenge_cards:card_export_xlsx")).content)
    assert len(everything) == 3


def test_a_title_that_looks_like_a_formula_is_exported_as_text(cards, deputy, client):
    client.force_login(deputy)
    [row] = [
        r for r in read_csv(client.get(reverse("challenge_cards:card_export_csv")).content) if "HYPERLINK" in r["Title"]
    ]
    assert row["Title"] == '\'=HYPERLINK("http://x")'
    sheet = openpyxl.load_workbook(io.BytesIO(client.get(reverse("challenge_cards:card_export_xlsx")).content)).active
    cells = [cell for row in sheet.iter_rows() for cell in row if cell.value and "HYPERLINK" in str(cell.value)]
    assert [cell.data_type for cell in cells] == ["s"]


def test_the_action_export_is_scoped_and_filtered(cards, deputy, admin_user, client):
    client.force_login(deputy)
    rows = read_csv(client.get(reverse("challenge_cards:action_export_csv")).content)
    assert [row["Action"] for row in rows] == ["Post the job announcement"]
    client.force_login(admin_user)
    rows = read_xlsx(
        client.get(reverse("challenge_cards:action_export_xlsx"), {"agency": cards["theirs"].agency_id}).content
    )
    assert [(row["Action"], row["Agency"], row["Status"]) for row in rows] == [("Labor's action", "DOL", "Open")]


def test_the_api_exports_cards_with_the_api_lists_filters(cards, deputy, admin_user):
    api = client_for(deputy)
    response = api.get("/api/v1/cards/export.csv")
    assert response.status_code == 200 and response["Content-Type"] == "text/csv; charset=utf-8"
    assert {row["Card ID"] for row in read_csv(response.content)} == {str(cards["mine"].pk), str(cards["done"].pk)}
    response = client_for(admin_user).get("/api/v1/cards/export.xlsx", {"status": "done"})
    assert response.status_code == 200
    assert [row["Card ID"] for row in read_xlsx(response.content)] == [cards["done"].pk]
    # A bad filter is a problem response, as on the list.
    response = api.get("/api/v1/cards/export.csv", {"overdue": "maybe"})
    assert response.status_code == 400 and response["Content-Type"] == "application/problem+json"
    assert client_for(None).get("/api/v1/cards/export.csv").status_code == 401


def test_the_api_exports_actions(cards, deputy):
    response = client_for(deputy).get(
        "/api/v1/actions/export.xlsx", HTTP_ACCEPT="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert response.status_code == 200
    assert [row["Action"] for row in read_xlsx(response.content)] == ["Post the job announcement"]


def test_the_exports_are_in_the_openapi_schema(admin_user):
    response = client_for(admin_user).get("/api/v1/schema/", {"format": "json"})
    schema = response.json()
    for path in ("/api/v1/cards/export.csv", "/api/v1/cards/export.xlsx", "/api/v1/actions/export.csv"):
        assert path in schema["paths"]
    operation = schema["paths"]["/api/v1/cards/export.csv"]["get"]
    assert "text/csv" in operation["responses"]["200"]["content"]
    assert {"status", "agency", "meeting", "overdue", "search"} <= {p["name"] for p in operation["parameters"]}
