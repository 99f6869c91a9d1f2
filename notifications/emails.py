"""The e-mail for a notification: plain text and accessible HTML, the meeting as an iCalendar part.

Content is rendered when the e-mail is sent, so it shows the cards as they are then.
"""

from __future__ import annotations

import contextlib
import logging
from email.message import MIMEPart
from email.utils import formataddr
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, mailers
from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.backends.smtp import EmailBackend as SMTPBackend
from django.db.models import F, Prefetch
from django.template.loader import render_to_string
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
from challenge_cards.querysets import update_needed_since
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


def _reminder_cards(agency_id: int, since):
    """The agency's cards that need an update (rules.cards_to_update_of), with their open actions and the
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
        rules.cards_to_update_of(agency_id, since)
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


def reason_not_to_send(notification: Notification) -> str:
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
        return _invitation_outdated(notification)
    return ""


def _invitation_outdated(notification: Notification) -> str:
    meeting = notification.meeting
    if meeting is None:
        return "The meeting no longer exists."
    if notification.occurrence != f"seq:{calendar.sequence_of(meeting)}":
        return "A newer invitation to this meeting replaced this one."
    return ""


def _linked(card: Any, site: str) -> Any:
    """The card with `url`, its full address, which the e-mail templates read (the model has no such field)."""
    card.url = site + card.get_absolute_url()
    return card


def _meeting_of(notification: Notification) -> Meeting:
    # Reminders and stale-card notifications are made with their meeting, and deleted with it (CASCADE).
    meeting = notification.meeting
    assert meeting is not None, "a meeting notification without its meeting"
    return meeting


def _meeting_reminder_context(notification: Notification, site: str) -> dict:
    agency_id = notification.agency_id
    # Made by the scan for one agency, and deleted with it (CASCADE).
    assert agency_id is not None, "a meeting reminder without its agency"
    meeting = _meeting_of(notification)
    day = rules.meeting_date(meeting)
    today = timezone.localdate()
    last = Meeting.objects.previous_to(meeting)
    since = last.starts_at if last else None
    if not rules.open_cards_of(agency_id).exists():
        raise NothingToSend("Every card of this agency was closed before the reminder went out.")
    cards = _reminder_cards(agency_id, since)
    for card in cards:
        _linked(card, site)
        card.last_update = _last_update(card)
        card.why_listed = _why_listed(card, since, today)
        card.actions_due = [a for a in card.open_actions if a.due_date and a.due_date <= day]
        for action in card.actions_due:
            action.days_late = max((today - action.due_date).days, 0)
    agency_cards = rules.open_cards_of(agency_id)
    due = selectors.due_by(agency_cards, FollowUpAction.objects.filter(card__in=agency_cards.values("pk")), day)
    return {"cards": cards, "agency": notification.agency, "due_soon": due, "last_meeting": last}


def _stale_cards_context(notification: Notification, site: str) -> dict:
    meeting = _meeting_of(notification)
    last = Meeting.objects.previous_to(meeting)
    stale = rules.stale_cards_for(meeting, last=last)
    cards = list(stale.select_related("agency").order_by("agency__name", "pk"))
    if not cards:
        raise NothingToSend("Every card was updated after the last meeting before this went out.")
    since = last.starts_at if last else None
    today = timezone.localdate()
    for card in cards:
        _linked(card, site)
        card.why_listed = _why_listed(card, since, today)
    return {"cards": cards, "last_meeting": last}


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


def _context(notification: Notification) -> dict:
    site = settings.SITE_URL
    context: dict = {
        "notification": notification,
        "recipient": notification.recipient,
        "site_url": site,
        "inbox_url": site + reverse("notifications:inbox"),
        "preferences_url": site + reverse("notifications:preferences"),
        "link": site + notification.url if notification.url else site + "/",
    }
    meeting = notification.meeting
    if meeting is not None:
        context["meeting"] = meeting
        context["meeting_url"] = site + meeting.get_absolute_url()
        # The true count on the day it goes out: a reminder planned for 7 business days and sent a day late says 6.
        context["business_days"] = (
            rules.business_days_left(timezone.localdate(), rules.meeting_date(meeting))
            if "bd:" in notification.occurrence
            else None
        )
    if notification.rule == Rule.MEETING_REMINDER:
        context.update(_meeting_reminder_context(notification, site))
    elif notification.rule == Rule.STALE_CARDS:
        context.update(_stale_cards_context(notification, site))
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


def build(notification: Notification) -> EmailMultiAlternatives:
    """The e-mail: subject, plain text, HTML alternative and, for meetings, the .ics event."""
    context = _context(notification)
    template = f"notifications/email/{notification.rule}"
    text = render_to_string(f"{template}.txt", context)
    html = render_to_string(f"{template}.html", context)
    recipient = notification.recipient
    name = recipient.get_full_name()
    message = EmailMultiAlternatives(
        subject=notification.title,
        body=text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[formataddr((name, recipient.email)) if name else recipient.email],
        headers={"Message-ID": message_id(notification), NOTIFICATION_HEADER: str(notification.pk)},
    )
    message.attach_alternative(html, "text/html")
    if notification.meeting is not None and notification.rule in CALENDAR_RULES:
        cancelled = notification.meeting.status == Meeting.Status.CANCELLED
        part = MIMEPart()
        part.set_content(
            calendar.meeting_ics(notification.meeting).decode(),
            subtype="calendar",
            params={"method": "CANCEL" if cancelled else "REQUEST"},
            disposition="attachment",
            filename="pmc-meeting.ics",
        )
        message.attach(part)
    return message


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


def send(message: EmailMultiAlternatives) -> None:
    """Send or raise: a refused recipient or a dead server must count as a failed attempt."""
    key = ""
    try:
        key, connection = _connection()
        sent = connection.send_messages([message])
    except Exception:
        _close(key)
        raise
    if sent != 1:
        raise RuntimeError("The mail server did not accept the message.")
