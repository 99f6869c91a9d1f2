"""Input a person or a tool can send that once answered 500: digits that are not ASCII ('²' passes
str.isdigit but not int()), and the last day a date can hold."""

from __future__ import annotations

import pytest

from tests import factories
from tests.api.conftest import client_for


@pytest.fixture
def omb(client, admin_user):
    client.force_login(admin_user)
    return client


@pytest.mark.parametrize("raw", ["²", "٣", "0", "-1", str(2**63)])
def test_a_comment_filter_that_is_no_card_id_is_a_400(admin_user, raw):
    response = client_for(admin_user).get("/api/v1/comments/", {"card": raw})
    assert response.status_code == 400
    assert "card" in response.json()["errors"]


def test_a_record_version_in_other_digits_is_no_version(omb):
    meeting = factories.MeetingFactory()
    assert omb.get(f"/meetings/{meeting.pk}/record/", {"version": "²"}).status_code == 200  # the draft, to OMB
    assert omb.get(f"/meetings/{meeting.pk}/record.pdf", {"version": "²"}).status_code == 403  # no PDF until published


def test_bulk_review_ignores_ids_in_other_digits(omb):
    card = factories.ChallengeCardFactory()
    response = omb.post("/review/bulk/", {"cards": ["²"], f"version-{card.pk}": "²", "decision": "continue"})
    assert response.status_code == 302  # back to the board, saying what was wrong


def test_the_audit_export_takes_the_last_day_a_date_can_hold(omb):
    response = omb.get("/audit/export/", {"first": "2026-01-01", "last": "9999-12-31"})
    assert response.status_code == 200
    b"".join(response.streaming_content)  # the whole body streams without an error


@pytest.mark.parametrize("typed", ["²", "٣", "0", str(2**63), "9" * 40])
@pytest.mark.parametrize("page", ["/cards/", "/review/"])
def test_an_agency_typed_in_other_digits_or_past_any_id_finds_none_and_is_no_error(omb, page, typed):
    card = factories.ChallengeCardFactory()
    response = omb.get(page, {"agency": typed})
    assert response.status_code == 200
    assert card.title not in response.content.decode()
