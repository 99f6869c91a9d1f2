from django.apps import AppConfig


class CoreConfig(AppConfig):
    """Shared code that imports no app; a Django app only for its one model and its tasks."""

    name = "core"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from core.security import stamp_sign_in

        user_logged_in.connect(stamp_sign_in, dispatch_uid="core_stamp_sign_in")

        from core.logs import connect_celery_signals
        from core.sentry import init_sentry

        connect_celery_signals()  # the request id travels into Celery tasks' log lines
        init_sentry()  # nothing unless SENTRY_DSN is set
