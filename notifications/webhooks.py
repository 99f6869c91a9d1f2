"""Signed webhook requests to agency tools.

Each request carries ``X-Challenge-Cards-Timestamp`` (Unix seconds) and
``X-Challenge-Cards-Signature: sha256=<hex>``, the HMAC-SHA256 of ``"<timestamp>.<body>"``
with the subscription's secret. Receivers recompute it and refuse old timestamps.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

SIGNATURE_HEADER = "X-Challenge-Cards-Signature"
TIMESTAMP_HEADER = "X-Challenge-Cards-Timestamp"
EVENT_HEADER = "X-Challenge-Cards-Event"
DELIVERY_HEADER = "X-Challenge-Cards-Delivery"
TIMEOUT_SECONDS = 10


def body_of(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str).encode()


def sign(secret: str, timestamp: int | str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def verify(secret: str, *, timestamp: str, signature: str, body: bytes, tolerance: int = 300) -> bool:
    """What an agency tool does with a request: check the signature and that it is recent."""
    try:
        age = abs(time.time() - int(timestamp))
    except (TypeError, ValueError):
        return False
    return age <= tolerance and hmac.compare_digest(sign(secret, timestamp, body), signature or "")


@dataclass(frozen=True)
class Response:
    ok: bool
    status: int | None
    error: str = ""


def post(*, url: str, secret: str, event_type: str, delivery_id: int, payload: dict[str, Any]) -> Response:
    """POST the payload, signed; any 2xx is success, anything else (or no answer) a failure to retry."""
    body = body_of(payload)
    timestamp = str(int(time.time()))
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": "ChallengeCards-Webhooks/1",
            EVENT_HEADER: event_type,
            DELIVERY_HEADER: str(delivery_id),
            TIMESTAMP_HEADER: timestamp,
            SIGNATURE_HEADER: sign(secret, timestamp, body),
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as answer:
            return Response(ok=200 <= answer.status < 300, status=answer.status)
    except urllib.error.HTTPError as error:
        return Response(ok=False, status=error.code, error=f"HTTP {error.code} {error.reason}")
    except (urllib.error.URLError, OSError) as error:
        return Response(ok=False, status=None, error=str(getattr(error, "reason", error)))
