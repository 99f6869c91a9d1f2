"""Receivers of challenge_cards.signals: they run inside the service's transaction.

They only write rows (notifications, webhook deliveries); sending happens after commit.
"""

from __future__ import annotations

from django.dispatch import receiver

from challenge_cards import signals

from . import services


@receiver(signals.cards_issued, dispatch_uid="notifications.cards_issued")
def on_cards_issued(sender, cards, actor=None, **kwargs) -> None:
    services.cards_issued_notify(cards=list(cards))


@receiver(signals.card_carried_over, dispatch_uid="notifications.card_carried_over")
def on_card_carried_over(sender, card, predecessor, actor=None, **kwargs) -> None:
    services.card_carried_over_notify(card=card, predecessor=predecessor)


@receiver(signals.card_updated, dispatch_uid="notifications.card_updated")
def on_card_updated(sender, update, actor=None, **kwargs) -> None:
    services.card_updated_notify(update=update, actor=actor)


@receiver(signals.card_reviewed, dispatch_uid="notifications.card_reviewed")
def on_card_reviewed(sender, update, card=None, actor=None, **kwargs) -> None:
    services.card_reviewed_notify(update=update)


@receiver(signals.action_changed, dispatch_uid="notifications.action_changed")
def on_action_changed(sender, action, update, actor=None, **kwargs) -> None:
    services.action_changed_notify(action=action, update=update)


@receiver(signals.meeting_changed, dispatch_uid="notifications.meeting_changed")
def on_meeting_changed(sender, meeting, actor=None, changes=None, **kwargs) -> None:
    services.meeting_moved_notify(meeting=meeting, changes=changes or {})


@receiver(signals.meeting_cancelled, dispatch_uid="notifications.meeting_cancelled")
def on_meeting_cancelled(sender, meeting, actor=None, **kwargs) -> None:
    services.meeting_cancelled_notify(meeting=meeting)
