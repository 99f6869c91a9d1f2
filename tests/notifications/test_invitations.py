"""Calendar invitations that calendars treat as meetings, parsed with icalendar as a mail client reads them."""

import datetime

import pytest
import time_machine
from django.core import mail
from django.utils import timezone
from icalendar import Calendar

from challenge_cards import services
from notifications import calendar, emails
from notifications.models import Notification, Rule


def _invitation(meeting, recipient) -> Calendar:
    invitations = Notification.objects.filter(rule=Rule.MEETING_INVITATION, meeting=meeting, recipient=recipient)
    notification = invitations.latest("pk")
    message = emails.build(notification)
    (part,) = [p for p in message.attachments if getattr(p, "get_content_type", lambda: "")() == "text/calendar"]
    assert part.get_param("method") == Calendar.from_ical(part.get_content())["METHOD"]
    return Calendar.from_ical(part.get_content())


def _event(cal: Calendar):
    (event,) = cal.walk("VEVENT")
    return event


@pytest.fixture
def scheduled(admin_user, deputy, delegate):
    starts = (timezone.now() + datetime.timedelta(days=30)).replace(hour=15, minute=0, second=0, microsecond=0)
    return services.meeting_schedule(actor=admin_user, starts_at=starts, location="EEOB, Room 430")


def test_schedule_sends_a_request_with_uid_organizer_attendee_sequence_alarm(scheduled, deputy, delegate, admin_user):
    cal = _invitation(scheduled, deputy)
    event = _event(cal)
    assert cal["METHOD"] == "REQUEST"
    assert str(event["UID"]) == f"meeting-{scheduled.pk}@challenge-cards.omb.gov"
    assert str(event["ORGANIZER"]).startswith("mailto:")
    assert str(event["ATTENDEE"]) == f"mailto:{deputy.email}"
    assert event["SEQUENCE"] == 0
    (alarm,) = event.walk("VALARM")
    assert alarm["ACTION"] == "DISPLAY" and alarm["TRIGGER"].dt == datetime.timedelta(minutes=-30)
    assert Notification.objects.filter(rule=Rule.MEETING_INVITATION, meeting=scheduled).count() == 3


@pytest.mark.parametrize(
    ("organizer_email", "from_email", "expected"),
    [
        ("", "Challenge Cards <no-reply@cards.example.gov>", "mailto:no-reply@cards.example.gov"),
        ("", "no-reply@cards.example.gov", "mailto:no-reply@cards.example.gov"),
        ("ddm@omb.example.gov", "Challenge Cards <no-reply@cards.example.gov>", "mailto:ddm@omb.example.gov"),
    ],
)
def test_the_organizer_is_an_address_not_a_from_header(settings, organizer_email, from_email, expected):
    settings.MEETING_ORGANIZER_EMAIL = organizer_email
    settings.DEFAULT_FROM_EMAIL = from_email
    address = calendar.organizer()
    assert str(address) == expected
    assert address.params["CN"] == calendar.ORGANIZER_NAME


def test_each_invitation_names_only_its_own_recipient(scheduled, deputy, delegate, admin_user):
    """Nobody's invitation shows the other invitees' addresses, and its size does not grow with the council."""
    for person in (deputy, delegate, admin_user):
        event = _event(_invitation(scheduled, person))
        assert str(event["ATTENDEE"]) == f"mailto:{person.email}"
        assert event["ATTENDEE"].params["CN"] == person.get_full_name()


def test_a_change_raises_the_sequence_with_the_same_uid_and_the_feed_agrees(scheduled, deputy, admin_user):
    first = _event(_invitation(scheduled, deputy))
    services.meeting_update(actor=admin_user, meeting=scheduled, location="Room 350")
    changed = _event(_invitation(scheduled, deputy))
    assert str(changed["UID"]) == str(first["UID"])
    assert changed["SEQUENCE"] == 1 and str(changed["LOCATION"]) == "Room 350"
    old = Notification.objects.filter(rule=Rule.MEETING_INVITATION, recipient=deputy, occurrence="seq:0").get()
    assert emails.reason_not_to_send(old) == "A newer invitation to this meeting replaced this one."
    (feed_event,) = Calendar.from_ical(calendar.feed_ics(deputy)).walk("VEVENT")[:1]
    assert (str(feed_event["UID"]), feed_event["SEQUENCE"]) == (str(first["UID"]), 1)


def test_cancellation_sends_method_cancel_with_a_higher_sequence(scheduled, deputy, admin_user):
    services.meeting_cancel(actor=admin_user, meeting=scheduled)
    cal = _invitation(scheduled, deputy)
    event = _event(cal)
    assert cal["METHOD"] == "CANCEL"
    assert event["STATUS"] == "CANCELLED" and event["SEQUENCE"] == 1
    assert str(event["UID"]) == f"meeting-{scheduled.pk}@challenge-cards.omb.gov"
    assert not mail.outbox  # rows only until the worker delivers them


@pytest.mark.parametrize("status", ["scheduled", "cancelled"])
def test_an_invitation_made_once_for_a_batch_is_meeting_ics_for_each_recipient(scheduled, status):
    """The batch renders the meeting once and puts each recipient's ATTENDEE line in (folded as icalendar does)."""
    scheduled.status = status
    people = [
        ("deputy@treasury.example", ""),
        ("zoe@treasury.example", "Zoë Ñúñez-O'Brien, Jr."),  # escaped and quoted parameter
        ("a-very-long-address-for-folding@bureau-of-the-fiscal-service.treasury.example", "Name " * 20),
        ("quote@treasury.example", 'She said "yes"; then: no'),
    ]
    with time_machine.travel(scheduled.starts_at - datetime.timedelta(days=7), tick=False):
        invitation = calendar.Invitation(scheduled, sequence=4)
        assert invitation.shared is not None  # made once, not once per recipient
        for address, name in people:
            made = invitation.to(address, name)
            assert made == calendar.meeting_ics(scheduled, attendees=[(address, name)], sequence=4), name
            assert str(_event(Calendar.from_ical(made))["ATTENDEE"]) == f"mailto:{address}"
