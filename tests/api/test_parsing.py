"""Whatever body arrives, the API answers a problem response, never a 500 (issue 16, failure 1).

The parser refuses bodies nested deeper than API_JSON_MAX_DEPTH (400) and larger than
DATA_UPLOAD_MAX_MEMORY_SIZE (413); property tests throw arbitrary bytes at the parser and arbitrary
JSON at every write endpoint the schema lists.
"""

from __future__ import annotations

import io
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework import exceptions

from core.api.parsers import StrictJSONParser
from core.api.views import etag_for
from tests.api.conftest import client_for
from tests.api.test_errors import assert_problem

# Derandomized, so CI is not flaky; the examples still cover deep nesting, odd text and odd numbers.
PROPERTY = settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)

JSON_LEAVES = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(alphabet=st.characters(codec=None, exclude_categories=()), max_size=40)
)
JSON_VALUES = st.recursive(
    JSON_LEAVES,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=30,
)


def _nested(depth: int, inner: str = "1") -> str:
    return "[" * depth + inner + "]" * depth


@pytest.fixture
def card_poster(world):
    card = world["own_card"]
    client = client_for(world["users"]["deputy"])

    def post(raw: str | bytes, content_type: str = "application/json"):
        return client.post(
            f"/api/v1/cards/{card.pk}/updates/",
            raw,
            content_type=content_type,
            HTTP_IF_MATCH=etag_for("card", card),
        )

    return post


def test_fifty_thousand_nested_arrays_are_a_400_problem_not_a_500(card_poster):
    body = assert_problem(card_poster(_nested(50_000)), 400)
    assert "nested more than 64 levels" in body["detail"]


def test_deep_nesting_inside_a_field_is_a_400_problem(card_poster):
    body = assert_problem(card_poster('{"note": ' + _nested(5_000, '"x"') + "}"), 400)
    assert "nested more than 64 levels" in body["detail"]


def test_nesting_up_to_the_limit_is_read_and_judged_by_the_fields(card_poster, settings):
    settings.API_JSON_MAX_DEPTH = 5
    # The object and four arrays: five levels, parsed, then refused by the field (not a string).
    at_limit = assert_problem(card_poster('{"note": [[[["x"]]]]}'), 400)
    assert at_limit["errors"] == {"note": ["Not a valid string."]}
    over = assert_problem(card_poster('{"note": [[[[["x"]]]]]}'), 400)  # six levels
    assert "nested more than 5 levels" in over["detail"]


def test_a_body_over_the_size_limit_is_a_413_problem(card_poster, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1_000
    body = assert_problem(card_poster(json.dumps({"note": "x" * 2_000})), 413)
    assert body["detail"] == "The request body is larger than 1000 bytes."
    assert card_poster(json.dumps({"note": "x" * 500})).status_code == 201


def test_a_charset_that_is_not_text_is_a_400_problem(card_poster):
    # bz2_codec would inflate a small body into a large one if it were decoded.
    assert_problem(card_poster(b"BZh9", content_type="application/json; charset=bz2_codec"), 400)
    assert_problem(card_poster(b'{"note": "\xff"}'), 400)


@given(raw=st.binary(max_size=300) | JSON_VALUES.map(lambda value: json.dumps(value).encode()))
@PROPERTY
def test_the_parser_answers_any_bytes_with_a_value_or_a_client_error(raw):
    try:
        StrictJSONParser().parse(io.BytesIO(raw), "application/json", {"encoding": "utf-8"})
    except exceptions.APIException as refused:
        assert 400 <= refused.status_code < 500


def _write_operations(client) -> list[tuple[str, str]]:
    """Every POST and PATCH the schema lists, as (method, path template)."""
    schema = client.get("/api/v1/schema/", HTTP_ACCEPT="application/json").json()
    return sorted(
        (method, path) for path, item in schema["paths"].items() for method in item if method in ("post", "patch")
    )


def test_the_property_test_below_covers_every_write_endpoint(world):
    operations = _write_operations(client_for(world["users"]["omb_admin"]))
    assert len(operations) >= 13 and ("patch", "/api/v1/actions/{id}/") in operations


@pytest.fixture
def admin_writes(world):
    """One token for every example (a token per example would meet the cap on live tokens), and the operations."""
    client = client_for(world["users"]["omb_admin"])
    return client, _write_operations(client)


@given(data=st.data())
@PROPERTY
def test_no_body_makes_any_write_endpoint_answer_5xx(world, admin_writes, data):
    client, operations = admin_writes
    ids = {
        "cards": world["own_card"].pk,
        "actions": world["own_action"].pk,
        "meetings": world["meeting"].pk,
    }
    for method, template in operations:
        resource = template.split("/")[3]
        path = template.replace("{id}", str(ids.get(resource, 1)))
        body = data.draw(
            st.dictionaries(st.sampled_from(FIELD_NAMES), JSON_VALUES, max_size=5).map(json.dumps)
            | JSON_VALUES.map(json.dumps)
            | DEEP_BODIES
            | st.binary(max_size=60)
        )
        response = getattr(client, method)(
            path,
            body,
            content_type="application/json",
            HTTP_IF_MATCH=data.draw(st.sampled_from(["", '"x"', "*"])),
        )
        assert response.status_code < 500, (method, path, body, response.content[:300])
        assert response["Content-Type"].startswith(("application/json", "application/problem+json"))


# Nesting around the limit and far past it (Python's own parser gives up near 1,000 levels), bare and in a field.
DEEP_BODIES = st.sampled_from([63, 64, 65, 1_000, 50_000]).flatmap(
    lambda depth: st.sampled_from([_nested(depth), '{"note": ' + _nested(depth, '"x"') + "}"])
)

# Field names the write endpoints take, so generated bodies reach the fields as well as the parser.
FIELD_NAMES = [
    "agencies",
    "agency_rating",
    "agenda_notes",
    "ask",
    "card",
    "description",
    "disposition",
    "due_date",
    "duration_minutes",
    "location",
    "meeting",
    "metric_value",
    "note",
    "omb_rating",
    "owned_by",
    "owner",
    "owner_name",
    "priority",
    "reason",
    "starts_at",
    "status",
    "title",
    "to_meeting",
    "video_url",
]
