"""Every change to a person's second factors: add an authenticator app, replace recovery codes, remove one."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp_webauthn.models import WebAuthnCredential

from . import policy
from .signals import second_factor_changed


def authenticator_app_start(*, user) -> TOTPDevice:
    """The one unconfirmed authenticator app of this user (a new secret if there is none)."""
    with transaction.atomic():
        device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-pk").first()
        if device is None:
            device = TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=False)
        return device


def authenticator_app_confirm(*, user, name: str, code: str, request=None) -> TOTPDevice | None:
    """Confirms the pending app when the code matches; None when it does not (or there is nothing pending)."""
    with transaction.atomic():
        device = TOTPDevice.objects.select_for_update().filter(user=user, confirmed=False).order_by("-pk").first()
        if device is None or not device.verify_token(code):
            return None
        device.name = name
        device.confirmed = True
        device.save()
        TOTPDevice.objects.filter(user=user, confirmed=False).delete()
    second_factor_changed.send(sender=TOTPDevice, user=user, request=request, kind="totp", change="added")
    return device


def recovery_codes_replace(*, user, request=None) -> list[str]:
    """A new set of single-use recovery codes (the old ones stop working); only beside a real second factor."""
    if not policy.has_second_factor(user):
        raise PermissionDenied("Add an authenticator app or a security key before recovery codes.")
    with transaction.atomic():
        device, _ = StaticDevice.objects.get_or_create(user=user, name=policy.RECOVERY_CODES)
        device.token_set.all().delete()
        codes = [StaticToken.random_token() for _ in range(policy.RECOVERY_CODE_COUNT)]
        StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    second_factor_changed.send(
        sender=StaticDevice, user=user, request=request, kind="recovery code", change="recovery codes replaced"
    )
    return codes


def second_factor_remove(*, user, persistent_id: str, request=None) -> None:
    """Removes one of the user's apps or keys; the last one goes only when no second factor is required."""
    with transaction.atomic():
        devices = [
            *TOTPDevice.objects.select_for_update().filter(user=user, confirmed=True),
            *WebAuthnCredential.objects.select_for_update().filter(user=user, confirmed=True),
        ]
        device = next((d for d in devices if d.persistent_id == persistent_id), None)
        if device is None:
            raise PermissionDenied("That is not one of your second factors.")
        if len(devices) == 1 and policy.second_factor_required(user):
            raise PermissionDenied("OMB admins keep at least one second factor.")
        kind = "totp" if isinstance(device, TOTPDevice) else "webauthn"
        device.delete()
        if len(devices) == 1:
            StaticDevice.objects.filter(user=user).delete()  # recovery codes only go with a second factor
    second_factor_changed.send(sender=type(device), user=user, request=request, kind=kind, change="removed")


def second_factor_verify(*, user, code: str, request=None):
    """The app or recovery code that accepts this code (each once; django-otp slows down repeated failures)."""
    with transaction.atomic():
        for model, kind in ((TOTPDevice, "totp"), (StaticDevice, "recovery code")):
            for device in model.objects.select_for_update().filter(user=user, confirmed=True):
                if device.verify_token(code):
                    return device, kind
    return None, None
