from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = "Notifications"

    def ready(self) -> None:
        # Connect to the domain signals that challenge_cards.services send inside their transactions.
        from . import receivers  # noqa: F401
