"""The e-mail for a notification: plain text and accessible HTML, the meeting as an iCalendar part.

Content is rendered when the e-mail is sent, so it shows the cards as they are then.
"""

from __future__ import annotations

import contextlib
import email.policy
import logging
import smtplib
from email.message import MIMEPart
from email.utils import formataddr
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, mailers
from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.backends.smtp import EmailBackend as SMTPBackend
from django.db.models import F, Prefetch
from django.template.loader import get_template
from django.urls import reverse
from django.utils import timezone

from challenge_cards import selectors
from challenge_cards.models import (
    ActionStatus,
    CardUpdate,
    Certification,
    ChallengeCard,
    FollowUpAction,
    Meeting,
    UpdateKind,
)
from challenge_cards.querysets import due_action_q, due_card_q, update_needed_since
from core.mail import BatchEmail, kept_headers
from council.models import Comment, RecordVersion

from . import calendar, rules
from .models import DIGEST_WINDOW, Notification, Rule

logger = logging.getLogger(__name__)
NOTIFICATION_HEADER = "X-Challenge-Cards-Notification"
# The e-mails that carry the meeting as a calendar invitation (METHOD:REQUEST, or CANCEL once cancelled).
CALENDAR_RULES = (Rule.MEETING_REMINDER, Rule.STALE_CARDS, Rule.MEETING_INVITATION)


class NothingToSend(Exception):
    """The notification no longer makes sense (meeting cancelled, every card closed ...): cancel it."""


def message_id(notification: Notification) -> str:
    """Stable per notification, so a mail system can recognise a copy of the same message."""
    return f"<notification-{notification.pk}.{notification.rule}@challenge-cards.omb.gov>"


def _meeting_still_on(notification: Notification) -> str:
    meeting = notification.meeting
    if meeting is None or meeting.status == Meeting.Status.CANCELLED:
        return "The meeting was cancelled."
    if not notification.occurrence.endswith(rules.meeting_date(meeting).isoformat()):
        return "The meeting moved; reminders follow the new date."
    return ""


def _of_agency(card: ChallengeCard) -> tuple[int, ...]:
    """The agencies whose reminder lists a card: its own, and its parent's (rules.open_cards_of)."""
    return (card.agency_id, card.agency.parent_id) if card.agency.parent_id else (card.agency_id,)


def _reminder_cards(agency_ids: set[int], since) -> list[Any]:
    """The agencies' cards that need an update (open and needing an update), with their open actions and the
    agency's last update, read from the card and the card it continues (a carried-over card keeps its history)."""
    actions = FollowUpAction.objects.filter(status=ActionStatus.OPEN).select_related("owner").order_by("due_date", "pk")
    # The agency's own updates (not the issue record or OMB's reviews), drafts awaiting certification left out.
    history = (
        CardUpdate.objects.filter(kind=UpdateKind.UPDATE)
        .exclude(certification=Certification.PENDING)
        .select_related("author", "on_behalf_of")
        .order_by("-created_at", "-pk")
    )
    return list(
        rules.open_cards_of(agency_ids)
        .needs_update(since)
        .select_related("agency", "carried_over_from")
        .prefetch_related(
            Prefetch("actions", queryset=actions, to_attr="open_actions"),
            Prefetch("updates", queryset=history, to_attr="history"),
            Prefetch("carried_over_from__updates", queryset=history, to_attr="history"),
        )
        .order_by("agency__name", "due_date", "pk")
    )


def _why_listed(card, since, today) -> list[str]:
    """Why a reminder lists this card: no update since when, and overdue if it is."""
    what, when = update_needed_since(card, since)
    reasons = [f"No update since {what} ({timezone.localtime(when):%B} {timezone.localtime(when).day})"]
    if card.due_date < today:
        reasons.append(f"Overdue: was due {card.due_date:%B} {card.due_date.day}")
    return reasons


def _last_update(card):
    earlier = card.carried_over_from.history if card.carried_over_from_id else []
    return next(iter(card.history or earlier), None)


def _linked(card: Any, site: str) -> Any:
    """The card with `url`, its full address, which the e-mail templates read (the model has no such field)."""
    card.url = site + card.get_absolute_url()
    return card


def _meeting_of(notification: Notification) -> Meeting:
    # Reminders and stale-card notifications are made with their meeting, and deleted with it (CASCADE).
    meeting = notification.meeting
    assert meeting is not None, "a meeting notification without its meeting"
    return meeting


class Reads:
    """What the e-mails of a batch read from the database, read once for the batch and kept for its messages.

    Per meeting: the meeting before it, the calendar event, the stale-card list; for the meeting reminders of
    all agencies in the batch at once: which have open cards, the cards to update with their actions and
    history, what is due before the meeting. So a batch costs the same statements whether it holds 10
    reminders or 500 (per meeting it covers; tests/notifications/test_batches.py). Templates are loaded once; what
    many messages share is made once: the meeting's invitation (calendar.Invitation), what a reminder says to an
    agency (agency_parts), and the headers the e-mails repeat (core.mail.BatchEmail).
    """

    def __init__(self, notifications: list[Notification]) -> None:
        self.site = settings.SITE_URL
        self.today = timezone.localdate()
        self.urls = {
            "site_url": self.site,
            "inbox_url": self.site + reverse("notifications:inbox"),
            "preferences_url": self.site + reverse("notifications:preferences"),
        }
        self._previous: dict[int, Meeting | None] = {}
        self._sequence: dict[int, int] = {}
        self._business_days: dict[int, int] = {}
        self._stale: dict[int, list[ChallengeCard]] = {}
        self._templates: dict[str, Any] = {}
        self._invitations: dict[int, calendar.Invitation] = {}
        self._agency_reads: dict[tuple[int, int], dict] = {}
        self._reminders: dict[int, set[int]] = {}  # meeting → agencies whose reminders this batch sends
        for notification in notifications:
            if notification.rule == Rule.MEETING_REMINDER and notification.agency_id and notification.meeting_id:
                self._reminders.setdefault(notification.meeting_id, set()).add(notification.agency_id)

    def previous(self, meeting: Meeting) -> Meeting | None:
        if meeting.pk not in self._previous:
            self._previous[meeting.pk] = Meeting.objects.previous_to(meeting)
        return self._previous[meeting.pk]

    def business_days(self, meeting: Meeting) -> int:
        """Business days left until the meeting, counted day by day once per meeting and batch."""
        if meeting.pk not in self._business_days:
            self._business_days[meeting.pk] = rules.business_days_left(self.today, rules.meeting_date(meeting))
        return self._business_days[meeting.pk]

    def sequence(self, meeting: Meeting) -> int:
        if meeting.pk not in self._sequence:
            self._sequence[meeting.pk] = calendar.sequence_of(meeting)
        return self._sequence[meeting.pk]

    def ics(self, meeting: Meeting, recipient) -> str:
        """The meeting's invitation to one person: the organizer and the recipient as its only attendee.

        Listing every invitee made each e-mail grow with the council (about 1 MB at 10,000 invitees)
        and showed every invitee's address to all the others; a calendar needs only its own attendee.
        """
        if meeting.pk not in self._invitations:
            self._invitations[meeting.pk] = calendar.Invitation(meeting, sequence=self.sequence(meeting))
        return self._invitations[meeting.pk].to(recipient.email, recipient.get_full_name()).decode()

    def template(self, name: str) -> Any:
        if name not in self._templates:
            self._templates[name] = get_template(name)
        return self._templates[name]

    def stale_cards(self, meeting: Meeting) -> list[ChallengeCard]:
        if meeting.pk not in self._stale:
            stale = rules.stale_cards_for(meeting, last=self.previous(meeting))
            cards = list(stale.select_related("agency").order_by("agency__name", "pk"))
            last = self.previous(meeting)
            since = last.starts_at if last else None
            for card in cards:
                _linked(card, self.site)
                card.why_listed = _why_listed(card, since, self.today)
            self._stale[meeting.pk] = cards
        return self._stale[meeting.pk]

    def agency_reminder(self, meeting: Meeting, agency_id: int) -> dict:
        """What a meeting reminder to one agency lists; read for every agency of the batch at the first ask."""
        if (meeting.pk, agency_id) not in self._agency_reads:
            self._read_reminders(meeting, self._reminders.get(meeting.pk, set()) | {agency_id})
        return self._agency_reads[(meeting.pk, agency_id)]

    def agency_parts(self, meeting: Meeting, agency: Any, read: dict) -> dict:
        """What a meeting reminder says to the agency, in HTML and plain text: the same for each of its recipients,
        so rendered once per agency and batch; each message renders only its greeting around it."""
        if "parts" not in read:
            context = {
                **self.urls,
                "meeting": meeting,
                "meeting_url": self.site + meeting.get_absolute_url(),
                "agency": agency,
                "cards": read["cards"],
                "due_soon": read["due_soon"],
                "last_meeting": read["last_meeting"],
            }
            part = "notifications/email/_meeting_reminder_agency"
            read["parts"] = {
                "agency_html": self.template(f"{part}.html").render(context),
                "agency_text": self.template(f"{part}.txt").render(context),
            }
        return read["parts"]

    def _read_reminders(self, meeting: Meeting, agency_ids: set[int]) -> None:
        last = self.previous(meeting)
        since = last.starts_at if last else None
        day = rules.meeting_date(meeting)
        today = self.today
        open_rows = rules.open_cards_of(agency_ids).values_list("agency_id", "agency__parent_id").distinct()
        with_open = {agency for row in open_rows for agency in row if agency in agency_ids}
        cards = _reminder_cards(agency_ids, since)
        for card in cards:
            _linked(card, self.site)
            card.last_update = _last_update(card)
            card.why_listed = _why_listed(card, since, today)
            card.actions_due = [a for a in card.open_actions if a.due_date and a.due_date <= day]
            for action in card.actions_due:
                action.days_late = max((today - action.due_date).days, 0)
        open_cards = rules.open_cards_of(agency_ids)
        due_cards = list(open_cards.filter(due_card_q(today, day)).select_related("agency").order_by("due_date", "id"))
        due_actions = list(
            FollowUpAction.objects.filter(card__in=open_cards.values("pk"))
            .filter(due_action_q(today, day))
            .select_related("card__agency")
            .order_by("due_date", "id")
        )
        for agency_id in agency_ids:
            self._agency_reads[(meeting.pk, agency_id)] = {
                "open": agency_id in with_open,
                "cards": [card for card in cards if agency_id in _of_agency(card)],
                "due_soon": selectors.as_items(
                    [card for card in due_cards if agency_id in _of_agency(card)],
                    [action for action in due_actions if agency_id in _of_agency(action.card)],
                    today,
                ),
                "last_meeting": last,
            }

    def reason_not_to_send(self, notification: Notification) -> str:
        """Why a pending notification no longer makes sense (empty when it does); build() checks the cards."""
        if notification.rule in (Rule.MEETING_REMINDER, Rule.STALE_CARDS):
            reason = _meeting_still_on(notification)
            if reason:
                return reason
        if notification.rule == Rule.ACTION_OVERDUE:
            action = notification.action
            if action is None or action.status != ActionStatus.OPEN:
                return "The action was completed or dropped."
            if f"due:{action.due_date}" != notification.occurrence:
                return "The action's due date changed."
        if notification.rule in (Rule.CARD_ISSUED, Rule.CARD_UPDATED, Rule.MENTION) and notification.card is None:
            return "The card no longer exists."
        if notification.rule == Rule.MEETING_INVITATION:
            meeting = notification.meeting
            if meeting is None:
                return "The meeting no longer exists."
            if notification.occurrence != f"seq:{self.sequence(meeting)}":
                return "A newer invitation to this meeting replaced this one."
        return ""

    def build(self, notification: Notification) -> EmailMultiAlternatives:
        """The e-mail: subject, plain text, HTML alternative and, for meetings, the .ics event."""
        context = _context(notification, self)
        template = f"notifications/email/{notification.rule}"
        text = self.template(f"{template}.txt").render(context)
        html = self.template(f"{template}.html").render(context)
        recipient = notification.recipient
        name = recipient.get_full_name()
        message = BatchEmail(
            subject=notification.title,
            body=text,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[formataddr((name, recipient.email)) if name else recipient.email],
            headers={"Message-ID": message_id(notification), NOTIFICATION_HEADER: str(notification.pk)},
        )
        message.attach_alternative(html, "text/html")
        if notification.meeting is not None and notification.rule in CALENDAR_RULES:
            cancelled = notification.meeting.status == Meeting.Status.CANCELLED
            part = MIMEPart(policy=kept_headers(email.policy.default))
            part.set_content(
                self.ics(notification.meeting, recipient),
                subtype="calendar",
                params={"method": "CANCEL" if cancelled else "REQUEST"},
                disposition="attachment",
                filename="pmc-meeting.ics",
            )
            message.attach(part)
        return message


def reason_not_to_send(notification: Notification) -> str:
    """Why one pending notification no longer makes sense (empty when it does)."""
    return Reads([notification]).reason_not_to_send(notification)


def build(notification: Notification) -> EmailMultiAlternatives:
    """One notification's e-mail (a batch builds through one Reads)."""
    return Reads([notification]).build(notification)


def _meeting_reminder_context(notification: Notification, reads: Reads) -> dict:
    agency_id = notification.agency_id
    # Made by the scan for one agency, and deleted with it (CASCADE).
    assert agency_id is not None, "a meeting reminder without its agency"
    read = reads.agency_reminder(_meeting_of(notification), agency_id)
    if not read["open"]:
        raise NothingToSend("Every card of this agency was closed before the reminder went out.")
    return reads.agency_parts(_meeting_of(notification), notification.agency, read)


def _stale_cards_context(notification: Notification, reads: Reads) -> dict:
    meeting = _meeting_of(notification)
    cards = reads.stale_cards(meeting)
    if not cards:
        raise NothingToSend("Every card was updated after the last meeting before this went out.")
    return {"cards": cards, "last_meeting": reads.previous(meeting)}


def _digest_context(notification: Notification, site: str) -> dict:
    """The notifications left for this daily digest (the day before it was made), grouped by meeting."""
    # Each item gets `link`, its full address, which the digest templates read (not a field).
    items: list[Any] = list(
        Notification.objects.filter(
            recipient_id=notification.recipient_id,
            status=Notification.Status.IN_DIGEST,
            created_at__gte=notification.created_at - DIGEST_WINDOW,
            created_at__lt=notification.created_at,
        )
        .select_related("meeting")
        .order_by(F("meeting__starts_at").desc(nulls_last=True), "-created_at", "-pk")
    )
    if not items:
        raise NothingToSend("Nothing was left for this digest.")
    for item in items:
        item.link = site + (item.url or "/")
    return {"items": items}


def _card_context(notification: Notification, card: ChallengeCard, site: str) -> dict:
    action: Any = notification.action  # with days_late, which the templates read
    if action is not None and action.due_date is not None:
        action.days_late = max((timezone.localdate() - action.due_date).days, 0)
    context = {"card": _linked(card, site), "action": action}
    if notification.rule == Rule.CARD_UPDATED:
        update_id = int(notification.subject.split(":", 1)[1])
        context["update"] = CardUpdate.objects.select_related("author", "on_behalf_of").filter(pk=update_id).first()
    return context


def _context(notification: Notification, reads: Reads) -> dict:
    site = reads.site
    context: dict = {
        "notification": notification,
        "recipient": notification.recipient,
        **reads.urls,
        "link": site + notification.url if notification.url else site + "/",
    }
    meeting = notification.meeting
    if meeting is not None:
        context["meeting"] = meeting
        context["meeting_url"] = site + meeting.get_absolute_url()
        # The true count on the day it goes out: a reminder planned for 7 business days and sent a day late says 6.
        context["business_days"] = reads.business_days(meeting) if "bd:" in notification.occurrence else None
    if notification.rule == Rule.MEETING_REMINDER:
        context.update(_meeting_reminder_context(notification, reads))
    elif notification.rule == Rule.STALE_CARDS:
        context.update(_stale_cards_context(notification, reads))
    elif notification.rule == Rule.DAILY_DIGEST:
        context.update(_digest_context(notification, site))
    elif notification.card is not None:
        context.update(_card_context(notification, notification.card, site))
    return context | _council_context(notification)


def _council_context(notification: Notification) -> dict:
    """A mention's comment; a record's published version."""
    kind, _, pk = notification.subject.partition(":")
    if notification.rule == Rule.MENTION and kind == "comment":
        return {"comment": Comment.objects.select_related("author").filter(pk=int(pk)).first()}
    if notification.rule == Rule.MEETING_RECORD and kind == "record":
        number = int(notification.occurrence.removeprefix("v"))
        return {"version": RecordVersion.objects.filter(record_id=int(pk), number=number).first()}
    return {}


_shared: dict[str, SMTPBackend] = {}


def _connection() -> tuple[str, BaseEmailBackend]:
    """One SMTP connection per worker process, reused across messages and reopened when it dropped.

    Returns the key it is kept under (empty for the file and memory backends) and the connection.
    """
    mailer = mailers.default
    if not isinstance(mailer, SMTPBackend):
        return "", mailer
    key = f"{mailer.host}:{mailer.port}"
    connection = _shared.get(key)
    if connection is not None:
        try:
            status = connection.connection.noop()[0] if connection.connection else 0
        except Exception:  # the server closed it
            status = 0
        if status != 250:
            _close(key)
            connection = None
    if connection is None:
        connection = mailer
        try:
            connection.open()
        except Exception:  # refused (STARTTLS, AUTH): close what opened, or the relay keeps waiting on it
            with contextlib.suppress(Exception):
                connection.close()
            raise
        _shared[key] = connection
    return key, connection


def _close(key: str) -> None:
    connection = _shared.pop(key, None)
    if connection is not None:
        try:
            connection.close()
        except Exception:  # already gone
            logger.debug("SMTP connection already closed")


class Session:
    """One SMTP session for a batch: the kept connection checked once, then each message sent on it.

    A refused recipient keeps the session for the next message; any other error closes it, and the next
    message opens a new one.
    """

    def __init__(self) -> None:
        self.key = ""
        self.connection: BaseEmailBackend | None = None

    def send(self, message: EmailMultiAlternatives) -> None:
        """Send or raise: a refused recipient or a dead server must count as a failed attempt."""
        try:
            if self.connection is None:
                self.key, self.connection = _connection()
            sent = self.connection.send_messages([message])
        except smtplib.SMTPRecipientsRefused:  # one address refused: the session goes on
            if not self._alive():
                self.close()
            raise
        except Exception:
            self.close()
            raise
        if sent != 1:
            raise RuntimeError("The mail server did not accept the message.")

    def _alive(self) -> bool:
        smtp = getattr(self.connection, "connection", None)
        return smtp is not None and getattr(smtp, "sock", None) is not None

    def close(self) -> None:
        _close(self.key)
        self.connection = None


def send(message: EmailMultiAlternatives) -> None:
    """Send one message on the kept connection, or raise."""
    Session().send(message)
