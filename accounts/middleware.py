"""The sign-in policy on every request: no sign-in form before the system-use notice, and nothing but the
second-factor pages (and signing out) until a pending second factor is used or added."""

from __future__ import annotations

import functools
from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpResponseRedirect, JsonResponse
from django.urls import reverse
from django_otp.models import Device

from . import policy


@functools.cache
def _sign_in_paths() -> frozenset[str]:
    """Every way in: the sign-in page, the admin's sign-in page and the start of single sign-on."""
    return frozenset({reverse("login"), reverse("admin:login"), reverse("oidc_authentication_init")})


@functools.cache
def _open_while_pending() -> tuple[frozenset[str], tuple[str, ...]]:
    exact = frozenset(
        {reverse("logout"), reverse("accounts:notice"), *(reverse(name) for name in ("accessibility", "privacy"))}
        | {reverse("vulnerability_disclosure")}
    )
    return exact, ("/accounts/mfa/", settings.STATIC_URL)


def _with_next(url: str, request) -> str:
    return f"{url}?{urlencode({'next': request.get_full_path()})}" if request.method == "GET" else url


class SignInPolicyMiddleware:
    """Place after AuthenticationMiddleware (and the session timeouts)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path_info in _sign_in_paths() and not policy.notice_accepted(request.session):
            # A sign-in posted without the notice is not even read: back to the notice.
            return HttpResponseRedirect(_with_next(reverse("accounts:notice"), request), status=303)
        step = request.session.get(policy.SECOND_FACTOR_PENDING)
        if step and request.user.is_authenticated and not self._verified(request):
            exact, prefixes = _open_while_pending()
            if request.path_info not in exact and not request.path_info.startswith(prefixes):
                return self._second_factor_first(request, step)
        return self.get_response(request)

    @staticmethod
    def _verified(request) -> bool:
        """A device was used in this session (django-otp's key): checked once, then the pending mark goes."""
        persistent_id = request.session.get(policy.DEVICE_ID_SESSION_KEY)
        if not persistent_id:
            return False
        device = Device.from_persistent_id(persistent_id)
        if device is None or device.user_id != request.user.pk or not device.confirmed:
            del request.session[policy.DEVICE_ID_SESSION_KEY]
            return False
        request.session.pop(policy.SECOND_FACTOR_PENDING, None)
        return True

    @staticmethod
    def _second_factor_first(request, step: str):
        if request.path_info.startswith("/api/"):
            return JsonResponse(
                {
                    "type": "about:blank",
                    "title": "Second factor needed",
                    "status": 403,
                    "detail": "Finish signing in with your second factor in the browser first.",
                },
                status=403,
                content_type="application/problem+json",
            )
        target = reverse("accounts:mfa_setup" if step == policy.ENROL else "accounts:mfa_verify")
        return HttpResponseRedirect(_with_next(target, request), status=303)
