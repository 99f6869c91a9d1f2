"""An API request with a bearer token is the token's alone: it passes the browser's middleware by
(core.api.middleware), so a session cookie it carries is neither used, read, refreshed nor signed out; the
same browser's own requests to the API keep every browser rule (second factor, timeouts)."""

import datetime
import threading

import pytest
import time_machine
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.test import RequestFactory
from django.utils import timezone

from accounts.policy import SECOND_FACTOR_PENDING
from agencies.tokens import token_create
from core.api.middleware import BrowserOnlyStart, is_bearer_api_request
from tests import factories
from tests.security.test_mfa import sign_in

ME = "/api/v1/me/"


@pytest.fixture(autouse=True)
def mfa_required(settings):
    settings.MFA_REQUIRED_FOR_OMB_ADMINS = True


@pytest.fixture
def deputy_token(deputy):
    return token_create(user=deputy, name="tool")[1]


def test_a_bearer_request_is_the_tokens_even_beside_a_session_waiting_for_its_second_factor(
    client, admin_user, deputy, deputy_token
):
    sign_in(client, admin_user)
    assert client.session.get(SECOND_FACTOR_PENDING)

    with_token = client.get(ME, HTTP_AUTHORIZATION=f"Bearer {deputy_token}")

    assert with_token.status_code == 200, with_token.content
    assert with_token.json()["username"] == deputy.username
    assert settings.SESSION_COOKIE_NAME not in with_token.cookies and "Vary" not in with_token
    # The session's own requests to the API still wait for the second factor.
    from_the_browser = client.get(ME)
    assert from_the_browser.status_code == 403
    assert from_the_browser.json()["title"] == "Second factor needed"


def test_a_bearer_request_neither_refreshes_nor_signs_out_the_session_it_carries(client, deputy, deputy_token):
    person = factories.UserFactory(username="cos.treas")
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        client.post("/accounts/login/", {"username": person.username, "password": factories.PASSWORD})
    session_key = client.session.session_key

    # 10 minutes on: the token's request does not count as the browser's activity...
    with time_machine.travel(start + datetime.timedelta(minutes=10), tick=False):
        assert client.get(ME, HTTP_AUTHORIZATION=f"Bearer {deputy_token}").json()["username"] == deputy.username
    # ...so 20 minutes on the session has been idle 20 minutes, past the 15 allowed (10, had the token's request
    # refreshed it); the token's request does not sign it out either: the browser's next request does.
    with time_machine.travel(start + datetime.timedelta(minutes=20), tick=False):
        assert client.get(ME, HTTP_AUTHORIZATION=f"Bearer {deputy_token}").status_code == 200
        assert client.session.session_key == session_key
        assert client.session["_auth_user_id"] == str(person.pk)
        signed_out = client.get(ME)
        assert signed_out.status_code == 401 and signed_out.json()["title"] == "Not signed in"
    assert "_auth_user_id" not in client.session


def test_a_bad_bearer_token_is_refused_even_beside_a_good_session(client, deputy):
    client.force_login(deputy)
    assert client.get(ME).json()["username"] == deputy.username

    refused = client.get(ME, HTTP_AUTHORIZATION="Bearer cc_no-such-token")

    assert refused.status_code == 401
    assert "username" not in refused.json()


def test_a_bearer_answer_keeps_the_headers_every_answer_gets(client, deputy_token):
    answer = client.get(ME, HTTP_AUTHORIZATION=f"Bearer {deputy_token}")

    assert answer.status_code == 200
    assert answer["X-Frame-Options"] == "DENY"
    assert answer["Content-Length"] == str(len(answer.content))
    assert answer["Cache-Control"] == "no-store, private"
    assert len(answer["X-Request-ID"]) == 32  # the audit middleware still runs
    assert not answer.cookies


@pytest.mark.parametrize(
    ("path", "header", "bearer"),
    [
        ("/api/v1/cards/", "Bearer abc", True),
        ("/api/v1/cards/", "bearer abc", True),
        ("/api/v1/cards/", "BEARER", True),  # the API reads it as a token (and refuses it): never the session's
        ("/api/v1/cards/", "Basic abc", False),
        # Split as DRF splits the header's bytes: \x1c is white space to str.split, not to bytes.split.
        ("/api/v1/cards/", "Bearer\x1cabc", False),
        ("/api/v1/cards/", "", False),
        ("/cards/", "Bearer abc", False),  # pages are the browser's
    ],
)
def test_which_requests_pass_the_browser_middleware_by(path, header, bearer):
    request = RequestFactory().get(path, HTTP_AUTHORIZATION=header) if header else RequestFactory().get(path)
    assert is_bearer_api_request(request) is bearer


def test_a_start_without_its_end_is_a_configuration_error():
    raised: list[Exception] = []

    def make() -> None:  # a new thread: no End made in it
        try:
            BrowserOnlyStart(lambda request: None)
        except ImproperlyConfigured as error:
            raised.append(error)

    thread = threading.Thread(target=make)
    thread.start()
    thread.join()
    assert len(raised) == 1
