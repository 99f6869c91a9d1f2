"""The audit log records sign-ins, refusals, token use and every change; nobody can edit it."""

import datetime
import logging

import pytest
import time_machine
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from agencies.tokens import token_create
from audit.models import AuditEvent, AuditLogIsAppendOnly
from challenge_cards.models import CardStatus
from tests import factories

UA = "Mozilla/5.0 (audit test)"


def test_sign_in_failure_and_sign_out_are_recorded(client, deputy):
    # Making the deputy's membership is in the log too (audit.changes); these are the rows the requests wrote.
    setup_rows = AuditEvent.objects.count()
    client.post("/accounts/login/", {"username": "deputy.treas", "password": "nope"}, HTTP_USER_AGENT=UA)
    client.post("/accounts/login/", {"username": "deputy.treas", "password": factories.PASSWORD}, HTTP_USER_AGENT=UA)
    client.post("/accounts/logout/", HTTP_USER_AGENT=UA)
    events = list(AuditEvent.objects.order_by("id"))[setup_rows:]
    assert [(e.action, e.outcome, e.actor_username) for e in events] == [
        ("auth.sign_in_failed", "failure", "deputy.treas"),
        ("auth.sign_in", "success", "deputy.treas"),
        ("auth.sign_out", "success", "deputy.treas"),
    ]
    failed, signed_in, _ = events
    assert failed.actor is None and signed_in.actor == deputy
    assert signed_in.ip_address == "127.0.0.1" and signed_in.user_agent == UA
    assert signed_in.occurred_at.utcoffset() == datetime.timedelta(0)
    assert len(signed_in.request_id) == 32
    assert "nope" not in str(failed.details) and "password" not in str(failed.details)


def test_a_delegates_change_on_a_page_names_the_deputy_it_was_made_for(client, delegate, deputy, card):
    client.force_login(delegate)
    response = client.post(
        card.get_absolute_url(),
        {"version": card.version, "status": CardStatus.IN_PROGRESS, "agency_rating": "", "note": "Started."},
    )
    assert response.status_code == 302
    event = AuditEvent.objects.get(action="request.post")
    assert event.actor == delegate and event.on_behalf_of == deputy
    assert (event.object_type, event.object_id) == ("challenge_cards.challengecard", str(card.pk))
    assert event.outcome == "success" and event.status_code == 302
    assert event.details["events"] == ["card_updated"]
    assert event.request_id == response["X-Request-ID"]


def test_a_refused_change_is_recorded_with_its_outcome(client, deputy, card):
    client.force_login(deputy)
    response = client.post(card.get_absolute_url(), {"version": card.version, "status": CardStatus.AT_RISK})
    assert response.status_code == 400
    event = AuditEvent.objects.get(action="request.post")
    assert (event.outcome, event.status_code, event.object_id) == ("failure", 400, str(card.pk))


def test_denied_access_is_recorded(client, other_deputy, card, db):
    assert APIClient().get("/api/v1/cards/").status_code == 401
    client.force_login(other_deputy)
    assert client.get(card.get_absolute_url()).status_code == 404  # another agency's card does not exist for them
    assert client.get("/admin/").status_code in (302, 403)
    denied = AuditEvent.objects.filter(action="access.denied").order_by("id")
    assert [(e.status_code, e.actor_username) for e in denied][:2] == [(401, ""), (404, "deputy.dol")]
    assert denied[1].path == card.get_absolute_url() and denied[1].outcome == "denied"


def test_reading_writes_nothing(client, deputy, card):
    client.force_login(deputy)
    AuditEvent.objects.filter(action="auth.sign_in").get()
    before = AuditEvent.objects.count()
    assert client.get(card.get_absolute_url()).status_code == 200
    assert client.get("/cards/").status_code == 200
    assert AuditEvent.objects.count() == before


def test_token_use_is_recorded_once_a_minute_and_with_every_change(deputy, card):
    token, raw = token_create(user=deputy, name="Treasury tracker")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        api.get("/api/v1/cards/")
        api.get("/api/v1/cards/")
    used = AuditEvent.objects.filter(action="token.used")
    assert used.count() == 1
    assert used.get().details["token"] == {"id": token.pk, "prefix": token.prefix}
    with time_machine.travel(start + datetime.timedelta(minutes=2), tick=False):
        etag = api.get(f"/api/v1/cards/{card.pk}/")["ETag"]
        response = api.post(
            f"/api/v1/cards/{card.pk}/updates/", {"status": "in_progress"}, format="json", HTTP_IF_MATCH=etag
        )
    assert response.status_code == 201, response.content
    assert AuditEvent.objects.filter(action="token.used").count() == 2
    change = AuditEvent.objects.get(action="request.post")
    assert change.actor == deputy and change.details["token"]["prefix"] == token.prefix
    assert (change.object_type, change.object_id) == ("challenge_cards.challengecard", str(card.pk))


def test_an_admin_change_is_recorded_with_the_model_it_changed(client, admin_user, agency):
    client.force_login(admin_user)
    url = reverse("admin:agencies_agency_change", args=[agency.pk])
    response = client.post(
        url,
        {
            "name": agency.name,
            "abbreviation": agency.abbreviation,
            "cfo_act": "on",
            "active": "on",
            "memberships-TOTAL_FORMS": "0",
            "memberships-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    event = AuditEvent.objects.get(action="request.post")
    assert (event.object_type, event.object_id, event.actor) == ("agencies.agency", str(agency.pk), admin_user)


def test_rows_cannot_be_changed_or_deleted(db):
    event = AuditEvent.objects.create(action="auth.sign_in", outcome="success", actor_username="someone")
    event.outcome = "failure"
    with pytest.raises(AuditLogIsAppendOnly):
        event.save()
    with pytest.raises(AuditLogIsAppendOnly):
        event.delete()
    with pytest.raises(AuditLogIsAppendOnly):
        AuditEvent.objects.filter(pk=event.pk).update(outcome="failure")
    with pytest.raises(AuditLogIsAppendOnly):
        AuditEvent.objects.all().delete()
    if connection.vendor == "postgresql":
        # Below the ORM, the database refuses too.
        from django.db import DatabaseError, transaction

        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("UPDATE audit_auditevent SET outcome = 'failure' WHERE id = %s", [event.pk])
    assert AuditEvent.objects.get(pk=event.pk).outcome == "success"


def test_omb_admins_read_the_log_and_nobody_edits_it(client, admin_user, deputy):
    event = AuditEvent.objects.create(action="auth.sign_in", outcome="success", actor_username="deputy.treas")
    client.force_login(admin_user)
    listing = client.get(reverse("admin:audit_auditevent_changelist"))
    assert listing.status_code == 200 and "deputy.treas" in listing.content.decode()
    change_url = reverse("admin:audit_auditevent_change", args=[event.pk])
    assert client.get(change_url).status_code == 200  # a read-only view
    client.post(change_url, {"outcome": "failure"})
    assert client.post(reverse("admin:audit_auditevent_delete", args=[event.pk])).status_code == 403
    assert AuditEvent.objects.get(pk=event.pk).outcome == "success"
    client.force_login(deputy)
    assert client.get(reverse("admin:audit_auditevent_changelist")).status_code in (302, 403)


def test_a_failure_to_write_is_logged_and_the_request_goes_on(client, deputy, card, monkeypatch, caplog):
    def broken(**kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(AuditEvent.objects, "create", broken)
    client.force_login(deputy)
    with caplog.at_level(logging.ERROR, logger="audit"):
        response = client.post(
            card.get_absolute_url(),
            {"version": card.version, "status": CardStatus.IN_PROGRESS, "agency_rating": "", "note": ""},
        )
    assert response.status_code == 302
    card.refresh_from_db()
    assert card.status == CardStatus.IN_PROGRESS
    assert "Could not write the audit event request.post" in caplog.text
