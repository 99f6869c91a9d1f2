"""Single sign-on through OpenID Connect against a fake provider on 127.0.0.1."""

from urllib.parse import parse_qs, urlsplit

import pytest
from django.conf import settings as django_settings

from audit.models import AuditEvent
from tests import factories

from .fake_oidc import CLIENT_ID, FakeProvider


@pytest.fixture
def provider(settings):
    with FakeProvider() as fake:
        for name, value in fake.settings().items():
            setattr(settings, name, value)
        settings.AUTHENTICATION_BACKENDS = [*django_settings.AUTHENTICATION_BACKENDS, "core.oidc.AccountOIDCBackend"]
        yield fake


def _start(client, next_url="/cards/"):
    response = client.get("/oidc/authenticate/", {"next": next_url})
    assert response.status_code == 302
    location = urlsplit(response["Location"])
    query = {k: v[0] for k, v in parse_qs(location.query).items()}
    return location, query


def test_sso_is_off_and_hidden_when_not_configured(client, db):
    assert client.get("/oidc/authenticate/").status_code == 404
    assert client.get("/oidc/callback/", {"code": "x", "state": "y"}).status_code == 404
    assert "Sign in with" not in client.get("/accounts/login/").content.decode()


def test_an_existing_account_signs_in_through_the_provider(client, provider, db):
    person = factories.UserFactory(username="deputy.hhs", email="Deputy.Secretary@hhs.example.gov")
    assert "Sign in with Login.gov" in client.get("/accounts/login/").content.decode()
    location, query = _start(client)
    assert f"{location.scheme}://{location.netloc}{location.path}" == f"{provider.url}/authorize"
    assert query["client_id"] == CLIENT_ID and query["code_challenge_method"] == "S256"
    assert query["redirect_uri"].endswith("/oidc/callback/")
    code = provider.approve(
        nonce=query["nonce"], challenge=query["code_challenge"], email="deputy.secretary@hhs.example.gov"
    )

    response = client.get("/oidc/callback/", {"code": code, "state": query["state"]})

    assert response.status_code == 302 and response["Location"] == "/cards/"
    assert client.session["_auth_user_id"] == str(person.pk)
    assert provider.token_requests[0]["code_verifier"]  # PKCE: the secret half went to the token endpoint only
    event = AuditEvent.objects.get(action="auth.sign_in")
    assert event.actor == person and event.details == {"method": "oidc"}


@pytest.mark.parametrize(
    ("email", "verified", "active"),
    [("nobody@example.gov", True, True), ("pio@dol.example.gov", False, True), ("pio@dol.example.gov", True, False)],
)
def test_unknown_unverified_or_inactive_accounts_are_refused(client, provider, db, email, verified, active):
    factories.UserFactory(username="pio.dol", email="pio@dol.example.gov", is_active=active)
    _location, query = _start(client)
    code = provider.approve(nonce=query["nonce"], challenge=query["code_challenge"], email=email, verified=verified)
    response = client.get("/oidc/callback/", {"code": code, "state": query["state"]}, follow=True)
    assert "_auth_user_id" not in client.session
    assert "did not work" in response.content.decode()
    assert AuditEvent.objects.filter(action="auth.sign_in_failed").exists()


def test_a_forged_state_is_refused(client, provider, db):
    factories.UserFactory(username="pio.dol", email="pio@dol.example.gov")
    _location, query = _start(client)
    code = provider.approve(nonce=query["nonce"], challenge=query["code_challenge"], email="pio@dol.example.gov")
    client.get("/oidc/callback/", {"code": code, "state": "forged"})
    assert "_auth_user_id" not in client.session
    assert provider.token_requests == []  # the code was never even exchanged


@pytest.mark.parametrize(
    ("acr", "pending"),
    [
        ("http://idmanagement.gov/ns/assurance/aal/2?phishing_resistant=true", None),  # trusted: nothing more
        ("http://idmanagement.gov/ns/assurance/aal/2", "enrol"),  # weaker than asked for
        ("", "enrol"),  # the provider says nothing: acr_values may have been stripped on the way
    ],
)
def test_an_omb_admin_through_sso_still_owes_a_second_factor_unless_the_provider_vouches(
    client, provider, db, settings, acr, pending
):
    """The requested acr_values travel through the browser; only the ID token's signed `acr` counts."""
    from accounts.policy import SECOND_FACTOR_PENDING

    settings.MFA_REQUIRED_FOR_OMB_ADMINS = True
    admin = factories.omb_admin(user__username="omb.sso", user__email="omb.sso@omb.example.gov")
    _, query = _start(client)
    code = provider.approve(
        nonce=query["nonce"], challenge=query["code_challenge"], email="omb.sso@omb.example.gov", acr=acr
    )

    response = client.get("/oidc/callback/", {"code": code, "state": query["state"]})

    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(admin.pk)
    assert client.session.get(SECOND_FACTOR_PENDING) == pending
    if pending:  # the pages wait for the second factor
        assert "/accounts/mfa/" in client.get("/cards/")["Location"]
