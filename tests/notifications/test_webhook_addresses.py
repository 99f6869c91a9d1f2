"""Webhooks go only to public HTTPS addresses, never follow redirects, and carry Standard Webhooks signatures
(issue 16, failures 4 and 5).

Production's rules: WEBHOOK_ALLOW_HTTP and WEBHOOK_ALLOW_PRIVATE_ADDRESSES off (the other delivery tests
turn them on for their receivers on 127.0.0.1; the redirect and signature tests here do too, and point
a public-looking host name at their receiver).
"""

from __future__ import annotations

import http.server
import socket
import ssl
import threading

import pytest
from django.core.exceptions import ValidationError
from standardwebhooks.webhooks import Webhook

from notifications import services, webhooks
from notifications.models import EventType, WebhookDelivery, WebhookSubscription
from tests import factories

HOST = "hooks.treasury.example.gov"
PUBLIC = "93.184.216.34"

NOT_PUBLIC = [
    "127.0.0.1",  # loopback
    "169.254.169.254",  # link-local: cloud metadata
    "10.0.0.8",
    "172.16.3.4",
    "192.168.1.1",  # private
    "100.64.0.1",  # shared (carrier-grade NAT)
    "0.0.0.0",  # unspecified
    "224.0.0.1",  # multicast
    "240.0.0.1",  # reserved
    "::1",
    "fe80::1",
    "fd00::1",
    "ff02::1",
    "::ffff:127.0.0.1",  # IPv4-mapped loopback
    "::ffff:169.254.169.254",
    "2002:7f00:1::",  # 6to4 carrying 127.0.0.1
    "2002:a9fe:a9fe::1",  # 6to4 carrying the cloud metadata address
    "2001:0:4136:e378:8000:63bf:80ff:fefe",  # Teredo whose client is 127.0.0.1 (bits inverted)
]


@pytest.fixture(autouse=True)
def production_rules(settings):
    settings.WEBHOOK_ALLOW_HTTP = settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = False


def _literal(address: str) -> str:
    return f"[{address}]" if ":" in address else address


def _subscription(agency, url: str) -> WebhookSubscription:
    return WebhookSubscription.objects.create(agency=agency, event_type=EventType.CARD_UPDATED, url=url)


def _delivery(subscription: WebhookSubscription) -> WebhookDelivery:
    return WebhookDelivery.objects.create(
        subscription=subscription, event_type=EventType.CARD_UPDATED, event_id="card.updated:1", payload={"id": 1}
    )


def _resolving_to(monkeypatch, *answers: str) -> list[str]:
    """socket.getaddrinfo answers each lookup with the next address (the last one repeats); returns the lookups."""
    lookups: list[str] = []

    def getaddrinfo(host, port, *args, **kwargs):
        lookups.append(host)
        address = answers[min(len(lookups), len(answers)) - 1]
        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        return [(family, socket.SOCK_STREAM, 6, "", (address, port))]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return lookups


# --- when saved -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "ftp://hooks.treasury.example.gov/events",
        "http://hooks.treasury.example.gov/events",
        "https://localhost/events",
        "https://tools.localhost/events",
        "https://user:secret@hooks.treasury.example.gov/events",
        *(f"https://{_literal(address)}/events" for address in NOT_PUBLIC),
    ],
)
def test_saving_refuses_an_address_that_is_not_public_https(agency, url):
    subscription = WebhookSubscription(agency=agency, event_type=EventType.CARD_UPDATED, url=url)
    with pytest.raises(ValidationError) as refused:
        subscription.full_clean()
    assert "url" in refused.value.message_dict


@pytest.mark.parametrize("url", [f"https://{HOST}/events", f"https://{PUBLIC}:8443/events?tool=1"])
def test_saving_accepts_a_public_https_address(agency, url):
    WebhookSubscription(agency=agency, event_type=EventType.CARD_UPDATED, url=url).full_clean()


def test_http_and_private_addresses_only_with_the_local_testing_settings(agency, settings):
    subscription = WebhookSubscription(agency=agency, event_type=EventType.CARD_UPDATED, url="http://127.0.0.1:9/h")
    settings.WEBHOOK_ALLOW_HTTP = True
    with pytest.raises(ValidationError):
        subscription.full_clean()  # http, but still loopback
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True
    subscription.full_clean()


@pytest.fixture
def superuser(db):
    return factories.UserFactory(username="root", is_superuser=True, is_staff=True)


def test_the_admin_refuses_a_metadata_address(client, superuser, agency):
    client.force_login(superuser)
    response = client.post(
        "/admin/notifications/webhooksubscription/add/",
        {
            "agency": agency.pk,
            "event_type": EventType.CARD_UPDATED,
            "url": "https://169.254.169.254/latest/meta-data/",
            "secret": "s" * 64,
            "active": "on",
            "created_at_0": "2026-11-30",
            "created_at_1": "10:00:00",
        },
    )
    assert response.status_code == 200
    assert "169.254.169.254 is not a public address" in response.content.decode()
    assert not WebhookSubscription.objects.exists()


# --- when sent --------------------------------------------------------------------------------------


@pytest.mark.parametrize("address", NOT_PUBLIC)
def test_a_name_that_resolves_to_an_address_that_is_not_public_is_refused_and_logged(agency, monkeypatch, address):
    _resolving_to(monkeypatch, address)

    def no_connection(*args, **kwargs):
        raise AssertionError("nothing may be sent to a refused address")

    monkeypatch.setattr(socket, "create_connection", no_connection)
    delivery = _delivery(_subscription(agency, f"https://{HOST}/events"))
    outcome = services.webhook_deliver(delivery_id=delivery.pk)
    assert outcome.status == WebhookDelivery.Status.FAILED  # at once: retrying cannot help
    delivery.refresh_from_db()
    assert delivery.attempts == 1 and delivery.response_status is None
    assert delivery.last_error == f"Refused: {HOST} resolves to {address}, which is not a public address. Not sent."


def test_a_subscription_saved_before_the_rules_is_refused_at_send_time(agency, monkeypatch):
    lookups = _resolving_to(monkeypatch, PUBLIC)
    delivery = _delivery(_subscription(agency, "ftp://169.254.169.254/latest"))  # objects.create skips clean()
    assert services.webhook_deliver(delivery_id=delivery.pk).status == WebhookDelivery.Status.FAILED
    delivery.refresh_from_db()
    assert delivery.last_error == "Refused: Use an https:// address. Not sent."
    assert lookups == []


def test_the_connection_goes_to_the_address_that_was_checked(agency, monkeypatch):
    """DNS rebinding: the name answers a public address for the check and loopback afterwards; the
    request still goes to the checked address, and the name is looked up once."""
    lookups = _resolving_to(monkeypatch, PUBLIC, "127.0.0.1")
    connected: list[tuple[str, int]] = []

    def create_connection(address, *args, **kwargs):
        connected.append(address)
        raise ConnectionRefusedError("test: no network")

    monkeypatch.setattr(socket, "create_connection", create_connection)
    delivery = _delivery(_subscription(agency, f"https://{HOST}/events"))
    assert services.webhook_deliver(delivery_id=delivery.pk).status == "retry"
    assert lookups == [HOST] and connected == [(PUBLIC, 443)]


def test_tls_names_the_host_not_the_address(monkeypatch):
    """SNI and the certificate check use the host name while the socket goes to the checked address."""
    server_names: list[str | None] = []

    def wrap_socket(self, sock, *args, server_hostname=None, **kwargs):
        server_names.append(server_hostname)
        sock.close()
        raise ssl.SSLCertVerificationError("test: stop here")

    monkeypatch.setattr(ssl.SSLContext, "wrap_socket", wrap_socket)
    monkeypatch.setattr(socket, "create_connection", lambda *a, **k: socket.socket())
    connection = webhooks._PinnedHTTPSConnection(HOST, 443, addresses=[PUBLIC], timeout=1)
    with pytest.raises(ssl.SSLError):
        connection.connect()
    assert server_names == [HOST]


class Tool(http.server.BaseHTTPRequestHandler):
    """An agency tool: records what it got and answers with the status (and Location) the test set."""

    requests: list[dict] = []
    status = 200
    location = ""

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).requests.append({"headers": dict(self.headers), "body": body})
        self.send_response(type(self).status)
        if type(self).location:
            self.send_header("Location", type(self).location)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


class Elsewhere(Tool):
    """Where a redirect points: an internal address the worker must never reach."""

    requests: list[dict] = []


def _serve(handler):
    handler.requests = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture
def tool(monkeypatch, settings):
    """The agency tool at http://hooks.treasury.example.gov:<port>/, which resolves to a public address;
    the test's network carries that address to the tool listening on 127.0.0.1."""
    settings.WEBHOOK_ALLOW_HTTP = True
    Tool.status, Tool.location = 200, ""
    server = _serve(Tool)
    _resolving_to(monkeypatch, PUBLIC)

    def create_connection(address, timeout=None, *args, **kwargs):
        assert address == (PUBLIC, server.server_port)
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.settimeout(timeout)
        sock.connect(("127.0.0.1", server.server_port))
        return sock

    monkeypatch.setattr(socket, "create_connection", create_connection)
    yield server
    server.shutdown()
    server.server_close()


def test_redirects_are_not_followed(agency, tool, settings):
    elsewhere = _serve(Elsewhere)
    try:
        Tool.status, Tool.location = 302, f"http://127.0.0.1:{elsewhere.server_port}/latest/meta-data/"
        delivery = _delivery(_subscription(agency, f"http://{HOST}:{tool.server_port}/events"))
        assert services.webhook_deliver(delivery_id=delivery.pk).status == "retry"
    finally:
        elsewhere.shutdown()
        elsewhere.server_close()
    assert len(Tool.requests) == 1 and Elsewhere.requests == []
    delivery.refresh_from_db()
    assert delivery.response_status == 302
    assert delivery.last_error == "HTTP 302: redirects are not followed; give the final address."


def test_requests_carry_standard_webhooks_headers_and_the_old_signature_for_one_release(agency, tool):
    subscription = _subscription(agency, f"http://{HOST}:{tool.server_port}/events")
    delivery = _delivery(subscription)
    assert services.webhook_deliver(delivery_id=delivery.pk).status == WebhookDelivery.Status.DELIVERED
    [request] = Tool.requests
    headers, body = request["headers"], request["body"]
    assert headers["Host"] == f"{HOST}:{tool.server_port}"
    assert headers["webhook-id"] == f"msg_{delivery.pk}"
    # What an agency tool does with an off-the-shelf Standard Webhooks library and the admin's secret:
    assert subscription.standard_webhooks_secret.startswith("whsec_")
    assert Webhook(subscription.standard_webhooks_secret).verify(body, headers) == {"id": 1}
    with pytest.raises(Exception, match="No matching signature"):
        Webhook(webhooks.standard_secret("another secret")).verify(body, headers)
    # The old scheme still verifies.
    assert webhooks.verify(
        subscription.secret,
        timestamp=headers[webhooks.TIMESTAMP_HEADER],
        signature=headers[webhooks.SIGNATURE_HEADER],
        body=body,
    )


def test_the_delivery_log_shows_the_refusal(client, superuser, agency, monkeypatch):
    _resolving_to(monkeypatch, "169.254.169.254")
    delivery = _delivery(_subscription(agency, f"https://{HOST}/events"))
    services.webhook_deliver(delivery_id=delivery.pk)
    client.force_login(superuser)
    page = client.get("/admin/notifications/webhookdelivery/").content.decode()
    assert f"Refused: {HOST} resolves to 169.254.169.254, which is not a public address. Not sent." in page
