"""The sign-in policy over HTTP: the system-use notice (AC-8) before any sign-in form, and single sign-on only
(PASSWORD_SIGN_IN=false) with a break-glass OMB admin; the production defaults keep both on."""

from urllib.parse import parse_qs, urlsplit

import pytest
from django.conf import settings as django_settings

from audit.models import AuditEvent
from config.settings import base
from tests import factories
from tests.test_settings import PRODUCTION_ENV, _import_production

from .fake_oidc import FakeProvider

LOGIN = "/accounts/login/"


@pytest.fixture
def notice(settings):
    settings.SYSTEM_USE_NOTICE = base.SYSTEM_USE_NOTICE


@pytest.fixture
def person(db):
    return factories.UserFactory(username="pio.treas")


def _accept(client, next_url=LOGIN):
    response = client.post("/accounts/notice/", {"next": next_url})
    assert response.status_code == 303 and response["Location"] == next_url


def test_no_sign_in_form_before_the_notice_is_accepted(client, person, notice):
    response = client.get(LOGIN, {"next": "/cards/"})
    assert response.status_code == 303
    assert response["Location"] == "/accounts/notice/?next=%2Faccounts%2Flogin%2F%3Fnext%3D%252Fcards%252F"
    page = client.get(response["Location"]).content.decode()
    assert "U.S. Government information system" in page and "I understand and agree" in page
    assert 'name="password"' not in page
    # A sign-in posted straight past the notice is not read: no session, no failure counted.
    response = client.post(LOGIN, {"username": "pio.treas", "password": factories.PASSWORD})
    assert response.status_code == 303 and response["Location"] == "/accounts/notice/"
    assert "_auth_user_id" not in client.session
    assert not AuditEvent.objects.filter(action__startswith="auth.sign_in").exists()
    # The other ways in wait for the notice too.
    for path in ("/admin/login/", "/oidc/authenticate/"):
        assert client.get(path)["Location"].startswith("/accounts/notice/")


def test_the_notice_is_accepted_once_per_session(client, person, notice):
    _accept(client, "/accounts/login/?next=/cards/")
    page = client.get(LOGIN).content.decode()
    assert 'name="password"' in page
    response = client.post(LOGIN, {"username": "pio.treas", "password": factories.PASSWORD})
    assert response.status_code == 302 and client.session["_auth_user_id"] == str(person.pk)
    assert client.get("/").status_code == 200  # signed in: pages need no second acceptance
    client.post("/accounts/logout/")
    # A new session, a new notice.
    assert client.get(LOGIN)["Location"].startswith("/accounts/notice/")


def test_the_notice_text_is_a_setting_and_an_unsafe_next_is_ignored(client, db, settings):
    settings.SYSTEM_USE_NOTICE = "First paragraph of our notice.\n\nSecond paragraph."
    page = client.get("/accounts/notice/").content.decode()
    assert '<p class="usa-alert__text">First paragraph of our notice.</p>' in page
    assert '<p class="usa-alert__text">Second paragraph.</p>' in page
    response = client.post("/accounts/notice/", {"next": "https://evil.example.com/"})
    assert response["Location"] == LOGIN


@pytest.fixture
def sso_only(settings):
    with FakeProvider() as fake:
        for name, value in fake.settings().items():
            setattr(settings, name, value)
        settings.AUTHENTICATION_BACKENDS = [*django_settings.AUTHENTICATION_BACKENDS, "core.oidc.AccountOIDCBackend"]
        settings.PASSWORD_SIGN_IN = False
        yield fake


def test_with_single_sign_on_only_passwords_are_refused(client, person, sso_only):
    page = client.get(LOGIN).content.decode()
    assert "Sign in with Login.gov" in page
    assert 'name="password"' not in page and "emergency sign-in" not in page
    response = client.post(LOGIN, {"username": "pio.treas", "password": factories.PASSWORD})
    assert response.status_code == 200 and "_auth_user_id" not in client.session
    assert AuditEvent.objects.filter(action="auth.sign_in_failed", actor_username="pio.treas").exists()
    # The same person signs in through the provider.
    person.email = "pio@treasury.example.gov"
    person.save()
    start = urlsplit(client.get("/oidc/authenticate/", {"next": "/cards/"})["Location"])
    query = {k: v[0] for k, v in parse_qs(start.query).items()}
    assert query["acr_values"] == base.OIDC_ACR_VALUES
    code = sso_only.approve(nonce=query["nonce"], challenge=query["code_challenge"], email="pio@treasury.example.gov")
    response = client.get("/oidc/callback/", {"code": code, "state": query["state"]})
    assert response["Location"] == "/cards/" and client.session["_auth_user_id"] == str(person.pk)


def test_break_glass_is_for_the_named_omb_admins_only(client, db, sso_only, settings):
    admin = factories.omb_admin(user__username="omb.breakglass")
    factories.deputy_of(factories.AgencyFactory(), user__username="deputy.named")
    factories.omb_admin(user__username="omb.unnamed")
    settings.BREAK_GLASS_USERNAMES = ["omb.breakglass", "deputy.named"]
    page = client.get(LOGIN).content.decode()
    assert "emergency sign-in" in page and 'name="password"' not in page
    assert 'name="password"' in client.get(LOGIN, {"break_glass": "1"}).content.decode()
    for refused in ("deputy.named", "omb.unnamed"):  # named but not an OMB admin; an OMB admin not named
        client.post(f"{LOGIN}?break_glass=1", {"username": refused, "password": factories.PASSWORD})
        assert "_auth_user_id" not in client.session, refused
    response = client.post(f"{LOGIN}?break_glass=1", {"username": "omb.breakglass", "password": factories.PASSWORD})
    assert response.status_code == 302 and client.session["_auth_user_id"] == str(admin.pk)


def test_password_sign_in_stays_on_without_single_sign_on(client, person, settings):
    settings.PASSWORD_SIGN_IN = False  # ignored: with no provider nobody could sign in
    response = client.post(LOGIN, {"username": "pio.treas", "password": factories.PASSWORD})
    assert response.status_code == 302 and client.session["_auth_user_id"] == str(person.pk)


def test_production_defaults_keep_the_notice_mfa_and_phishing_resistant_sso():
    script = (
        "print(bool(s.SYSTEM_USE_NOTICE), s.MFA_REQUIRED_FOR_OMB_ADMINS, s.PASSWORD_SIGN_IN, "
        "s.OTP_WEBAUTHN_ALLOW_PASSWORDLESS_LOGIN); print(s.OIDC_ACR_VALUES)"
    )
    result = _import_production(script, **{"REDIS_URL": "redis://r:6379/1", **PRODUCTION_ENV, "SYSTEM_USE_NOTICE": ""})
    assert result.returncode == 0, result.stderr
    flags, acr = result.stdout.splitlines()
    assert flags.split() == ["True", "True", "True", "False"]
    assert acr == "urn:acr.login.gov:auth-only http://idmanagement.gov/ns/assurance/aal/2?phishing_resistant=true"
