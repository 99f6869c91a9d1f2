"""API requests with a bearer token pass the browser's middleware by: sessions, CSRF, messages, sign-in policy.

Such a request is authenticated by its token alone: agencies' BearerTokenAuthentication takes any
`Authorization: Bearer ...` header and answers 401 for a bad token, so DRF never falls back to the session. The
browser middleware did nothing for it but cost time (about 8% of a card detail's CPU, measured in-process) and
could act on a session cookie the tool happened to send: read the session, refresh its idle timer, sign it out,
or refuse the request for a second factor the token does not need. Now a bearer request's session is not even
read; requests without a bearer token (pages, the API used from a signed-in browser) go through all of it.

In MIDDLEWARE each run of browser-only middleware sits between a BrowserOnlyStart and a BrowserOnlyEnd. Django
builds the chain from the inside out, so each End is made just before its Start and hands it the rest of the
chain (a stack per thread pairs them, several runs nested or in a row). The hooks Django collects from the
middleware in a run (CSRF's process_view) still run for the view: DRF's views are CSRF-exempt.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from rest_framework.authentication import get_authorization_header

_made = threading.local()


def is_bearer_api_request(request) -> bool:
    """An API path with an `Authorization: Bearer ...` header (the scheme in any case, as the API reads it)."""
    if not request.path_info.startswith(getattr(settings, "API_PATH_PREFIX", "/api/")):
        return False
    scheme = get_authorization_header(request).split()  # as BearerTokenAuthentication splits it
    return bool(scheme) and scheme[0].lower() == b"bearer"


class BrowserOnlyEnd:
    """Ends a run of browser-only middleware (see the module's docstring)."""

    def __init__(self, get_response: Callable) -> None:
        self.get_response = get_response
        if not hasattr(_made, "ends"):
            _made.ends = []
        _made.ends.append(get_response)

    def __call__(self, request):
        return self.get_response(request)


class BrowserOnlyStart:
    """Starts a run of browser-only middleware: a bearer API request goes straight past its BrowserOnlyEnd."""

    def __init__(self, get_response: Callable) -> None:
        ends = getattr(_made, "ends", None)
        if not ends:
            raise ImproperlyConfigured("Each BrowserOnlyStart in MIDDLEWARE needs a BrowserOnlyEnd after it.")
        self.get_response = get_response
        self.past_the_browser: Callable = ends.pop()

    def __call__(self, request):
        if is_bearer_api_request(request):
            return self.past_the_browser(request)
        return self.get_response(request)
