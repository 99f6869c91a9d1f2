"""Personal API tokens: the command, hashed storage, expiry, revocation, last use, the profile pages."""

from __future__ import annotations

import datetime
import hashlib
import io

import pytest
import time_machine
from django.core.exceptions import PermissionDenied
from django.core.management import CommandError, call_command
from django.utils import timezone
from rest_framework.test import APIClient

from agencies.models import ApiToken
from agencies.tokens import TokenRejected, token_authenticate, token_create, token_revoke
from tests import factories


def _bearer(raw: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


def test_create_api_token_prints_the_token_alone_on_the_last_line(deputy):
    out, err = io.StringIO(), io.StringIO()
    call_command("create_api_token", deputy.username, "--expires-days", "30", stdout=out, stderr=err)
    raw = out.getvalue().strip().splitlines()[-1]
    assert raw.startswith("cc_") and " " not in raw
    token = ApiToken.objects.get(user=deputy)
    assert token.key_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert token.expires_at - timezone.now() > datetime.timedelta(days=29, hours=23)
    assert "shown only once" in err.getvalue()
    me = _bearer(raw).get("/api/v1/me/")
    assert me.status_code == 200
    assert me.json()["username"] == deputy.username
    assert me.json()["memberships"][0]["role"] == "deputy_secretary"


def test_create_api_token_without_expiry_and_for_an_unknown_user(deputy):
    call_command("create_api_token", deputy.username, stdout=io.StringIO(), stderr=io.StringIO())
    assert ApiToken.objects.get(user=deputy).expires_at is None
    with pytest.raises(CommandError, match="no user"):
        call_command("create_api_token", "nobody", stdout=io.StringIO(), stderr=io.StringIO())
    with pytest.raises(CommandError, match="between 1 and"):
        call_command("create_api_token", deputy.username, "--expires-days", "0", stdout=io.StringIO())


def test_only_a_hash_and_a_short_prefix_are_stored(deputy):
    token, raw = token_create(user=deputy, name="Treasury tracker")
    stored = ApiToken.objects.filter(pk=token.pk).values().get()
    assert raw not in str(stored)
    assert stored["key_hash"] == hashlib.sha256(raw.encode()).hexdigest()
    assert raw.startswith(stored["prefix"]) and len(stored["prefix"]) == 10
    assert len(raw) > 40


def test_an_expired_token_is_refused(deputy):
    _token, raw = token_create(user=deputy, name="short lived", expires_days=1)
    assert _bearer(raw).get("/api/v1/me/").status_code == 200
    with time_machine.travel(timezone.now() + datetime.timedelta(days=1, minutes=1)):
        response = _bearer(raw).get("/api/v1/me/")
    assert response.status_code == 401
    assert response.json()["detail"] == "This token has expired."


def test_a_revoked_token_is_refused_at_once(deputy):
    token, raw = token_create(user=deputy, name="to revoke")
    token_revoke(actor=deputy, token=token)
    response = _bearer(raw).get("/api/v1/cards/")
    assert response.status_code == 401
    assert response.json()["detail"] == "This token was revoked."


def test_an_unknown_token_and_a_malformed_header_are_401(deputy):
    assert _bearer("cc_not-a-real-token").get("/api/v1/me/").status_code == 401
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer two parts")
    assert client.get("/api/v1/me/").status_code == 401


def test_an_inactive_users_token_is_refused(deputy):
    _token, raw = token_create(user=deputy, name="leaver")
    deputy.is_active = False
    deputy.save()
    assert _bearer(raw).get("/api/v1/me/").status_code == 401


def test_last_use_is_recorded_at_most_once_a_minute(deputy, django_assert_num_queries):
    token, raw = token_create(user=deputy, name="busy tool")
    client = _bearer(raw)
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        client.get("/api/v1/agencies/")
        token.refresh_from_db()
        assert token.last_used_at == start
        # Token lookup, count, page: no write for the second request within the minute.
        with django_assert_num_queries(3):
            client.get("/api/v1/agencies/")
    with time_machine.travel(start + datetime.timedelta(minutes=2), tick=False):
        client.get("/api/v1/agencies/")
    token.refresh_from_db()
    assert token.last_used_at == start + datetime.timedelta(minutes=2)


def test_only_the_owner_revokes_a_token(deputy, other_deputy):
    token, _raw = token_create(user=deputy, name="mine")
    with pytest.raises(PermissionDenied, match="your own"):
        token_revoke(actor=other_deputy, token=token)
    token.refresh_from_db()
    assert token.revoked_at is None


# --- the profile pages ---------------------------------------------------------------------


def test_token_page_creates_a_token_and_shows_it_once(client, deputy):
    client.force_login(deputy)
    page = client.get("/profile/tokens/")
    assert page.status_code == 200
    assert b"You have no API tokens." in page.content
    created = client.post("/profile/tokens/", {"name": "Treasury tracker", "expires_days": "90"})
    assert created.status_code == 200
    raw = created.context["new_token"]
    assert raw.encode() in created.content
    assert _bearer(raw).get("/api/v1/me/").status_code == 200
    again = client.get("/profile/tokens/")
    assert raw.encode() not in again.content
    assert b"Treasury tracker" in again.content
    assert ApiToken.objects.get(user=deputy).prefix.encode() in again.content


def test_token_page_refuses_a_blank_name(client, deputy):
    client.force_login(deputy)
    response = client.post("/profile/tokens/", {"name": "  ", "expires_days": ""})
    assert response.status_code == 400
    assert not ApiToken.objects.exists()


def test_token_page_revokes_only_your_own(client, deputy, other_deputy):
    mine, raw = token_create(user=deputy, name="mine")
    theirs, _ = token_create(user=other_deputy, name="theirs")
    client.force_login(deputy)
    assert client.post(f"/profile/tokens/{theirs.pk}/revoke/").status_code == 404
    response = client.post(f"/profile/tokens/{mine.pk}/revoke/")
    assert response.status_code == 302
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert mine.revoked_at is not None and theirs.revoked_at is None
    assert _bearer(raw).get("/api/v1/me/").status_code == 401


def test_token_pages_need_a_sign_in(client):
    response = client.get("/profile/tokens/")
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_me_says_which_token_is_in_use(db):
    admin = factories.omb_admin(user__username="omb.tokens")
    token, raw = token_create(user=admin, name="OMB scripts")
    body = _bearer(raw).get("/api/v1/me/").json()
    assert body["omb_role"] == "admin"
    assert body["token"]["prefix"] == token.prefix
    assert body["memberships"] == []


def test_the_compiled_token_read_gives_what_the_orm_gives_for_each_token(db, django_assert_num_queries):
    first_user, second_user = factories.UserFactory(first_name="Ada"), factories.UserFactory(first_name="Grace")
    first, first_raw = token_create(user=first_user, name="one", expires_days=30)
    second, second_raw = token_create(user=second_user, name="two")
    for raw, expected in ((first_raw, first), (second_raw, second)):
        with django_assert_num_queries(2):  # the read, and recording the first use
            token = token_authenticate(raw)
        from_orm = ApiToken.objects.select_related("user").get(pk=expected.pk)
        assert [getattr(token, f.attname) for f in ApiToken._meta.concrete_fields if f.attname != "last_used_at"] == [
            getattr(from_orm, f.attname) for f in ApiToken._meta.concrete_fields if f.attname != "last_used_at"
        ]
        assert isinstance(token.created_at, datetime.datetime) and token.created_at.tzinfo is not None
        assert (token.user.pk, token.user.first_name, token.user.date_joined) == (
            from_orm.user.pk,
            from_orm.user.first_name,
            from_orm.user.date_joined,
        )
    with pytest.raises(TokenRejected):
        token_authenticate("cc_" + "x" * 40)
