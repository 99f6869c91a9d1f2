from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = "Notifications"

    def ready(self) -> None:
        # Connect to the domain signals that challenge_cards.services send inside their transactions.
        # receivers_council after receivers: see its docstring.
        from . import receivers, receivers_council  # noqa: F401
