from django.apps import AppConfig


class ChallengeCardsConfig(AppConfig):
    name = "challenge_cards"
    verbose_name = "Challenge cards"
