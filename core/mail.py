"""Django's SMTP mailer, with the certificate authority to verify the relay by (EMAIL_SSL_CAFILE); and an
e-mail whose repeated headers are parsed and folded once (BatchEmail).

Django's own backend verifies the relay's certificate against the system's authorities, and with a
client certificate (EMAIL_SSL_CERTFILE/KEYFILE) against none at all. An agency relay often has a
certificate from the agency's own authority: ``ssl_cafile`` names it, and the system's authorities
are trusted otherwise. Hostname checking and certificate verification always stay on.
"""

from __future__ import annotations

import email.policy
import functools
import secrets
import ssl
import sys
from email.headerregistry import HeaderRegistry
from email.policy import EmailPolicy
from functools import cached_property
from typing import Any

from django.core.mail import EmailMultiAlternatives
from django.core.mail.backends.smtp import EmailBackend


class SMTPBackend(EmailBackend):
    def __init__(self, *args, ssl_cafile: str | None = None, **kwargs) -> None:
        self.ssl_cafile = ssl_cafile
        super().__init__(*args, **kwargs)

    @cached_property
    def ssl_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(cafile=self.ssl_cafile)
        if self.ssl_certfile:  # a client certificate (its key in the same file or in ssl_keyfile)
            context.load_cert_chain(self.ssl_certfile, self.ssl_keyfile)
        return context


@functools.lru_cache(maxsize=256)
def _header(factory: Any, name: str, value: str) -> Any:
    return factory(name, value)


class _KeptClasses(HeaderRegistry):
    """The policy's header registry, making each header's class once (the standard one makes one per header)."""

    def __init__(self, source: HeaderRegistry) -> None:
        super().__init__(source.base_class, source.default_class, use_default_map=False)
        self.registry.update(source.registry)
        self._classes: dict[str, type] = {}

    def map_to_type(self, name: str, cls: type) -> None:
        super().map_to_type(name, cls)
        self._classes.clear()

    def __getitem__(self, name: str) -> type:
        key = name.lower()
        if key not in self._classes:
            self._classes[key] = super().__getitem__(name)
        return self._classes[key]


class _KeptHeaders(EmailPolicy):
    """An EmailPolicy that keeps the headers it parsed and how it folded them.

    Parsing a header and folding it for the wire is most of what the email package spends on a message, and
    a batch of notifications repeats most of them (From, Subject, each part's Content-Type and encoding). A
    header object is immutable (a change replaces it), so a parsed one is shared; its folded form is kept on
    it, for this policy. The bytes are the standard policy's (tests/core/test_mail.py).
    """

    def header_store_parse(self, name: str, value: Any) -> tuple[str, Any]:
        if type(value) is str and len(value.splitlines()) <= 1:  # more lines: refused by the standard policy
            return (name, _header(self.header_factory, name, value))
        return super().header_store_parse(name, value)

    def _fold(self, name: str, value: Any, refold_binary: bool = False) -> Any:
        if not hasattr(value, "name"):  # a source value, not a header object
            return super()._fold(name, value, refold_binary)  # type: ignore[misc]  # private in typeshed
        # A header object's folding depends on it and the policy's settings only. The generator folds a part's
        # headers with a clone of the policy (its line separator set again): equal settings, another object.
        settings = tuple(vars(self).items())
        kept = getattr(value, "_folded", None)
        if kept is not None and kept[0] == settings:
            return kept[1]
        folded = super()._fold(name, value, refold_binary)  # type: ignore[misc]
        value._folded = (settings, folded)
        return folded


@functools.cache
def kept_headers(policy: EmailPolicy) -> EmailPolicy:
    """The policy, keeping its parsed and folded headers (one per policy, so the kept foldings are reused)."""
    factory: Any = policy.header_factory
    classes = _KeptClasses(factory) if isinstance(factory, HeaderRegistry) else factory
    return _KeptHeaders(**{**vars(policy), "header_factory": classes})


# This process's MIME boundaries, in the email package's form. The package draws one for each multipart when it
# writes a message, compiles a pattern to check that no line of the text is that boundary, and so parses and
# folds a Content-Type header unlike any before: for each message, a third of what writing it costs.
BOUNDARIES = tuple(f"{'=' * 15}{secrets.randbelow(sys.maxsize):019d}==" for _ in range(3))


class BatchEmail(EmailMultiAlternatives):
    """An e-mail of a batch of similar ones: built with kept_headers() of the policy the mailer asks for, and
    the process's BOUNDARIES unless a part's text holds one (then the email package draws them, as usual)."""

    def message(self, *, policy: Any = email.policy.default) -> Any:
        if not isinstance(policy, EmailPolicy):  # compat32: Django's own way
            return super().message(policy=policy)
        msg = super().message(policy=kept_headers(policy))
        parts = list(msg.walk())
        multiparts = [part for part in parts if part.get_content_maintype() == "multipart"]
        texts = [part.get_payload() for part in parts if part.get_content_maintype() != "multipart"]
        # A text holds a boundary only if it holds it as written: qp and base64 never write "==" inside a line.
        if (
            len(multiparts) <= len(BOUNDARIES)
            and all(isinstance(text, str) for text in texts)
            and not any(boundary in text for boundary in BOUNDARIES for text in texts)
        ):
            for part, boundary in zip(multiparts, BOUNDARIES, strict=False):
                part.set_boundary(boundary)
        return msg
