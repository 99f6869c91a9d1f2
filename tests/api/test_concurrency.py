"""ETag / If-Match (nothing is silently overwritten), Idempotency-Key retries, and updated_since sync."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.utils import timezone

from challenge_cards import services
from challenge_cards.models import CardUpdate, ChallengeCard, FollowUpAction
from core.api.errors import problem_exception_handler
from core.api.views import etag_for
from core.models import IdempotencyRecord
from tests import factories
from tests.api.conftest import client_for


@pytest.fixture
def deputy_client(world):
    return client_for(world["users"]["deputy"])


def test_object_responses_carry_an_etag_from_the_version(world, deputy_client):
    card = world["own_card"]
    response = deputy_client.get(f"/api/v1/cards/{card.pk}/")
    assert response.status_code == 200
    assert response["ETag"] == f'W/"card-{card.pk}-v{card.version}"'
    assert response.json()["etag"] == response["ETag"]


def test_a_change_without_if_match_is_428_and_writes_nothing(world, deputy_client):
    action = world["own_action"]
    response = deputy_client.post(f"/api/v1/actions/{action.pk}/complete/", {}, format="json")
    assert response.status_code == 428
    assert response["Content-Type"] == "application/problem+json"
    action.refresh_from_db()
    assert action.status == "open"
    assert action.version == 1


def test_if_match_star_is_not_enough(world, deputy_client):
    action = world["own_action"]
    response = deputy_client.post(f"/api/v1/actions/{action.pk}/complete/", {}, format="json", HTTP_IF_MATCH="*")
    assert response.status_code == 428


def test_a_stale_if_match_is_412_and_the_other_change_survives(world, deputy_client):
    card = world["own_card"]
    stale = deputy_client.get(f"/api/v1/cards/{card.pk}/")["ETag"]
    # The delegate posts first.
    services.card_update(
        actor=world["users"]["delegate"], card=card, expected_version=card.version, status="at_risk", note="Late."
    )
    response = deputy_client.post(
        f"/api/v1/cards/{card.pk}/updates/", {"status": "done"}, format="json", HTTP_IF_MATCH=stale
    )
    assert response.status_code == 412
    assert response.json()["title"] == "Changed since you read it"
    card.refresh_from_db()
    assert card.status == "at_risk"
    assert CardUpdate.objects.filter(card=card, kind="update").count() == 1


def test_a_current_if_match_succeeds_and_returns_the_new_etag(world, deputy_client):
    card = world["own_card"]
    etag = deputy_client.get(f"/api/v1/cards/{card.pk}/")["ETag"]
    response = deputy_client.post(
        f"/api/v1/cards/{card.pk}/updates/",
        {"status": "in_progress", "metric_value": "120", "note": "Hired 120 of 400."},
        format="json",
        HTTP_IF_MATCH=etag,
    )
    assert response.status_code == 201, response.content
    card.refresh_from_db()
    assert card.version == 2
    assert card.metric_value == 120
    assert response["ETag"] == etag_for("card", card) != etag
    assert response.json()["card"]["etag"] == response["ETag"]
    assert response.json()["update"]["changes"]["status"] == ["not_started", "in_progress"]


def test_patch_action_needs_if_match_and_then_changes_the_due_date(world, deputy_client):
    action = world["own_action"]
    path = f"/api/v1/actions/{action.pk}/"
    assert deputy_client.patch(path, {"due_date": "2030-01-31"}, format="json").status_code == 428
    assert (
        deputy_client.patch(path, {"due_date": "2030-01-31"}, format="json", HTTP_IF_MATCH='W/"action-1-v9"')
    ).status_code == 412
    response = deputy_client.patch(
        path, {"due_date": "2030-01-31"}, format="json", HTTP_IF_MATCH=etag_for("action", action)
    )
    assert response.status_code == 200, response.content
    action.refresh_from_db()
    assert action.due_date == datetime.date(2030, 1, 31)
    assert response["ETag"] == f'W/"action-{action.pk}-v2"'


def test_patch_action_with_the_due_date_it_already_has_changes_nothing_and_answers_200(world, deputy_client):
    """A sync tool sends the state it has: an unchanged due date is no change, not an error (the page refuses it)."""
    action = world["own_action"]
    etag = etag_for("action", action)
    response = deputy_client.patch(
        f"/api/v1/actions/{action.pk}/",
        {"due_date": action.due_date.isoformat() if action.due_date else None},
        format="json",
        HTTP_IF_MATCH=etag,
    )
    assert response.status_code == 200, response.content
    assert response["ETag"] == etag
    assert CardUpdate.objects.filter(card=action.card, kind="action").count() == 0


def test_meeting_changes_compare_if_match_under_a_lock(world):
    admin = client_for(world["users"]["omb_admin"])
    meeting = world["meeting"]
    etag = admin.get(f"/api/v1/meetings/{meeting.pk}/")["ETag"]
    first = admin.patch(f"/api/v1/meetings/{meeting.pk}/", {"location": "Room 350"}, format="json", HTTP_IF_MATCH=etag)
    assert first.status_code == 200
    second = admin.patch(f"/api/v1/meetings/{meeting.pk}/", {"location": "Room 180"}, format="json", HTTP_IF_MATCH=etag)
    assert second.status_code == 412
    meeting.refresh_from_db()
    assert meeting.location == "Room 350"


def test_stale_write_from_a_service_maps_to_412():
    response = problem_exception_handler(services.StaleWrite(4), {"request": None})
    assert response.status_code == 412
    assert response.data["status"] == 412
    assert response.content_type == "application/problem+json"


# --- Idempotency-Key ---------------------------------------------------------------------------


def test_a_retried_create_returns_the_first_result_and_no_duplicate(world, deputy_client):
    body = {"card": world["own_card"].pk, "description": "Publish the hiring plan"}
    first = deputy_client.post("/api/v1/actions/", body, format="json", HTTP_IDEMPOTENCY_KEY="sync-2026-11-25-1")
    retry = deputy_client.post("/api/v1/actions/", body, format="json", HTTP_IDEMPOTENCY_KEY="sync-2026-11-25-1")
    assert first.status_code == retry.status_code == 201
    assert retry.json() == first.json()
    assert retry["ETag"] == first["ETag"]
    assert retry["Idempotent-Replayed"] == "true"
    assert FollowUpAction.objects.filter(description="Publish the hiring plan").count() == 1


def test_a_retried_card_issue_does_not_issue_twice(world):
    admin = client_for(world["users"]["omb_admin"])
    body = {
        "meeting": world["meeting"].pk,
        "agencies": [world["agency"].pk, world["other_agency"].pk],
        "title": "Set a 50% in-person presence for headquarters roles",
        "ask": "Report the headquarters presence rate.",
        "priority": world["priority"].pk,
    }
    first = admin.post("/api/v1/cards/", body, format="json", HTTP_IDEMPOTENCY_KEY="issue-1")
    retry = admin.post("/api/v1/cards/", body, format="json", HTTP_IDEMPOTENCY_KEY="issue-1")
    assert first.status_code == retry.status_code == 201, first.content
    assert len(first.json()["cards"]) == 2
    assert retry.json() == first.json()
    assert ChallengeCard.objects.filter(title=body["title"]).count() == 2


def test_reusing_a_key_with_another_body_is_422(world, deputy_client):
    card = world["own_card"].pk
    deputy_client.post("/api/v1/actions/", {"card": card, "description": "A"}, format="json", HTTP_IDEMPOTENCY_KEY="k")
    response = deputy_client.post(
        "/api/v1/actions/", {"card": card, "description": "B"}, format="json", HTTP_IDEMPOTENCY_KEY="k"
    )
    assert response.status_code == 422
    assert response["Content-Type"] == "application/problem+json"
    assert not FollowUpAction.objects.filter(description="B").exists()


def test_keys_belong_to_one_user(world, deputy_client):
    body = {"card": world["own_card"].pk, "description": "Same key, two people"}
    delegate = client_for(world["users"]["delegate"])
    assert deputy_client.post("/api/v1/actions/", body, format="json", HTTP_IDEMPOTENCY_KEY="x").status_code == 201
    assert delegate.post("/api/v1/actions/", body, format="json", HTTP_IDEMPOTENCY_KEY="x").status_code == 201
    assert FollowUpAction.objects.filter(description=body["description"]).count() == 2


def test_a_failed_request_does_not_burn_the_key(world, deputy_client):
    card = world["own_card"].pk
    bad = deputy_client.post("/api/v1/actions/", {"card": card}, format="json", HTTP_IDEMPOTENCY_KEY="retry-me")
    assert bad.status_code == 400
    good = deputy_client.post(
        "/api/v1/actions/", {"card": card, "description": "Fixed"}, format="json", HTTP_IDEMPOTENCY_KEY="retry-me"
    )
    assert good.status_code == 201
    assert IdempotencyRecord.objects.filter(key="retry-me", response_status=201).count() == 1


def test_an_expired_key_can_be_used_again(world, deputy_client):
    body = {"card": world["own_card"].pk, "description": "Weekly check-in"}
    with time_machine.travel(timezone.now() - datetime.timedelta(days=2)):
        assert deputy_client.post("/api/v1/actions/", body, format="json", HTTP_IDEMPOTENCY_KEY="w").status_code == 201
    assert deputy_client.post("/api/v1/actions/", body, format="json", HTTP_IDEMPOTENCY_KEY="w").status_code == 201
    assert FollowUpAction.objects.filter(description="Weekly check-in").count() == 2


def test_a_bad_idempotency_key_is_400(world, deputy_client):
    body = {"card": world["own_card"].pk, "description": "x"}
    response = deputy_client.post("/api/v1/actions/", body, format="json", HTTP_IDEMPOTENCY_KEY="a" * 300)
    assert response.status_code == 400
    assert "Idempotency-Key" in response.json()["errors"]


# --- updated_since sync ----------------------------------------------------------------------


def test_updated_since_returns_only_what_changed(world, deputy_client):
    card = world["own_card"]
    second = factories.ChallengeCardFactory(
        agency=world["agency"], meeting=world["meeting"], priority=world["priority"]
    )
    later = timezone.now() + datetime.timedelta(hours=1)
    with time_machine.travel(later, tick=False):
        services.card_update(actor=world["users"]["deputy"], card=second, expected_version=1, note="Progress.")
        services.action_complete(actor=world["users"]["deputy"], action=world["own_action"], expected_version=1)
    since = (later - datetime.timedelta(minutes=1)).isoformat()

    cards = deputy_client.get("/api/v1/cards/", {"updated_since": since}).json()
    assert [row["id"] for row in cards["results"]] == [second.pk]
    actions = deputy_client.get("/api/v1/actions/", {"updated_since": since}).json()
    assert [row["id"] for row in actions["results"]] == [world["own_action"].pk]
    everything = deputy_client.get("/api/v1/cards/").json()
    assert {row["id"] for row in everything["results"]} == {card.pk, second.pk}


def test_updated_since_needs_a_real_time(world, deputy_client):
    response = deputy_client.get("/api/v1/cards/", {"updated_since": "last tuesday"})
    assert response.status_code == 400
    assert "updated_since" in response.json()["errors"]


def test_a_server_error_frees_the_key_for_the_retry(world, deputy_client, monkeypatch):
    body = {"card": world["own_card"].pk, "description": "Flaky"}

    def broken(**kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(services, "action_add", broken)
    with pytest.raises(RuntimeError):
        deputy_client.post("/api/v1/actions/", body, format="json", HTTP_IDEMPOTENCY_KEY="flaky-1")
    assert not IdempotencyRecord.objects.filter(key="flaky-1").exists()
    monkeypatch.undo()
    retry = deputy_client.post("/api/v1/actions/", body, format="json", HTTP_IDEMPOTENCY_KEY="flaky-1")
    assert retry.status_code == 201


def test_beat_purges_expired_idempotency_records_and_keeps_live_ones(world, deputy):
    from django.conf import settings

    from core.tasks import purge_expired_idempotency_keys

    now = timezone.now()
    record = {"user": deputy, "request_hash": "0" * 64, "response_status": 201}
    IdempotencyRecord.objects.create(key="old", expires_at=now - datetime.timedelta(minutes=1), **record)
    IdempotencyRecord.objects.create(key="live", expires_at=now + datetime.timedelta(hours=23), **record)

    assert purge_expired_idempotency_keys() == 1
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["live"]
    assert any(entry["task"] == purge_expired_idempotency_keys.name for entry in settings.CELERY_BEAT_SCHEDULE.values())
