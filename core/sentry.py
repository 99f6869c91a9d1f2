"""Optional error reporting to Sentry (or a Sentry-compatible service such as GlitchTip).

Off unless SENTRY_DSN is set: then the SDK is never initialised and sends nothing. When on, it reports
unhandled errors of the web and the Celery workers, with no personal data (no user names, addresses,
cookies or request bodies) (send_default_pii stays off).
"""

from __future__ import annotations

from django.conf import settings


def init_sentry() -> bool:
    """Called from CoreConfig.ready (web, worker and beat alike); True when reporting is on."""
    dsn = getattr(settings, "SENTRY_DSN", "")
    if not dsn:
        return False
    import sentry_sdk
    from sentry_sdk.integrations.celery import CeleryIntegration
    from sentry_sdk.integrations.django import DjangoIntegration

    sentry_sdk.init(
        dsn=dsn,
        environment=settings.SENTRY_ENVIRONMENT or None,
        traces_sample_rate=settings.SENTRY_TRACES_SAMPLE_RATE,
        send_default_pii=False,
        integrations=[DjangoIntegration(), CeleryIntegration()],
    )
    return True
