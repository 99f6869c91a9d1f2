"""iCalendar: the meeting attached to reminders, and each person's private feed."""

from __future__ import annotations

import datetime
from email.utils import parseaddr

from django.conf import settings
from django.db.models import Q
from django.utils import timezone
from icalendar import Alarm, Calendar, Event, vCalAddress, vText

from agencies.roles import roles_of
from challenge_cards.models import ActionStatus, ChallengeCard, FollowUpAction, Meeting

PRODID = "-//OMB//Challenge Cards//EN"
UID_DOMAIN = "challenge-cards.omb.gov"
ORGANIZER_NAME = "OMB, Deputy Director for Management"
ALARM_MINUTES = 30


def _calendar(name: str, method: str | None = None) -> Calendar:
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    if method:
        cal.add("method", method)
    cal.add("x-wr-calname", name)
    return cal


def sequence_of(meeting: Meeting) -> int:
    """The invitation's SEQUENCE: 0 when scheduled, raised by every change and by the cancellation."""
    from .models import MeetingInvitation

    return MeetingInvitation.objects.filter(meeting=meeting).values_list("sequence", flat=True).first() or 0


def organizer() -> vCalAddress:
    """MEETING_ORGANIZER_EMAIL, else DEFAULT_FROM_EMAIL's address: a mailto: URI holds the address alone, not
    the "Name <address>" form a From header takes (the name goes in CN)."""
    configured = settings.MEETING_ORGANIZER_EMAIL or settings.DEFAULT_FROM_EMAIL
    address = vCalAddress(f"mailto:{parseaddr(configured)[1] or configured}")
    address.params["cn"] = vText(ORGANIZER_NAME)
    return address


def attendee(email: str, name: str) -> vCalAddress:
    address = vCalAddress(f"mailto:{email}")
    if name:
        address.params["cn"] = vText(name)
    address.params["role"] = vText("REQ-PARTICIPANT")
    address.params["partstat"] = vText("NEEDS-ACTION")
    address.params["rsvp"] = vText("TRUE")
    return address


def _alarm(meeting: Meeting) -> Alarm:
    alarm = Alarm()
    alarm.add("action", "DISPLAY")
    alarm.add("description", f"{meeting.title} starts in {ALARM_MINUTES} minutes")
    alarm.add("trigger", datetime.timedelta(minutes=-ALARM_MINUTES))
    return alarm


def meeting_event(
    meeting: Meeting, *, sequence: int | None = None, attendees: list[tuple[str, str]] | None = None
) -> Event:
    """The meeting as an event: the same UID in every e-mail and in the feed, its SEQUENCE, and a reminder alarm.

    With ``attendees`` ((e-mail, name) pairs) it is an invitation: ORGANIZER and one ATTENDEE each.
    """
    event = Event()
    event.add("uid", meeting_uid(meeting))
    event.add("dtstamp", timezone.now())
    event.add("dtstart", meeting.starts_at.astimezone(datetime.UTC))
    event.add(
        "dtend", (meeting.starts_at + datetime.timedelta(minutes=meeting.duration_minutes)).astimezone(datetime.UTC)
    )
    # The sequence grows with each change so calendars replace the old time.
    event.add("sequence", sequence_of(meeting) if sequence is None else sequence)
    event.add("summary", meeting.title)
    event.add("status", "CANCELLED" if meeting.status == Meeting.Status.CANCELLED else "CONFIRMED")
    if meeting.location:
        event.add("location", meeting.location)
    url = settings.SITE_URL + meeting.get_absolute_url()
    event.add("url", url)
    description = [f"President's Management Council meeting. Details: {url}"]
    if meeting.video_url:
        description.append(f"Video: {meeting.video_url}")
    event.add("description", "\n".join(description))
    if attendees is not None:
        event.add("organizer", organizer())
        for email, name in attendees:
            event.add("attendee", attendee(email, name))
    if meeting.status != Meeting.Status.CANCELLED:
        event.add_component(_alarm(meeting))
    return event


def meeting_uid(meeting: Meeting) -> str:
    return f"meeting-{meeting.pk}@{UID_DOMAIN}"


def meeting_ics(meeting: Meeting, *, attendees: list[tuple[str, str]], sequence: int | None = None) -> bytes:
    """One meeting as an invitation to attach to an e-mail: METHOD:REQUEST, or METHOD:CANCEL once cancelled."""
    method = "CANCEL" if meeting.status == Meeting.Status.CANCELLED else "REQUEST"
    cal = _calendar("PMC meeting", method=method)
    cal.add_component(meeting_event(meeting, sequence=sequence, attendees=attendees))
    return cal.to_ical()


def _attendee_line(email: str, name: str) -> bytes:
    """The ATTENDEE content line, folded, as Calendar.to_ical writes it (each line is folded on its own)."""
    event = Event()
    event.add("attendee", attendee(email, name))
    return event.content_line("ATTENDEE", event["ATTENDEE"]).to_ical()


class Invitation:
    """One meeting's invitation made once and addressed to each recipient (a batch of e-mails).

    The invitations differ only in their one ATTENDEE line: the rest is rendered once, around a stand-in
    attendee, and each recipient's line is folded and put in its place. The bytes are meeting_ics()'s with
    that attendee (tests/notifications/test_invitations.py); DTSTAMP is the time the batch made it.
    """

    STAND_IN = "stand-in@attendee.invalid"

    def __init__(self, meeting: Meeting, *, sequence: int | None = None) -> None:
        self.meeting, self.sequence = meeting, sequence
        whole = meeting_ics(meeting, attendees=[(self.STAND_IN, "")], sequence=sequence)
        head, found, tail = whole.partition(b"\r\n" + _attendee_line(self.STAND_IN, "") + b"\r\n")
        # Not found only if icalendar changed how it writes a calendar: then each is made whole, as before.
        self.shared = (head, tail) if found else None

    def to(self, email: str, name: str) -> bytes:
        """The invitation with this recipient as its one attendee."""
        if self.shared is None:
            return meeting_ics(self.meeting, attendees=[(email, name)], sequence=self.sequence)
        head, tail = self.shared
        return b"\r\n".join((head, _attendee_line(email, name), tail))


def _due_event(uid: str, day: datetime.date, summary: str, url: str, description: str) -> Event:
    event = Event()
    event.add("uid", f"{uid}@{UID_DOMAIN}")
    event.add("dtstamp", timezone.now())
    event.add("dtstart", day)
    event.add("dtend", day + datetime.timedelta(days=1))
    event.add("summary", summary)
    event.add("url", url)
    event.add("description", f"{description}\n{url}")
    event.add("transp", "TRANSPARENT")
    return event


def feed_ics(user) -> bytes:
    """The feed: council meetings, and due dates of their agencies' (for OMB, their own) cards and actions.

    Everything starts from visible_to(user) and is only narrowed: someone whose role ended
    sees nothing more through the feed than on the pages (that is, nothing).
    """
    roles = roles_of(user)
    cal = _calendar("PMC challenge cards")
    since = timezone.now() - datetime.timedelta(days=120)
    meetings = Meeting.objects.visible_to(user).filter(starts_at__gte=since).exclude(status="cancelled")
    sequences = dict(meetings.filter(invitation__isnull=False).values_list("pk", "invitation__sequence"))
    for meeting in meetings:
        # The same UID and SEQUENCE as the invitations, so a calendar holds the meeting once.
        cal.add_component(meeting_event(meeting, sequence=sequences.get(meeting.pk, 0)))
    cards = ChallengeCard.objects.visible_to(user).open()
    actions = FollowUpAction.objects.visible_to(user)
    if roles.agency_ids:
        actions = actions.filter(Q(card__disposition="open") | Q(owner=user))
    else:  # OMB: all cards are visible; the feed keeps to the cards they issued and the actions they own
        cards = cards.filter(issued_by=user)
        actions = actions.filter(owner=user)
    for card in cards.select_related("agency"):
        cal.add_component(
            _due_event(
                f"card-{card.pk}-due",
                card.due_date,
                f"Card due: {card.title} ({card.agency.abbreviation})",
                settings.SITE_URL + card.get_absolute_url(),
                f"Status: {card.get_status_display()}.",
            )
        )
    open_actions = actions.filter(status=ActionStatus.OPEN, due_date__isnull=False).select_related("card__agency")
    for action in open_actions:
        cal.add_component(
            _due_event(
                f"action-{action.pk}-due",
                action.due_date,
                f"Action due: {action.description[:120]} ({action.card.agency.abbreviation})",
                settings.SITE_URL + action.card.get_absolute_url(),
                f"Follow-up action on the card {action.card.title}.",
            )
        )
    return cal.to_ical()
