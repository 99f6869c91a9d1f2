from django.apps import AppConfig


class CouncilConfig(AppConfig):
    """What the council does together: government-wide initiatives, the conversation on a card, the meeting's record."""

    name = "council"
    verbose_name = "Council"

    def ready(self) -> None:
        # Listens to challenge_cards' domain signals (cards issued, carried over, a meeting closed, the demo seeded).
        from . import receivers  # noqa: F401
