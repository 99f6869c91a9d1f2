"""Browser sessions: a new id at sign-in, an inactivity timeout and an absolute lifetime."""

import datetime
from importlib import import_module

import pytest
import time_machine
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from audit.models import AuditEvent
from config.settings import base
from tests import factories

HOME = "/"


@pytest.fixture
def person(db):
    return factories.UserFactory(username="cos.treas")


def test_the_session_id_changes_at_sign_in(client, person):
    # An attacker plants a session id in the victim's browser before the victim signs in.
    store = import_module(settings.SESSION_ENGINE).SessionStore()
    store["planted"] = True
    store.save()
    planted = store.session_key
    client.cookies[settings.SESSION_COOKIE_NAME] = planted
    assert client.session.session_key == planted

    response = client.post("/accounts/login/", {"username": "cos.treas", "password": factories.PASSWORD})

    assert response.status_code == 302
    new_key = response.cookies[settings.SESSION_COOKIE_NAME].value
    assert new_key and new_key != planted
    assert not store.exists(planted)  # the planted id no longer names any session
    assert client.session["_auth_user_id"] == str(person.pk)


def _signed_in(client, person, at):
    with time_machine.travel(at, tick=False):
        response = client.post("/accounts/login/", {"username": "cos.treas", "password": factories.PASSWORD})
        assert response.status_code == 302


def test_fifteen_minutes_without_a_request_sign_the_user_out(client, person):
    start = timezone.now()
    _signed_in(client, person, start)
    with time_machine.travel(start + datetime.timedelta(minutes=14), tick=False):
        assert client.get(HOME).status_code == 200
    # 14 minutes after the last request: still signed in.
    with time_machine.travel(start + datetime.timedelta(minutes=28), tick=False):
        assert client.get(HOME).status_code == 200
    with time_machine.travel(start + datetime.timedelta(minutes=44), tick=False):
        response = client.get(HOME, follow=True)
    assert response.redirect_chain[-1][0].startswith("/accounts/login/")
    assert "signed out after 15 minutes without activity" in response.content.decode()
    assert "_auth_user_id" not in client.session
    event = AuditEvent.objects.get(action="auth.session_expired")
    assert event.actor == person and event.details == {"reason": "idle"}
    assert len(event.request_id) == 32  # the audit middleware runs before the timeout check


def test_the_cookie_and_stored_session_never_outlive_the_absolute_lifetime(client, person):
    response = client.post("/accounts/login/", {"username": "cos.treas", "password": factories.PASSWORD})
    assert response.cookies[settings.SESSION_COOKIE_NAME]["max-age"] == 12 * 3600
    assert 12 * 3600 - 60 < client.session.get_expiry_age() <= 12 * 3600


def test_sessions_end_after_twelve_hours_however_active(client, person):
    start = timezone.now()
    _signed_in(client, person, start)
    moment = start
    while moment < start + datetime.timedelta(hours=11, minutes=50):
        moment += datetime.timedelta(minutes=10)
        with time_machine.travel(moment, tick=False):
            assert client.get(HOME).status_code == 200, moment - start
    with time_machine.travel(start + datetime.timedelta(hours=12, minutes=1), tick=False):
        response = client.get(HOME, follow=True)
    assert "sessions last at most 12 hours" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_timeouts_come_from_settings(client, person, settings):
    settings.SESSION_IDLE_MINUTES = 5
    start = timezone.now()
    _signed_in(client, person, start)
    with time_machine.travel(start + datetime.timedelta(minutes=6), tick=False):
        response = client.get(HOME, follow=True)
    assert "signed out after 5 minutes without activity" in response.content.decode()


def test_a_request_within_the_minute_does_not_write_the_session(client, person):
    start = timezone.now()
    _signed_in(client, person, start)
    with time_machine.travel(start + datetime.timedelta(seconds=120), tick=False):
        client.get("/api/v1/me/")  # writes the last-seen time
    with (
        time_machine.travel(start + datetime.timedelta(seconds=130), tick=False),
        CaptureQueriesContext(connection) as captured,
    ):
        assert client.get("/api/v1/me/").status_code == 200
    session_sql = [q["sql"] for q in captured.captured_queries if "django_session" in q["sql"]]
    assert session_sql == []  # read from the cache, and not written


def test_the_defaults_are_fifteen_minutes_idle_and_twelve_hours_in_all():
    assert (base.SESSION_IDLE_MINUTES, base.SESSION_MAX_HOURS) == (15, 12)
    assert base.SESSION_COOKIE_AGE == 12 * 3600
    assert (base.AUTH_LOCKOUT_FAILURES, base.AUTH_LOCKOUT_MINUTES) == (3, 15)


@pytest.mark.parametrize(("old", "new"), sorted(settings.SESSION_BACKEND_RENAMES.items()))
def test_a_session_signed_in_through_a_backend_that_moved_stays_signed_in(client, person, old, new, settings):
    """Backends moved from config/ to core/: a session that names the old path must not be signed out."""
    from django.contrib.auth import BACKEND_SESSION_KEY
    from django.core.cache import caches

    if new not in settings.AUTHENTICATION_BACKENDS:  # single sign-on's backend is listed only when it is on
        settings.AUTHENTICATION_BACKENDS = [*settings.AUTHENTICATION_BACKENDS, new]

    client.force_login(person, backend="core.auth.PasswordBackend")
    key = client.cookies[settings.SESSION_COOKIE_NAME].value
    store = import_module(settings.SESSION_ENGINE).SessionStore(session_key=key)
    store[BACKEND_SESSION_KEY] = old  # as a session saved by the previous release says
    store.save()
    caches[settings.SESSION_CACHE_ALIAS].clear()  # read back from the database, as after a deploy

    response = client.get(HOME)

    assert response.status_code == 200
    assert response.wsgi_request.user == person
    assert import_module(settings.SESSION_ENGINE).SessionStore(session_key=key)[BACKEND_SESSION_KEY] == new
