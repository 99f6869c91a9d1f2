"""The sign-in rules in one place: the system-use notice, who may use a password, who needs a second factor.

- The system-use notice (AC-8) is accepted once per session, before any sign-in form (SYSTEM_USE_NOTICE).
- With single sign-on on and PASSWORD_SIGN_IN off, only the OMB admins in BREAK_GLASS_USERNAMES use a password.
- A password sign-in asks for a second factor when the account has one; OMB admins and superusers must have one
  (MFA_REQUIRED_FOR_OMB_ADMINS). Single sign-on needs none here: the provider asks for it (OIDC_ACR_VALUES).
"""

from __future__ import annotations

from django.conf import settings
from django.utils import timezone
from django_otp import DEVICE_ID_SESSION_KEY as DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp_webauthn.models import WebAuthnCredential

from agencies.roles import roles_of

NOTICE_ACCEPTED_AT = "system_use_notice_accepted_at"
# "verify": the account has a second factor to use; "enrol": it must add one first.
SECOND_FACTOR_PENDING = "second_factor_pending"
VERIFY, ENROL = "verify", "enrol"


def notice_required() -> bool:
    return bool(settings.SYSTEM_USE_NOTICE)


def notice_accepted(session) -> bool:
    return not notice_required() or bool(session.get(NOTICE_ACCEPTED_AT))


def notice_accept(session) -> None:
    session[NOTICE_ACCEPTED_AT] = timezone.now().isoformat()


def password_sign_in_open() -> bool:
    """Password sign-in is on unless single sign-on is on and PASSWORD_SIGN_IN is off."""
    return settings.PASSWORD_SIGN_IN or not settings.SSO_ENABLED


def is_break_glass(username: str) -> bool:
    return username.casefold() in {name.casefold() for name in settings.BREAK_GLASS_USERNAMES}


def may_use_password(user) -> bool:
    """Whether this account may sign in with its password now (a break-glass account must be an OMB admin's)."""
    if password_sign_in_open():
        return True
    return is_break_glass(user.get_username()) and roles_of(user).omb_admin


def second_factor_required(user) -> bool:
    return settings.MFA_REQUIRED_FOR_OMB_ADMINS and (user.is_superuser or roles_of(user).omb_admin)


def has_second_factor(user) -> bool:
    """A confirmed authenticator app or security key (recovery codes alone are not one)."""
    return (
        TOTPDevice.objects.filter(user=user, confirmed=True).exists()
        or WebAuthnCredential.objects.filter(user=user, confirmed=True).exists()
    )


def second_factor_step(user, backend: str) -> str | None:
    """What a sign-in through this backend still needs: VERIFY, ENROL or nothing.

    Single sign-on needs nothing more only when the provider's signed ID token says it used a level
    of assurance listed in SSO_TRUSTED_ACR (core.oidc puts it on the user as `sso_acr`); otherwise
    the sign-in is treated like a password's."""
    if "oidc" in backend.lower() and getattr(user, "sso_acr", "") in settings.SSO_TRUSTED_ACR:
        return None
    if has_second_factor(user):
        return VERIFY
    return ENROL if second_factor_required(user) else None


def session_verified(session) -> bool:
    return DEVICE_ID_SESSION_KEY in session


def recovery_device(user) -> StaticDevice | None:
    return StaticDevice.objects.filter(user=user, name=RECOVERY_CODES).first()


RECOVERY_CODES = "Recovery codes"
RECOVERY_CODE_COUNT = 10
