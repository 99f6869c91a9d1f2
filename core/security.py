"""Security headers (Content-Security-Policy and friends) and the session timeouts."""

from __future__ import annotations

import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout

# Session keys for the inactivity and absolute timeouts, stamped at sign-in (CoreConfig.ready).
SIGNED_IN_AT = "cc_signed_in_at"
SEEN_AT = "cc_seen_at"

# Writing the last-seen time at most this often keeps most requests free of a session write.
SEEN_RESOLUTION_SECONDS = 60


NO_STORE = "no-store, private"


def must_not_be_stored(request) -> bool:
    """A response for a signed-in user, or any API response: no browser or proxy may keep a copy.

    Static files (STATIC_URL, served by WhiteNoise with their long caching) are left alone.
    """
    path = request.path
    if settings.STATIC_URL and path.startswith(settings.STATIC_URL):
        return False
    if any(path.startswith(prefix) for prefix in getattr(settings, "NO_STORE_PATH_PREFIXES", ("/api/",))):
        return True
    user = getattr(request, "user", None)
    return bool(user is not None and user.is_authenticated)


class SecurityHeadersMiddleware:
    """Adds the CSP and Permissions-Policy headers unless the view set its own, and
    `Cache-Control: no-store, private` on every response for a signed-in user and every API response
    (a shared computer's browser must not keep an agency's cards)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if must_not_be_stored(request):
            response["Cache-Control"] = NO_STORE
            response.headers.pop("Expires", None)
        if settings.CONTENT_SECURITY_POLICY and "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = settings.CONTENT_SECURITY_POLICY
        if settings.PERMISSIONS_POLICY:
            response.setdefault("Permissions-Policy", settings.PERMISSIONS_POLICY)
        response.setdefault("Cross-Origin-Resource-Policy", "same-origin")
        return response


class SessionTimeoutMiddleware:
    """Signs a browser session out after SESSION_IDLE_MINUTES without a request, or SESSION_MAX_HOURS in all.

    Place after AuthenticationMiddleware and MessageMiddleware. SESSION_COOKIE_AGE is the absolute
    lifetime, so the cookie and the stored session never outlive it; idleness is judged here.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            self._check(request)
        return self.get_response(request)

    def _check(self, request) -> None:
        session = request.session
        now = time.time()
        signed_in_at = session.get(SIGNED_IN_AT)
        seen_at = session.get(SEEN_AT)
        if signed_in_at is None or seen_at is None:
            session[SIGNED_IN_AT] = signed_in_at or now
            session[SEEN_AT] = now
            return
        idle = settings.SESSION_IDLE_MINUTES * 60
        if now - seen_at > idle:
            self._sign_out(
                request,
                "idle",
                f"You were signed out after {settings.SESSION_IDLE_MINUTES} minutes without activity. Sign in again.",
            )
        elif now - signed_in_at > settings.SESSION_MAX_HOURS * 3600:
            self._sign_out(
                request,
                "lifetime",
                f"You were signed out because sessions last at most {settings.SESSION_MAX_HOURS} hours. Sign in again.",
            )
        elif now - seen_at >= SEEN_RESOLUTION_SECONDS:
            session[SEEN_AT] = now

    @staticmethod
    def _sign_out(request, reason: str, message: str) -> None:
        request.signed_out_because = reason
        logout(request)
        messages.info(request, message)


def stamp_sign_in(sender, request, user, **kwargs) -> None:
    """user_logged_in: the session's clock for both timeouts starts now."""
    if request is not None and hasattr(request, "session"):
        now = time.time()
        request.session[SIGNED_IN_AT] = now
        request.session[SEEN_AT] = now
