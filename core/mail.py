"""Django's SMTP mailer, with the certificate authority to verify the relay by (EMAIL_SSL_CAFILE).

Django's own backend verifies the relay's certificate against the system's authorities, and with a
client certificate (EMAIL_SSL_CERTFILE/KEYFILE) against none at all. An agency relay often has a
certificate from the agency's own authority: ``ssl_cafile`` names it, and the system's authorities
are trusted otherwise. Hostname checking and certificate verification always stay on.
"""

from __future__ import annotations

import ssl
from functools import cached_property

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
