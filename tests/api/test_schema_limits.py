"""The OpenAPI schema declares every limit the server enforces (issue 16, failure 9), checked directly;
tests/api/test_schemathesis.py checks the same by generating requests from it."""

from __future__ import annotations

import pytest

from core.limits import MAX_ID
from tests.api.conftest import client_for


@pytest.fixture
def schema(db):
    return client_for(None).get("/api/v1/schema/", HTTP_ACCEPT="application/json").json()


def _parameter(schema, path, method, name):
    return next(p for p in schema["paths"][path][method]["parameters"] if p["name"] == name)


def test_every_idempotency_key_is_declared_with_its_rule(schema):
    posts = [item["post"] for item in schema["paths"].values() if "post" in item]
    keys = [next(p for p in post["parameters"] if p["name"] == "Idempotency-Key") for post in posts]
    assert len(keys) >= 13
    for key in keys:
        assert key["schema"] == {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[!-~]{1,255}$"}


@pytest.mark.parametrize(
    ("path", "name"),
    [
        ("/api/v1/cards/", "agency"),
        ("/api/v1/actions/", "card"),
        ("/api/v1/actions/export.csv", "card"),
        ("/api/v1/agencies/", "parent"),
        ("/api/v1/comments/", "card"),
    ],
)
def test_id_filters_are_whole_numbers_from_1(schema, path, name):
    declared = _parameter(schema, path, "get", name)["schema"]
    assert declared["type"] == "integer" and declared["minimum"] == 1 and declared["maximum"] == MAX_ID


def test_updated_since_is_bounded(schema):
    declared = _parameter(schema, "/api/v1/cards/", "get", "updated_since")["schema"]
    assert declared["format"] == "date-time" and declared["pattern"] == "^(19[0-9]{2}|2[01][0-9]{2}|2200)-"


def test_a_patch_of_an_action_must_change_something(schema):
    body = schema["paths"]["/api/v1/actions/{id}/"]["patch"]["requestBody"]["content"]["application/json"]["schema"]
    name = body["$ref"].rsplit("/", 1)[-1]
    assert schema["components"]["schemas"][name]["minProperties"] == 1


@pytest.mark.parametrize("card", ["0", "-4", "99999999999999999999"])
def test_the_comment_filter_refuses_what_the_schema_refuses(world, card):
    response = client_for(world["users"]["deputy"]).get("/api/v1/comments/", {"card": card})
    assert response.status_code == 400


def test_text_that_may_not_be_blank_declares_a_visible_character(schema):
    """DRF trims white space (str.strip: \\x1d too) before refusing a blank; the schema says so."""
    body = schema["paths"]["/api/v1/actions/"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    declared = schema["components"]["schemas"][body["$ref"].rsplit("/", 1)[-1]]["properties"]
    assert declared["description"]["pattern"] == "^[^\\u0000]*[^\\s\\u0000][^\\u0000]*$"
    assert declared["owner_name"]["pattern"] == "^[^\\u0000]*$"  # may be blank


def test_white_space_alone_is_refused_as_blank(world):
    body = {"card": world["own_card"].pk, "description": "\x1d \t"}
    response = client_for(world["users"]["deputy"]).post("/api/v1/actions/", body, format="json")
    assert response.status_code == 400 and list(response.json()["errors"]) == ["description"]
