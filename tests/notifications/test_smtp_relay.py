"""E-mail through a real relay that requires STARTTLS and AUTH (a local aiosmtpd server with its own certificate).

The mailer's options are the ones config/settings/base.py builds from EMAIL_USE_TLS, EMAIL_HOST_USER,
EMAIL_HOST_PASSWORD and EMAIL_SSL_CAFILE (tests/test_settings.py pins that mapping); the messages go
through notifications.emails.send, the code the workers run.
"""

from __future__ import annotations

import datetime
import ipaddress
import smtplib
import ssl
import threading
from email import message_from_bytes
from email.policy import default as default_policy

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from django.core.mail import EmailMultiAlternatives

from notifications import emails
from notifications.testing import free_port

USER, PASSWORD = "cc-relay-user", "a-relay-password"


def _self_signed(folder) -> tuple[str, str]:
    """A certificate for 127.0.0.1 and localhost, and its key, as PEM files."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "relay.test")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.IPv4Address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "relay.pem", folder / "relay.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return str(cert_path), str(key_path)


class Relay:
    """Keeps each accepted message with whether it came over TLS and from whom."""

    def __init__(self) -> None:
        self.accepted: list[dict] = []
        self._lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        with self._lock:
            self.accepted.append(
                {
                    "tls": session.ssl is not None,
                    "user": session.auth_data.login.decode() if session.authenticated else None,
                    "message": message_from_bytes(envelope.content, policy=default_policy),
                }
            )
        return "250 2.0.0 Message accepted"


def _authenticate(server, session, envelope, mechanism, auth_data) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
        USER.encode(),
        PASSWORD.encode(),
    )
    return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)


@pytest.fixture
def relay(tmp_path):
    cert, key = _self_signed(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    handler = Relay()
    controller = Controller(
        handler,
        hostname="127.0.0.1",
        port=free_port(),
        tls_context=context,
        require_starttls=True,  # nothing but EHLO, STARTTLS and QUIT before TLS
        auth_required=True,  # no MAIL FROM before AUTH
        auth_require_tls=True,  # AUTH is not even offered before TLS
        authenticator=_authenticate,
    )
    controller.start()
    handler.port = controller.port
    handler.cafile = cert
    yield handler
    emails._close(f"127.0.0.1:{controller.port}")
    controller.stop()


def _use(settings, relay, **options) -> None:
    settings.MAILERS = {
        "default": {
            "BACKEND": "core.mail.SMTPBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": relay.port, "timeout": 5, **options},
        }
    }


def _message(subject: str = "Reminder: PMC meeting") -> EmailMultiAlternatives:
    return EmailMultiAlternatives(
        subject=subject,
        body="Your cards are due.",
        from_email="no-reply@challenge-cards.example.gov",
        to=["deputy@agency.example.gov"],
        headers={"Message-ID": "<notification-1.meeting_reminder@challenge-cards.omb.gov>"},
    )


def test_a_relay_that_requires_starttls_and_auth_takes_the_mail(settings, relay):
    _use(settings, relay, use_tls=True, username=USER, password=PASSWORD, ssl_cafile=relay.cafile)
    emails.send(_message("first"))
    emails.send(_message("second"))  # on the same kept connection
    assert [(m["tls"], m["user"], m["message"]["Subject"]) for m in relay.accepted] == [
        (True, USER, "first"),
        (True, USER, "second"),
    ]
    message = relay.accepted[0]["message"]
    assert message["Message-ID"] == "<notification-1.meeting_reminder@challenge-cards.omb.gov>"


def test_without_starttls_the_relay_refuses(settings, relay):
    _use(settings, relay, username=USER, password=PASSWORD)
    with pytest.raises(smtplib.SMTPNotSupportedError):  # AUTH is not offered in the clear
        emails.send(_message())
    _use(settings, relay)
    with pytest.raises(smtplib.SMTPSenderRefused, match="STARTTLS"):
        emails.send(_message())
    assert relay.accepted == []


def test_without_credentials_or_with_a_wrong_password_the_relay_refuses(settings, relay):
    _use(settings, relay, use_tls=True, ssl_cafile=relay.cafile)
    with pytest.raises(smtplib.SMTPSenderRefused) as refused:
        emails.send(_message())
    assert refused.value.smtp_code == 530
    _use(settings, relay, use_tls=True, username=USER, password="not-the-password", ssl_cafile=relay.cafile)
    with pytest.raises(smtplib.SMTPAuthenticationError):
        emails.send(_message())
    assert relay.accepted == []


def test_the_relays_certificate_is_verified(settings, relay):
    # Without the authority that signed it (EMAIL_SSL_CAFILE), the self-signed certificate is refused.
    _use(settings, relay, use_tls=True, username=USER, password=PASSWORD)
    with pytest.raises(ssl.SSLCertVerificationError):
        emails.send(_message())
    assert relay.accepted == []
