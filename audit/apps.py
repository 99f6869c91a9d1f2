from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "audit"
    verbose_name = "Audit log"

    def ready(self) -> None:
        from . import changes, receivers  # noqa: F401  (connects the sign-in and domain signal receivers)

        changes.connect()  # before and after values of memberships, roles, agencies, reminder rules, webhooks
