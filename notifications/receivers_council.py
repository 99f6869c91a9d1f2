"""Receivers of the council's events and of the meeting's schedule for calendar invitations.

Imported after receivers.py (apps.ready), so a cancellation first cancels the pending reminders, then
makes the METHOD:CANCEL invitation.
"""

from __future__ import annotations

from django.dispatch import receiver

from challenge_cards import signals as card_signals
from council import signals

from .services import council


@receiver(signals.comment_posted, dispatch_uid="notifications.comment_posted")
@receiver(signals.comment_edited, dispatch_uid="notifications.comment_edited")
def on_comment(sender, comment, mentioned, actor=None, **kwargs) -> None:
    council.comment_mentions_notify(comment=comment, mentioned=list(mentioned))


@receiver(signals.record_published, dispatch_uid="notifications.record_published")
def on_record_published(sender, record, version, actor=None, **kwargs) -> None:
    council.record_published_notify(record=record, version=version)


@receiver(card_signals.meeting_scheduled, dispatch_uid="notifications.meeting_invitation_scheduled")
def on_meeting_scheduled(sender, meeting, actor=None, **kwargs) -> None:
    council.meeting_invitation_send(meeting=meeting, changed=False)


@receiver(card_signals.meeting_changed, dispatch_uid="notifications.meeting_invitation_changed")
@receiver(card_signals.meeting_cancelled, dispatch_uid="notifications.meeting_invitation_cancelled")
def on_meeting_changed(sender, meeting, actor=None, **kwargs) -> None:
    council.meeting_invitation_send(meeting=meeting, changed=True)
