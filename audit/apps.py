from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "audit"
    verbose_name = "Audit log"

    def ready(self) -> None:
        from . import changes, receivers, receivers_council  # noqa: F401  (connect the sign-in and domain receivers)

        changes.connect()  # before and after values of memberships, roles, agencies, reminder rules, webhooks
