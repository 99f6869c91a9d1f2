"""BatchEmail: the same bytes as Django's e-mail, with headers parsed and folded once and the process's boundaries."""

from __future__ import annotations

import email
import email.policy
import re
from email.message import MIMEPart

import pytest
from django.core.mail import EmailMultiAlternatives

from core.mail import BOUNDARIES, BatchEmail

BOUNDARY = re.compile(rb"={15}\d{19}==(?:\.\d+)?")
DATE = "Tue, 01 Dec 2026 14:00:00 +0000"


def _email(cls, *, name: str, text: str, html: str, subject: str) -> EmailMultiAlternatives:
    message = cls(
        subject=subject,
        body=text,
        from_email="Challenge Cards <no-reply@challenge-cards.example>",
        to=[email.utils.formataddr((name, "deputy@treasury.example"))],
        headers={"Message-ID": "<notification-7.meeting_reminder@example>", "X-Notification": "7", "Date": DATE},
    )
    message.attach_alternative(html, "text/html")
    invitation = MIMEPart()
    invitation.set_content(
        "BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nEND:VCALENDAR\r\n",
        subtype="calendar",
        params={"method": "REQUEST"},
        disposition="attachment",
        filename="pmc-meeting.ics",
    )
    message.attach(invitation)
    return message


def _wire(message: EmailMultiAlternatives) -> bytes:
    """What the SMTP backend sends, each boundary replaced by its order of first appearance."""
    data = message.message(policy=email.policy.SMTP).as_bytes()
    order: dict[bytes, bytes] = {}
    return BOUNDARY.sub(lambda m: order.setdefault(m.group(), b"BOUNDARY-%d" % len(order)), data)


CASES = [
    {"name": "Dana Smith", "text": "Hello Dana,\n\nUpdate 1 card.\n", "html": "<p>Hello Dana,</p>", "subject": "Short"},
    {
        "name": "Zoë Ñúñez-O'Brien, Jr.",  # encoded words, a comma to quote
        "text": "Hello Zoë — " + "a long line that the encoder must wrap " * 6 + "\n",
        "html": "<p>" + "&lt;b&gt; and &amp; " * 40 + "</p>",
        "subject": "PMC meeting, December 1, 2026: 3 cards for TREAS to update " + "and a subject too long " * 4,
    },
]


@pytest.mark.parametrize("case", CASES)
def test_the_same_bytes_as_djangos_email_on_the_first_build_and_the_next(case):
    expected = _wire(_email(EmailMultiAlternatives, **case))
    assert _wire(_email(BatchEmail, **case)) == expected
    assert _wire(_email(BatchEmail, **case)) == expected  # now from the kept headers and foldings


def test_the_process_boundaries_make_a_message_mail_clients_read_part_by_part():
    data = _email(BatchEmail, **CASES[1]).message(policy=email.policy.SMTP).as_bytes()
    parsed = email.message_from_bytes(data, policy=email.policy.default)
    assert [part.get_content_type() for part in parsed.walk()] == [
        "multipart/mixed",
        "multipart/alternative",
        "text/plain",
        "text/html",
        "text/calendar",
    ]
    boundaries = [part.get_boundary() for part in parsed.walk() if part.is_multipart()]
    assert boundaries == list(BOUNDARIES[:2])
    assert parsed.get_body(("plain",)).get_content().replace("\r\n", "\n") == CASES[1]["text"]
    assert parsed.get_body(("html",)).get_content().rstrip("\r\n") == CASES[1]["html"]
    assert parsed["To"].addresses[0].display_name == CASES[1]["name"]


def test_a_text_that_holds_a_process_boundary_gets_boundaries_drawn_for_it():
    """Someone who saw a boundary in an e-mail types it into a card: the parts must not end there."""
    text = f"Before\n--{BOUNDARIES[0]}\nContent-Type: text/html\n\n<p>Injected</p>\n--{BOUNDARIES[1]}--\nAfter\n"
    data = (
        _email(BatchEmail, name="", text=text, html="<p>Hi</p>", subject="S")
        .message(policy=email.policy.SMTP)
        .as_bytes()
    )
    parsed = email.message_from_bytes(data, policy=email.policy.default)
    assert not {part.get_boundary() for part in parsed.walk() if part.is_multipart()} & set(BOUNDARIES)
    assert parsed.get_body(("plain",)).get_content().replace("\r\n", "\n") == text
    assert [part.get_content_type() for part in parsed.walk()][2:] == ["text/plain", "text/html", "text/calendar"]
