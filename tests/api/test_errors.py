"""One error shape (RFC 9457 problem details) for every failure; bad input is a 4xx, never a 500."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from challenge_cards.models import MEETING_MAX_MINUTES, FollowUpAction
from core.api.views import etag_for
from tests.api.conftest import client_for

PROBLEM_KEYS = {"type", "title", "status", "detail", "instance"}


def assert_problem(response, status: int) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert set(body) >= PROBLEM_KEYS
    assert body["status"] == status
    assert body["instance"] == response.wsgi_request.path
    return body


@pytest.fixture
def deputy_client(world):
    return client_for(world["users"]["deputy"])


@pytest.mark.parametrize(
    "query",
    [
        {"page_size": "0"},
        {"page_size": "-5"},
        {"page_size": "201"},
        {"page_size": "100000000000000000000"},
        {"page_size": "ten"},
        {"page": "0"},
        {"page": "abc"},
        {"due_before": "2026-02-30"},
        {"updated_since": "yesterday"},
        {"updated_since": "0001-01-01T00:00:00+23:59"},
        {"status": "finished"},
        {"agency": "1.5"},
        {"agency": "99999999999999999999999"},
        {"overdue": "maybe"},
        {"search": "pooled\x00hiring"},
        {"status": "\x00"},
    ],
)
def test_bad_query_parameters_are_400_problems(deputy_client, query):
    body = assert_problem(deputy_client.get("/api/v1/cards/", query), 400)
    assert set(body["errors"]) == set(query)


def test_page_size_up_to_200_is_accepted(deputy_client):
    response = deputy_client.get("/api/v1/cards/", {"page_size": "200"})
    assert response.status_code == 200


def test_a_page_past_the_end_is_404(deputy_client):
    assert_problem(deputy_client.get("/api/v1/cards/", {"page": "9"}), 404)


@pytest.mark.parametrize("bad_id", ["abc", "0", "-1", "99999999999999999999999", "1.5", "%00"])
def test_bad_ids_are_404_problems(deputy_client, bad_id):
    assert_problem(deputy_client.get(f"/api/v1/cards/{bad_id}/"), 404)


def test_unknown_api_paths_are_404_problems(deputy_client):
    assert_problem(deputy_client.get("/api/v1/no-such-thing/"), 404)
    assert_problem(deputy_client.post("/api/v1/no-such-thing/", {}, format="json"), 404)


@pytest.mark.parametrize("host", ["[", "evil.example.com", "bad host"])
def test_a_host_this_server_does_not_answer_to_is_a_400_problem_on_the_api(deputy_client, client, host):
    """Refused before any view (Django's DisallowedHost): a problem under /api/, Django's page elsewhere."""
    body = assert_problem(deputy_client.post("/api/v1/actions/", {}, format="json", HTTP_HOST=host), 400)
    assert body["type"].endswith(":bad-request")
    assert_problem(deputy_client.get("/api/v1/cards/", HTTP_HOST=host), 400)
    page = client.get("/accessibility/", HTTP_HOST=host)
    assert page.status_code == 400 and page["Content-Type"].startswith("text/html")


def test_validation_errors_name_each_field(world, deputy_client):
    body = assert_problem(deputy_client.post("/api/v1/actions/", {"card": world["own_card"].pk}, format="json"), 400)
    assert body["errors"] == {"description": ["This field is required."]}
    assert body["type"].endswith("validation-error")


def test_unknown_fields_are_refused(world, deputy_client):
    body = {"card": world["own_card"].pk, "description": "Plan", "priority": "high"}
    problem = assert_problem(deputy_client.post("/api/v1/actions/", body, format="json"), 400)
    assert problem["errors"] == {"priority": ["This field is not accepted here."]}
    assert not FollowUpAction.objects.filter(description="Plan").exists()


def test_nul_characters_in_a_body_are_400(world, deputy_client):
    body = {"card": world["own_card"].pk, "description": "Plan\x00"}
    problem = assert_problem(deputy_client.post("/api/v1/actions/", body, format="json"), 400)
    assert "description" in problem["errors"]


def test_malformed_json_and_other_media_types(world, deputy_client):
    assert_problem(deputy_client.post("/api/v1/actions/", "{not json", content_type="application/json"), 400)
    assert_problem(deputy_client.post("/api/v1/actions/", "[1, 2]", content_type="application/json"), 400)
    assert_problem(deputy_client.post("/api/v1/actions/", {"card": 1}, format="multipart"), 415)


def test_service_validation_errors_are_400_problems(world, deputy_client):
    card = world["own_card"]
    response = deputy_client.post(
        f"/api/v1/cards/{card.pk}/updates/", {"status": "blocked"}, format="json", HTTP_IF_MATCH=etag_for("card", card)
    )
    body = assert_problem(response, 400)
    assert body["errors"] == {"note": ["Say why the card is blocked."]}


def test_omb_only_fields_are_refused_for_agency_users_with_403(world, deputy_client):
    card = world["own_card"]
    for field, value in (("omb_rating", "red"), ("disposition", "accepted")):
        response = deputy_client.post(
            f"/api/v1/cards/{card.pk}/updates/", {field: value}, format="json", HTTP_IF_MATCH=etag_for("card", card)
        )
        assert_problem(response, 403)
    card.refresh_from_db()
    assert card.omb_rating == "" and card.disposition == "open"


def test_an_omb_admin_sets_omb_fields_only_through_review(world):
    admin = client_for(world["users"]["omb_admin"])
    card = world["own_card"]
    path = f"/api/v1/cards/{card.pk}/"
    misplaced = admin.post(
        f"{path}updates/", {"omb_rating": "red"}, format="json", HTTP_IF_MATCH=etag_for("card", card)
    )
    assert_problem(misplaced, 400)
    review = admin.post(f"{path}review/", {"omb_rating": "red"}, format="json", HTTP_IF_MATCH=etag_for("card", card))
    assert review.status_code == 200
    assert review.json()["card"]["omb_rating"] == "red"


def test_unsupported_methods_are_405_with_allow(deputy_client, world):
    response = deputy_client.delete(f"/api/v1/cards/{world['own_card'].pk}/")
    assert_problem(response, 405)
    assert response["Allow"] == "GET, HEAD"
    assert deputy_client.options("/api/v1/cards/").status_code == 405


def test_no_credentials_is_401_with_a_challenge(db):
    response = APIClient().get("/api/v1/cards/")
    assert_problem(response, 401)
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'


def test_throttling_is_429_with_retry_after(world, settings):
    settings.API_THROTTLE_RATE = "3/minute"  # a new token's budget starts empty: its cache key is its own
    client = client_for(world["users"]["deputy"])
    statuses = [client.get("/api/v1/me/").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    response = client.get("/api/v1/me/")
    assert_problem(response, 429)
    assert int(response["Retry-After"]) > 0
    # Another token has its own budget.
    assert client_for(world["users"]["delegate"]).get("/api/v1/me/").status_code == 200


def test_browser_sessions_work_and_need_csrf_for_writes(world):
    browser = APIClient(enforce_csrf_checks=True)
    browser.force_login(world["users"]["deputy"])
    assert browser.get("/api/v1/cards/").status_code == 200
    body = {"card": world["own_card"].pk, "description": "From the browser"}
    assert_problem(browser.post("/api/v1/actions/", body, format="json"), 403)
    browser.get("/profile/tokens/")  # any page that renders a form sets the CSRF cookie
    token = browser.cookies["csrftoken"].value
    response = browser.post("/api/v1/actions/", body, format="json", HTTP_X_CSRFTOKEN=token)
    assert response.status_code == 201, response.content


def test_the_schema_and_swagger_ui_are_served_without_a_cdn(client, db):
    schema = client.get("/api/v1/schema/", {"format": "json"})
    assert schema.status_code == 200
    operations = schema.json()["paths"]["/api/v1/cards/{id}/updates/"]["post"]
    assert {"201", "400", "401", "403", "404", "412", "422", "428", "429"} <= set(operations["responses"])
    assert operations["responses"]["412"]["content"]["application/problem+json"]["schema"]["$ref"].endswith("Problem")
    docs = client.get("/api/v1/docs/")
    assert docs.status_code == 200
    html = docs.content.decode()
    assert "swagger-ui" in html
    assert "cdn" not in html.lower() and "unpkg" not in html.lower()


MEETING_YEARS_ERROR = {"starts_at": ["Give a date between 2000 and 2100."]}


@pytest.mark.parametrize(
    ("starts_at", "errors"),
    [
        ("9999-12-31T23:00:00-05:00", {"starts_at": ["Datetime value out of range."]}),  # DRF refuses it first
        ("2101-01-05T10:00:00-05:00", MEETING_YEARS_ERROR),
        ("1999-01-05T10:00:00Z", MEETING_YEARS_ERROR),
    ],
)
def test_a_meeting_outside_2000_to_2100_is_a_400_on_starts_at(world, starts_at, errors):
    client = client_for(world["users"]["omb_admin"])
    body = assert_problem(client.post("/api/v1/meetings/", {"starts_at": starts_at}, format="json"), 400)
    assert body["errors"] == errors
    meeting = world["meeting"]
    response = client.patch(
        f"/api/v1/meetings/{meeting.pk}/",
        {"starts_at": starts_at},
        format="json",
        HTTP_IF_MATCH=etag_for("meeting", meeting),
    )
    assert assert_problem(response, 400)["errors"] == errors
    assert client.get("/api/v1/meetings/").status_code == 200


def test_a_meeting_longer_than_the_pages_allow_is_a_400_on_duration_minutes(world):
    client = client_for(world["users"]["omb_admin"])
    body = {"starts_at": "2031-03-11T10:00:00-04:00", "duration_minutes": MEETING_MAX_MINUTES + 1}
    problem = assert_problem(client.post("/api/v1/meetings/", body, format="json"), 400)
    assert list(problem["errors"]) == ["duration_minutes"]
    body["duration_minutes"] = MEETING_MAX_MINUTES
    assert client.post("/api/v1/meetings/", body, format="json").status_code == 201
