"""Signed webhook requests to agency tools, sent only to public HTTPS addresses.

Signatures: the Standard Webhooks scheme (https://www.standardwebhooks.com), so a receiver can check
them with an off-the-shelf library: ``webhook-id``, ``webhook-timestamp`` and ``webhook-signature:
v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<body>">``, keyed with the subscription's secret; the key
in Standard Webhooks form is ``standard_secret(secret)`` ("whsec_" + base64), shown in the admin.
For one release every request also carries the old headers, ``X-Challenge-Cards-Timestamp`` and
``X-Challenge-Cards-Signature: sha256=<hex>`` (the HMAC-SHA256 of ``"<timestamp>.<body>"``).

Addresses: a subscription's URL must be https (http only with WEBHOOK_ALLOW_HTTP, for local testing)
and not name a loopback, private, link-local, multicast or reserved address (url_problem, checked when
it is saved). At send time the host name is resolved once, every address it gives is checked the same
way, and the request connects to a checked address (the Host header and TLS name stay the host name),
so DNS that changes its answer between the check and the connection (rebinding) gains nothing.
Redirects are not followed. A refused address fails the delivery at once, its reason in the log.
WEBHOOK_ALLOW_PRIVATE_ADDRESSES lets local tests send to 127.0.0.1.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import hmac
import http.client
import ipaddress
import json
import socket
import ssl
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from standardwebhooks.webhooks import Webhook

SIGNATURE_HEADER = "X-Challenge-Cards-Signature"
TIMESTAMP_HEADER = "X-Challenge-Cards-Timestamp"
EVENT_HEADER = "X-Challenge-Cards-Event"
DELIVERY_HEADER = "X-Challenge-Cards-Delivery"
TIMEOUT_SECONDS = 10
# The receiver's answer is read up to this much, then dropped: only its status matters.
MAX_ANSWER_BYTES = 64 * 1024


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


def standard_secret(secret: str) -> str:
    """The subscription's secret as a Standard Webhooks key: "whsec_" + base64 of its bytes."""
    return "whsec_" + base64.b64encode(secret.encode()).decode()


def standard_signature(secret: str, *, message_id: str, timestamp: int, body: bytes) -> str:
    moment = datetime.datetime.fromtimestamp(timestamp, tz=datetime.UTC)
    return Webhook(secret.encode()).sign(message_id, moment, body.decode())


# --- where a webhook may go ---------------------------------------------------------------------


def is_public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """A globally routable unicast address: not loopback, private, link-local, multicast, reserved or unspecified."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        else:  # 6to4 and Teredo carry an IPv4 address a host with such routing would reach
            for carried in (address.sixtofour, *(address.teredo or ())):
                if carried is not None and not is_public(carried):
                    return False
    return address.is_global and not (
        address.is_multicast
        or address.is_reserved
        or address.is_link_local
        or address.is_loopback
        or address.is_private
        or address.is_unspecified
    )


def _allowed(address: str) -> bool:
    if settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES:
        return True
    try:
        return is_public(ipaddress.ip_address(address.split("%", 1)[0]))
    except ValueError:
        return False


def _host_problem(host: str) -> str | None:
    host = host.rstrip(".").lower()
    if settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES:
        return None
    if host == "localhost" or host.endswith(".localhost"):
        return f"{host} is this computer, not a public address."
    try:
        ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return None  # a name: its addresses are checked when a webhook is sent
    if not _allowed(host):
        return f"{host} is not a public address (loopback, private, link-local, multicast or reserved)."
    return None


def url_problem(url: str) -> str | None:
    """Why this URL may not receive webhooks, in plain words; None when it may."""
    parts = urlsplit(url)
    schemes = ("https", "http") if settings.WEBHOOK_ALLOW_HTTP else ("https",)
    if parts.scheme.lower() not in schemes:
        return "Use an https:// address." if len(schemes) == 1 else "Use an https:// or http:// address."
    if not parts.hostname:
        return "Give the receiver's host name."
    if parts.username or parts.password:
        return "Leave user names and passwords out of the address."
    try:
        _port = parts.port
    except ValueError:
        return "Give a port from 1 to 65535."
    return _host_problem(parts.hostname)


class AddressRefused(Exception):
    """The host name gave an address webhooks are not sent to."""


def public_addresses(host: str, port: int) -> list[str]:
    """The host's addresses, every one checked; AddressRefused names the first that is not public."""
    found = [str(info[4][0]) for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)]
    for address in found:
        if not _allowed(address):
            raise AddressRefused(f"{host} resolves to {address}, which is not a public address.")
    if not found:
        raise OSError(f"{host} has no address.")
    return list(dict.fromkeys(found))


class _PinnedConnection(http.client.HTTPConnection):
    """HTTP to an address already checked; the Host header is still the host name."""

    def __init__(self, host: str, port: int, *, addresses: list[str], timeout: float):
        super().__init__(host, port, timeout=timeout)
        self.addresses = addresses

    def _open(self) -> socket.socket:
        error: OSError = OSError("no address to connect to")
        for address in self.addresses:
            try:
                return socket.create_connection((address, self.port), self.timeout)
            except OSError as failed:
                error = failed
        raise error

    def connect(self) -> None:
        self.sock = self._open()


class _PinnedHTTPSConnection(_PinnedConnection):
    """HTTPS to an address already checked; SNI and the certificate check use the host name."""

    default_port = http.client.HTTPS_PORT

    def connect(self) -> None:
        context = ssl.create_default_context()
        self.sock = context.wrap_socket(self._open(), server_hostname=self.host)


@dataclass(frozen=True)
class Response:
    ok: bool
    status: int | None
    error: str = ""
    # The address is refused: retrying cannot help, the delivery fails at once.
    permanent: bool = False


def _headers(*, secret: str, event_type: str, delivery_id: int, body: bytes) -> dict[str, str]:
    timestamp = int(time.time())
    message_id = f"msg_{delivery_id}"
    return {
        "Content-Type": "application/json",
        "User-Agent": "ChallengeCards-Webhooks/1",
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": standard_signature(secret, message_id=message_id, timestamp=timestamp, body=body),
        EVENT_HEADER: event_type,
        DELIVERY_HEADER: str(delivery_id),
        TIMESTAMP_HEADER: str(timestamp),  # the old scheme, kept for one release
        SIGNATURE_HEADER: sign(secret, timestamp, body),
    }


def post(*, url: str, secret: str, event_type: str, delivery_id: int, payload: dict[str, Any]) -> Response:
    """POST the payload, signed, to a checked public address; any 2xx is success. A refused address is a
    permanent failure; anything else (no answer, a 3xx, 4xx or 5xx) a failure to retry."""
    problem = url_problem(url)
    if problem:
        return Response(ok=False, status=None, error=f"Refused: {problem} Not sent.", permanent=True)
    parts = urlsplit(url)
    https = parts.scheme.lower() == "https"
    host = parts.hostname or ""
    port = parts.port or (http.client.HTTPS_PORT if https else http.client.HTTP_PORT)
    try:
        addresses = public_addresses(host, port)
    except AddressRefused as refused:
        return Response(ok=False, status=None, error=f"Refused: {refused} Not sent.", permanent=True)
    except OSError as error:
        return Response(ok=False, status=None, error=f"{host}: {error}")
    body = body_of(payload)
    connection_class = _PinnedHTTPSConnection if https else _PinnedConnection
    connection = connection_class(host, port, addresses=addresses, timeout=TIMEOUT_SECONDS)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        connection.request(
            "POST",
            target,
            body=body,
            headers=_headers(secret=secret, event_type=event_type, delivery_id=delivery_id, body=body),
        )
        answer = connection.getresponse()
        answer.read(MAX_ANSWER_BYTES)
    except (OSError, http.client.HTTPException) as error:
        return Response(ok=False, status=None, error=str(error) or type(error).__name__)
    finally:
        connection.close()
    if 200 <= answer.status < 300:
        return Response(ok=True, status=answer.status)
    if 300 <= answer.status < 400:
        return Response(
            ok=False,
            status=answer.status,
            error=f"HTTP {answer.status}: redirects are not followed; give the final address.",
        )
    return Response(ok=False, status=answer.status, error=f"HTTP {answer.status} {answer.reason}")
