"""What the audit middleware knows about the request being served, for receivers deeper down."""

from __future__ import annotations

import ipaddress
import re
import uuid
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings

_current: ContextVar[RequestAudit | None] = ContextVar("audit_request", default=None)


@dataclass
class RequestAudit:
    request_id: str
    object_type: str = ""
    object_id: str = ""
    on_behalf_of_id: int | None = None
    events: list[str] = field(default_factory=list)
    # Set when a sign-in or sign-out row already tells the story of this request.
    recorded: bool = False
    # The status of the answer whose row was written inside the change's transaction (middleware.request_audited).
    answered: int | None = None
    # The request itself, for rows written deeper down (before and after values of a change).
    request: Any = field(default=None, repr=False)


def current() -> RequestAudit | None:
    return _current.get()


def client_ip(request) -> str | None:
    """The client's address: REMOTE_ADDR, or the one our trusted proxies put in X-Forwarded-For."""
    address = request.META.get("REMOTE_ADDR") or ""
    proxies = getattr(settings, "TRUSTED_PROXY_COUNT", 0)
    if proxies:
        forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
        if len(forwarded) >= proxies:
            address = forwarded[-proxies]
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        return None


# Letters and digits (str.isalnum, as \w: any script's), '-', '_' and '.': at most 64 of them.
_SANE_ID = re.compile(r"[\w.-]{1,64}")


def request_id_for(request) -> str:
    """The proxy's X-Request-ID when it is sane, so logs on both sides line up; a new one otherwise.

    Read from META: request.headers would parse every header of every request for this one.
    """
    given = request.META.get("HTTP_X_REQUEST_ID", "")
    if given and _SANE_ID.fullmatch(given):
        return given
    return uuid.uuid4().hex
