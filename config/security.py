"""Security headers (Content-Security-Policy and friends) and the session timeouts."""

from __future__ import annotations

import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SpectacularSwaggerSplitView

from audit.receivers import SEEN_AT, SIGNED_IN_AT

# Writing the last-seen time at most this often keeps most requests free of a session write.
SEEN_RESOLUTION_SECONDS = 60


class SecurityHeadersMiddleware:
    """Adds the CSP and Permissions-Policy headers unless the view set its own."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
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


class ApiDocsView(SpectacularSwaggerSplitView):
    """Swagger UI with its start-up script served as a file, so the site's script policy holds.

    The page template carries a three-rule inline <style>; styles alone are let inline on this page.
    """

    @extend_schema(exclude=True)
    def get(self, request, *args, **kwargs):
        response = super().get(request, *args, **kwargs)
        if settings.CONTENT_SECURITY_POLICY:
            response["Content-Security-Policy"] = settings.CONTENT_SECURITY_POLICY.replace(
                "style-src 'self'", "style-src 'self' 'unsafe-inline'"
            )
        return response
