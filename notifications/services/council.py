"""What the council's events cause: mentions, the meeting's record sent to its attendees, calendar invitations.

Run by receivers_council.py inside the council's or the meeting's transaction: rows only, e-mail after commit.
"""

from __future__ import annotations

from django.utils import timezone

from council.models import Comment, MeetingRecord, RecordVersion
from council.permissions import can_see_card

from .. import rules
from ..models import MeetingInvitation, Notification, Rule
from .create import Planned, notifications_create


def comment_mentions_notify(*, comment: Comment, mentioned: list) -> list[Notification]:
    """The newly mentioned hear of a comment, through their preferences; never anyone who cannot see the card."""
    card = comment.card
    people = [person for person in mentioned if can_see_card(person, card)]
    off = rules.switched_off(Rule.MENTION, [person.pk for person in people])
    author = comment.author.get_full_name() or comment.author.get_username()
    return notifications_create(
        [
            Planned(
                rule=Rule.MENTION,
                subject=f"comment:{comment.pk}",
                recipient_id=person.pk,
                occurrence="mentioned",
                title=f"{author} mentioned you on the card {card.title} ({card.agency.abbreviation})",
                url=f"{card.get_absolute_url()}#comment-{comment.pk}",
                card_id=card.pk,
                agency_id=card.agency_id,
            )
            for person in people
            if person.pk not in off
        ]
    )


def record_published_notify(*, record: MeetingRecord, version: RecordVersion) -> list[Notification]:
    """Each published version (the first at close, then corrections) goes to the attendees who have an account."""
    attendee_ids = set(record.attendance.filter(person__isnull=False).values_list("person_id", flat=True))
    off = rules.switched_off(Rule.MEETING_RECORD, attendee_ids)
    meeting = record.meeting
    what = "Record" if version.number == 1 else f"Corrected record (version {version.number})"
    return notifications_create(
        [
            Planned(
                rule=Rule.MEETING_RECORD,
                subject=f"record:{record.pk}",
                recipient_id=user_id,
                occurrence=f"v{version.number}",
                title=f"{what} of the {meeting.title}",
                url=record.get_absolute_url(),
                meeting_id=meeting.pk,
            )
            for user_id in sorted(attendee_ids - off)
        ]
    )


def meeting_invitation_send(*, meeting, changed: bool) -> list[Notification]:
    """An invitation to everyone invited; a change (or the cancellation) raises the SEQUENCE and sends it again."""
    invitation, _ = MeetingInvitation.objects.select_for_update().get_or_create(meeting=meeting)
    if changed:
        invitation.sequence += 1
        invitation.updated_at = timezone.now()
        invitation.save(update_fields=["sequence", "updated_at"])
    invitees = rules.meeting_invitee_ids()
    off = rules.switched_off(Rule.MEETING_INVITATION, invitees)
    cancelled = meeting.status == meeting.Status.CANCELLED
    what = "Cancelled" if cancelled else ("Updated invitation" if invitation.sequence else "Invitation")
    return notifications_create(
        [
            Planned(
                rule=Rule.MEETING_INVITATION,
                subject=f"meeting:{meeting.pk}",
                recipient_id=user_id,
                occurrence=f"seq:{invitation.sequence}",
                title=f"{what}: {meeting.title}",
                url=meeting.get_absolute_url(),
                meeting_id=meeting.pk,
            )
            for user_id in invitees
            if user_id not in off
        ]
    )
