"""Receivers of challenge_cards' events: they run inside the card or meeting service's transaction.

- cards issued to many agencies create or join an initiative;
- a carried-over card stays in its predecessor's initiative (the new card's first save);
- a meeting's close publishes its record (the close saves ``closed_at``).
"""

from __future__ import annotations

from django.db.models.signals import post_save
from django.dispatch import receiver

from challenge_cards import signals as card_signals
from challenge_cards.models import ChallengeCard, Meeting

from . import services


@receiver(card_signals.cards_issued, dispatch_uid="council.cards_issued")
def on_cards_issued(sender, cards, actor=None, **kwargs) -> None:
    services.initiative_join_issued(actor=actor, cards=list(cards))


@receiver(post_save, sender=ChallengeCard, dispatch_uid="council.card_carried_over")
def on_card_saved(sender, instance: ChallengeCard, created: bool = False, **kwargs) -> None:
    if created and instance.carried_over_from_id is not None:
        services.initiative_follow_carry_over(card=instance)


@receiver(card_signals.demo_seeded, dispatch_uid="council.demo_seeded")
def on_demo_seeded(sender, admin, meetings, **kwargs) -> None:
    from . import demo

    demo.seed(admin=admin, meetings=list(meetings))


@receiver(post_save, sender=Meeting, dispatch_uid="council.meeting_closed")
def on_meeting_saved(sender, instance: Meeting, created: bool = False, update_fields=None, **kwargs) -> None:
    if instance.closed_at is not None and update_fields is not None and "closed_at" in update_fields:
        services.record_publish(actor=None, meeting=instance)
