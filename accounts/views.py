"""The system-use notice, and the second step of sign-in: use, add and remove second factors, recovery codes."""

from __future__ import annotations

import base64

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp_webauthn.models import WebAuthnCredential
from django_otp_webauthn.templatetags.otp_webauthn import get_configuration

from . import policy, services
from .forms import AuthenticatorAppForm, CodeForm
from .signals import second_factor_failed, second_factor_verified

SHOW_CODES = "recovery_codes_to_show"


def _next_url(request, default: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    safe = url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return target if safe else default


def system_use_notice(request):
    """The notice before sign-in (AC-8): a plain form, so it works without JavaScript."""
    next_url = _next_url(request, reverse(settings.LOGIN_URL))
    if request.method == "POST":
        policy.notice_accept(request.session)
        return HttpResponseRedirect(next_url, status=303)
    paragraphs = [p.strip() for p in settings.SYSTEM_USE_NOTICE.split("\n\n") if p.strip()]
    return render(request, "accounts/notice.html", {"paragraphs": paragraphs, "next": next_url})


def _settled(request) -> bool:
    """May this session see and change its second factors: it used one, or the account has none yet."""
    return policy.session_verified(request.session) or not policy.has_second_factor(request.user)


def _verified_now(request, device) -> None:
    otp_login(request, device)
    request.session.pop(policy.SECOND_FACTOR_PENDING, None)


@login_required
def mfa_verify(request):
    """The second step of a password sign-in: a code from the app, a recovery code, or a security key."""
    next_url = _next_url(request, settings.LOGIN_REDIRECT_URL)
    if policy.session_verified(request.session) or not request.session.get(policy.SECOND_FACTOR_PENDING):
        return redirect(next_url)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device, kind = services.second_factor_verify(user=request.user, code=form.cleaned_data["code"], request=request)
        if device is not None:
            _verified_now(request, device)
            second_factor_verified.send(sender=type(device), user=request.user, request=request, kind=kind)
            if kind == "recovery code":
                left = device.token_set.count()
                messages.warning(
                    request, f"You used a recovery code. You have {left} left; make new ones on Sign-in security."
                )
            return HttpResponseRedirect(next_url, status=303)
        second_factor_failed.send(sender=TOTPDevice, user=request.user, request=request)
        form.add_error(
            "code", "That code did not work. Codes change every 30 seconds: enter the one the app shows now."
        )
    keys = WebAuthnCredential.objects.filter(user=request.user, confirmed=True).exists()
    context = {"form": form, "next": next_url, "has_keys": keys}
    if keys:
        context["webauthn_config"] = get_configuration(request)
    return render(request, "accounts/mfa_verify.html", context, status=400 if form.errors else 200)


@login_required
def mfa_setup(request):
    """Sign-in security: the second factors of this account, and how to add one."""
    if not _settled(request):
        return redirect(f"{reverse('accounts:mfa_verify')}?next={request.path}")
    user = request.user
    recovery = policy.recovery_device(user)
    context = {
        "apps": TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk"),
        "keys": WebAuthnCredential.objects.filter(user=user, confirmed=True).order_by("pk"),
        "recovery_left": recovery.token_set.count() if recovery else 0,
        "must_enrol": request.session.get(policy.SECOND_FACTOR_PENDING) == policy.ENROL,
        "required": policy.second_factor_required(user),
        "webauthn_config": get_configuration(request),
        "next": _next_url(request, ""),
    }
    return render(request, "accounts/mfa_setup.html", context)


def _group(key: str) -> str:
    return " ".join(key[i : i + 4] for i in range(0, len(key), 4))


@login_required
def mfa_add_app(request):
    """Add an authenticator app: the key to type (or open), then a code from the app to prove it."""
    if not _settled(request):
        return redirect(f"{reverse('accounts:mfa_verify')}?next={request.path}")
    device = services.authenticator_app_start(user=request.user)
    form = AuthenticatorAppForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        confirmed = services.authenticator_app_confirm(
            user=request.user, name=form.cleaned_data["name"], code=form.cleaned_data["code"], request=request
        )
        if confirmed is not None:
            if not policy.session_verified(request.session):
                _verified_now(request, confirmed)
            messages.success(
                request, f"“{confirmed.name}” is set up. You will use it each time you sign in with your password."
            )
            return _after_adding(request)
        form.add_error(
            "code",
            "That code did not work. Check that the key is typed in full, then enter the code the app shows now.",
        )
    key = base64.b32encode(device.bin_key).decode()
    context = {"form": form, "key": _group(key), "config_url": device.config_url}
    return render(request, "accounts/mfa_add_app.html", context, status=400 if form.errors else 200)


def _after_adding(request):
    """After the first second factor: recovery codes, shown once."""
    if policy.recovery_device(request.user) is None:
        request.session[SHOW_CODES] = services.recovery_codes_replace(user=request.user, request=request)
        return redirect("accounts:mfa_recovery_codes")
    return redirect("accounts:mfa_setup")


@login_required
def mfa_added_key(request):
    """Where the page goes after a security key was added in the browser."""
    if not policy.session_verified(request.session):
        return redirect("accounts:mfa_verify")
    messages.success(request, "Your security key or passkey is set up.")
    return _after_adding(request)


@login_required
def mfa_recovery_codes(request):
    """New recovery codes are shown once, right after they are made."""
    if not policy.session_verified(request.session):
        return redirect(f"{reverse('accounts:mfa_verify')}?next={request.path}")
    if request.method == "POST":
        try:
            request.session[SHOW_CODES] = services.recovery_codes_replace(user=request.user, request=request)
        except PermissionDenied as exc:
            messages.error(request, str(exc))
            return redirect("accounts:mfa_setup")
        return redirect("accounts:mfa_recovery_codes")
    codes = request.session.pop(SHOW_CODES, None)
    recovery = policy.recovery_device(request.user)
    context = {"codes": codes, "left": recovery.token_set.count() if recovery else 0}
    return render(request, "accounts/mfa_recovery_codes.html", context)


@login_required
@require_POST
def mfa_remove(request):
    if not policy.session_verified(request.session):
        return redirect("accounts:mfa_verify")
    try:
        services.second_factor_remove(user=request.user, persistent_id=request.POST.get("device", ""), request=request)
    except PermissionDenied as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, "Removed.")
    return redirect("accounts:mfa_setup")
