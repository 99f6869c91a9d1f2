"""Optional single sign-on through OpenID Connect (Login.gov style), on when OIDC_RP_CLIENT_ID is set.

Only existing, active accounts sign in this way, matched by the provider's verified e-mail address;
OMB admins still create accounts and grant roles. Password sign-in keeps working beside it unless
PASSWORD_SIGN_IN is off (the accounts app's policy).
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model
from django.http import Http404
from mozilla_django_oidc.auth import OIDCAuthenticationBackend
from mozilla_django_oidc.views import OIDCAuthenticationCallbackView, OIDCAuthenticationRequestView

from .auth import SignedInUserMixin


class AccountOIDCBackend(SignedInUserMixin, OIDCAuthenticationBackend):
    """Signs in the one active account whose e-mail matches the verified claim; never creates accounts."""

    def filter_users_by_claims(self, claims):
        email = (claims.get("email") or "").strip()
        if not email or claims.get("email_verified") is False:
            return get_user_model().objects.none()
        return get_user_model().objects.filter(email__iexact=email, is_active=True)

    def get_or_create_user(self, access_token, id_token, payload):
        """The account, carrying the level of assurance the provider says it used (the ID token's
        `acr`): whoever decides on a second factor reads `sso_acr` (the requested acr_values travel
        through the browser and can be stripped, so only the signed answer counts)."""
        user = super().get_or_create_user(access_token, id_token, payload)
        if user is not None:
            user.sso_acr = str((payload or {}).get("acr") or "")
        return user

    def create_user(self, claims):
        return None  # OIDC_CREATE_USER is off; this is a second lock on the same door


def _require_sso() -> None:
    if not settings.SSO_ENABLED:
        raise Http404("Single sign-on is not set up.")


class SignInStartView(OIDCAuthenticationRequestView):
    """Sends the browser to the provider, with state, nonce and a PKCE challenge."""

    def __init__(self, *args, **kwargs):
        _require_sso()
        super().__init__(*args, **kwargs)


class SignInCallbackView(OIDCAuthenticationCallbackView):
    """The provider sends the browser back here with a code, which the backend exchanges and checks."""

    def get(self, request):
        _require_sso()
        return super().get(request)


def sso(request) -> dict:
    """Template context: what the sign-in page offers: single sign-on (under what name), the password form, and
    (with password sign-in off) the break-glass form for the OMB admins named in BREAK_GLASS_USERNAMES."""
    password = settings.PASSWORD_SIGN_IN or not settings.SSO_ENABLED
    return {
        "sso_enabled": settings.SSO_ENABLED,
        "sso_provider_name": settings.SSO_PROVIDER_NAME,
        "password_sign_in": password,
        "break_glass_offered": not password and bool(settings.BREAK_GLASS_USERNAMES),
    }
