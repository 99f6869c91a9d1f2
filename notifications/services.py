"""Every write of the notifications app: creating, delivering, sweeping, reading, preferences.

Creation runs inside the caller's transaction (a service's, or the scan's own), so a change
and its notifications commit together; delivery is queued only after commit, with IDs.
"""

from __future__ import annotations

import datetime
import logging
import uuid
from collections import Counter
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from agencies.models import Agency, Role
from agencies.roles import prime_roles, roles_of
from challenge_cards import permissions
from challenge_cards.models import ActionOwnerSide, CardUpdate, ChallengeCard, FollowUpAction, Meeting

from . import emails, rules, webhooks
from .models import (
    SCAN_RULES,
    CalendarFeed,
    EventType,
    Notification,
    NotificationSettings,
    Preference,
    Rule,
    WebhookDelivery,
    WebhookSubscription,
)

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Planned:
    """A notification the rules want; becomes a row unless the same key exists already."""

    rule: str
    subject: str
    recipient_id: int
    occurrence: str
    title: str
    url: str = ""
    meeting_id: int | None = None
    agency_id: int | None = None
    card_id: int | None = None
    action_id: int | None = None


@dataclass
class ScanResult:
    """What one scan queued, for the command's output and the beat log."""

    created: list[int] = field(default_factory=list)
    by_rule: Counter = field(default_factory=Counter)

    def lines(self) -> list[str]:
        if not self.created:
            return ["Nothing to send: every notification due now was already queued."]
        return [f"{count:>6}  {Rule(rule).label}" for rule, count in sorted(self.by_rule.items())]


# --- queueing -------------------------------------------------------------------------


def _enqueue_notifications(ids: list[int]) -> None:
    from .tasks import enqueue_notifications

    enqueue_notifications(ids)


def _enqueue_webhooks(ids: list[int]) -> None:
    from .tasks import enqueue_webhook_deliveries

    enqueue_webhook_deliveries(ids)


def notifications_create(planned: list[Planned], *, now: datetime.datetime | None = None) -> list[Notification]:
    """Insert the planned notifications, skipping keys that exist; queue e-mail after commit.

    The unique key (rule, subject, recipient, occurrence) holds even when two scans run at
    once: the database keeps one row and the other insert does nothing.
    """
    if not planned:
        return []
    now = now or timezone.now()
    batch = uuid.uuid4()
    emails_of = dict(
        get_user_model().objects.filter(pk__in={p.recipient_id for p in planned}).values_list("pk", "email")
    )
    rows = [
        Notification(
            rule=p.rule,
            subject=p.subject,
            recipient_id=p.recipient_id,
            occurrence=p.occurrence,
            title=p.title[:300],
            url=p.url,
            meeting_id=p.meeting_id,
            agency_id=p.agency_id,
            card_id=p.card_id,
            action_id=p.action_id,
            created_at=now,
            batch=batch,
            status=Notification.Status.PENDING if emails_of.get(p.recipient_id) else Notification.Status.NO_EMAIL,
            enqueued_at=now,
        )
        for p in planned
    ]
    with transaction.atomic():
        Notification.objects.bulk_create(rows, ignore_conflicts=True, batch_size=500)
        created = list(Notification.objects.filter(batch=batch).order_by("pk"))
        to_send = [n.pk for n in created if n.status == Notification.Status.PENDING]
        if to_send:
            transaction.on_commit(partial(_enqueue_notifications, to_send))
    return created


@dataclass(frozen=True)
class WebhookEvent:
    """One event for the agencies' subscribers (agency_ids None: every agency's)."""

    event_id: str
    payload: dict
    agency_ids: frozenset[int] | None


def webhook_events_create(
    *, event_type: str, event_id: str, payload: dict, agency_ids: set[int] | None
) -> list[WebhookDelivery]:
    """One delivery per active subscription to this event (for these agencies; None: every agency)."""
    event = WebhookEvent(event_id, payload, None if agency_ids is None else frozenset(agency_ids))
    return webhook_events_create_many(event_type=event_type, events=[event])


def webhook_events_create_many(*, event_type: str, events: list[WebhookEvent]) -> list[WebhookDelivery]:
    """webhook_events_create for many events of one type, in four queries however many there are.

    An event that already has its delivery to a subscription gets no second one; only the rows made
    now are queued (an earlier delivery of the event waits out its own retry delay).
    """
    if not events:
        return []
    by_agency: dict[int, list[int]] = {}
    for subscription_id, agency_id in WebhookSubscription.objects.filter(
        active=True, event_type=event_type
    ).values_list("pk", "agency_id"):
        by_agency.setdefault(agency_id, []).append(subscription_id)
    if not by_agency:
        return []
    wanted = {
        (subscription_id, event.event_id): event
        for event in events
        for agency_id in (by_agency if event.agency_ids is None else event.agency_ids & by_agency.keys())
        for subscription_id in by_agency[agency_id]
    }
    if not wanted:
        return []
    subscription_ids = {subscription_id for subscription_id, _ in wanted}
    event_ids = {event.event_id for event in events}
    made_before = set(
        WebhookDelivery.objects.filter(subscription_id__in=subscription_ids, event_id__in=event_ids).values_list(
            "subscription_id", "event_id"
        )
    )
    now = timezone.now()
    with transaction.atomic():
        WebhookDelivery.objects.bulk_create(
            [
                WebhookDelivery(
                    subscription_id=subscription_id,
                    event_type=event_type,
                    event_id=event.event_id,
                    payload={
                        "id": event.event_id,
                        "type": event_type,
                        "created_at": now.isoformat(),
                        "data": event.payload,
                    },
                    created_at=now,
                    enqueued_at=now,
                )
                for (subscription_id, _), event in wanted.items()
                if (subscription_id, event.event_id) not in made_before
            ],
            ignore_conflicts=True,  # another scan at the same moment made some: theirs stand
        )
        deliveries = list(
            WebhookDelivery.objects.filter(
                subscription_id__in=subscription_ids,
                event_id__in=event_ids,
                status=WebhookDelivery.Status.PENDING,
                created_at=now,
            )
        )
        if deliveries:
            transaction.on_commit(partial(_enqueue_webhooks, [d.pk for d in deliveries]))
    return deliveries


# --- the scan (beat and `manage.py send_reminders`) ------------------------------------


def _people_planned(
    rule: str, people: dict[int, list[tuple[int, str]]], make: callable, skip_user_ids: set[int] = frozenset()
) -> list[Planned]:
    """One Planned per (agency, person), leaving out those who switched the rule off (unless essential)."""
    user_ids = {uid for members in people.values() for uid, _ in members}
    off = rules.switched_off(rule, user_ids)
    planned = []
    for agency_id, members in people.items():
        for user_id, role in members:
            if user_id in skip_user_ids or (user_id in off and not rules.is_essential(rule, role)):
                continue
            planned.append(make(agency_id, user_id))
    return planned


def _plan_meeting_reminders(due: rules.DueReminder) -> list[Planned]:
    meeting = due.meeting
    counts: Counter = Counter()
    for agency_id, parent_id in ChallengeCard.objects.open().values_list("agency_id", "agency__parent_id"):
        counts[agency_id] += 1
        if parent_id:
            counts[parent_id] += 1
    if not counts:
        return []
    agencies = Agency.objects.in_bulk(list(counts))
    people = rules.agency_people(list(counts))

    def make(agency_id: int, user_id: int) -> Planned:
        count = counts[agency_id]
        noun = "open card" if count == 1 else "open cards"
        return Planned(
            rule=Rule.MEETING_REMINDER,
            subject=f"meeting:{meeting.pk}/agency:{agency_id}",
            recipient_id=user_id,
            occurrence=due.occurrence,
            title=f"{meeting.title}: {count} {noun} for {agencies[agency_id].abbreviation} to update",
            url=meeting.get_absolute_url(),
            meeting_id=meeting.pk,
            agency_id=agency_id,
        )

    return _people_planned(Rule.MEETING_REMINDER, people, make)


def stale_cards_for(meeting: Meeting, *, last: Meeting | None | bool = False):
    """Open cards the agency has not updated since the meeting before this one (`last`, when the caller
    has looked it up already)."""
    cards = ChallengeCard.objects.open()
    if last is False:
        last = Meeting.objects.previous_to(meeting)
    if last is not None:
        return cards.not_updated_since(last.starts_at)
    return cards.filter(last_agency_update_at__isnull=True)


def _plan_stale_cards(due: rules.DueReminder) -> list[Planned]:
    meeting = due.meeting
    count = stale_cards_for(meeting).count()
    if not count:
        return []
    admins = rules.omb_admin_ids()
    off = rules.switched_off(Rule.STALE_CARDS, admins)
    noun = "card" if count == 1 else "cards"
    return [
        Planned(
            rule=Rule.STALE_CARDS,
            subject=f"meeting:{meeting.pk}",
            recipient_id=user_id,
            occurrence=due.occurrence,
            title=f"{meeting.title}: {count} {noun} not updated since the last meeting",
            url=meeting.get_absolute_url(),
            meeting_id=meeting.pk,
        )
        for user_id in admins
        if user_id not in off
    ]


def _overdue_actions(now: datetime.datetime) -> list[FollowUpAction]:
    """Open cards' overdue actions, read once per scan for the notifications and the webhooks."""
    today = timezone.localdate(now)
    return list(
        FollowUpAction.objects.overdue(today).filter(card__disposition="open").select_related("card__agency", "owner")
    )


def _plan_overdue_actions(actions: list[FollowUpAction]) -> list[Planned]:
    if not actions:
        return []
    delegates = rules.agency_people({a.card.agency_id for a in actions}, roles=(Role.DELEGATE,))
    # One user object per owner, roles loaded for all at once: an owner who may not see the card hears nothing.
    owners = {a.owner_id: a.owner for a in actions if a.owner_id}
    prime_roles(owners.values())
    planned: list[Planned] = []
    for action in actions:
        recipients: list[int] = []
        owner_told = bool(action.owner_id) and permissions.can_view_card(owners[action.owner_id], action.card)
        if owner_told:
            recipients.append(action.owner_id)
        if action.owned_by == ActionOwnerSide.AGENCY:
            recipients += [uid for uid, _ in delegates.get(action.card.agency_id, [])]
        elif not owner_told and action.card.issued_by_id:
            recipients.append(action.card.issued_by_id)
        for user_id in dict.fromkeys(recipients):
            planned.append(
                Planned(
                    rule=Rule.ACTION_OVERDUE,
                    subject=f"action:{action.pk}",
                    recipient_id=user_id,
                    occurrence=f"due:{action.due_date.isoformat()}",
                    title=f"Follow-up action overdue ({action.card.agency.abbreviation}): {action.description[:150]}",
                    url=action.card.get_absolute_url(),
                    card_id=action.card_id,
                    agency_id=action.card.agency_id,
                    action_id=action.pk,
                )
            )
    off = rules.switched_off(Rule.ACTION_OVERDUE, {p.recipient_id for p in planned})
    return [p for p in planned if p.recipient_id not in off]


def _overdue_webhooks(actions: list[FollowUpAction]) -> None:
    subscribed = set(
        WebhookSubscription.objects.filter(active=True, event_type=EventType.ACTION_OVERDUE).values_list(
            "agency_id", flat=True
        )
    )
    if not subscribed:
        return
    webhook_events_create_many(
        event_type=EventType.ACTION_OVERDUE,
        events=[
            WebhookEvent(
                f"action.overdue:{action.pk}:{action.due_date.isoformat()}",
                action_payload(action),
                frozenset({action.card.agency_id}),
            )
            for action in actions
            if action.card.agency_id in subscribed
        ],
    )


def reminders_scan(*, now: datetime.datetime | None = None, meeting: Meeting | None = None) -> ScanResult:
    """Create every notification due now and queue it. Safe to run twice, or twice at once.

    Beat runs this every few minutes; `manage.py send_reminders` runs it by hand.
    """
    now = now or timezone.now()
    conf = NotificationSettings.load()
    result = ScanResult()
    with transaction.atomic():
        planned: list[Planned] = []
        for due in rules.due_reminders(now, conf.send_time):
            if meeting is not None and due.meeting.pk != meeting.pk:
                continue
            if due.rule == Rule.MEETING_REMINDER:
                planned += _plan_meeting_reminders(due)
            elif due.rule == Rule.STALE_CARDS:
                planned += _plan_stale_cards(due)
        if meeting is None and conf.action_overdue_enabled:
            overdue = _overdue_actions(now)
            planned += _plan_overdue_actions(overdue)
            _overdue_webhooks(overdue)
        created = notifications_create(planned, now=now)
    result.created = [n.pk for n in created]
    result.by_rule.update(n.rule for n in created)
    return result


# --- events from challenge_cards.services (receivers.py calls these) --------------------


def card_payload(card: ChallengeCard) -> dict:
    return {
        "card": {
            "id": card.pk,
            "title": card.title,
            "agency": card.agency.abbreviation,
            "status": card.status,
            "disposition": card.disposition,
            "due_date": card.due_date.isoformat(),
            "meeting_id": card.meeting_id,
            "version": card.version,
            "url": settings.SITE_URL + card.get_absolute_url(),
        }
    }


def update_payload(update: CardUpdate) -> dict:
    return {
        **card_payload(update.card),
        "update": {
            "id": update.pk,
            "kind": update.kind,
            "changes": update.changes,
            "status_to": update.status_to,
            "note": update.note,
            "author": getattr(update.author, "username", None),
            "on_behalf_of": getattr(update.on_behalf_of, "username", None),
            "created_at": update.created_at.isoformat(),
        },
    }


def action_payload(action: FollowUpAction) -> dict:
    return {
        **card_payload(action.card),
        "action": {
            "id": action.pk,
            "description": action.description,
            "status": action.status,
            "owned_by": action.owned_by,
            "owner": action.owner_display,
            "due_date": action.due_date.isoformat() if action.due_date else None,
        },
    }


def meeting_payload(meeting: Meeting) -> dict:
    return {
        "meeting": {
            "id": meeting.pk,
            "title": meeting.title,
            "starts_at": meeting.starts_at.isoformat(),
            "duration_minutes": meeting.duration_minutes,
            "status": meeting.status,
            "location": meeting.location,
            "url": settings.SITE_URL + meeting.get_absolute_url(),
        }
    }


def cards_issued_notify(*, cards: list[ChallengeCard]) -> list[Notification]:
    """The deputy secretary and delegates of each agency hear about its new card."""
    if not cards:
        return []
    webhook_events_create_many(
        event_type=EventType.CARD_ISSUED,
        events=[
            WebhookEvent(f"card.issued:{card.pk}", card_payload(card), frozenset({card.agency_id})) for card in cards
        ],
    )
    if not NotificationSettings.load().card_issued_enabled:
        return []
    by_agency = {card.agency_id: card for card in cards}
    people = rules.agency_people(list(by_agency))
    planned: list[Planned] = []
    for card in cards:
        planned += _people_planned(
            Rule.CARD_ISSUED,
            {card.agency_id: people.get(card.agency_id, [])},
            lambda agency_id, user_id, card=card: Planned(
                rule=Rule.CARD_ISSUED,
                subject=f"card:{card.pk}",
                recipient_id=user_id,
                occurrence="issued",
                title=f"New challenge card for {card.agency.abbreviation}: {card.title}",
                url=card.get_absolute_url(),
                card_id=card.pk,
                agency_id=card.agency_id,
                meeting_id=card.meeting_id,
            ),
        )
    return notifications_create(planned)


def card_updated_notify(*, update: CardUpdate, actor) -> list[Notification]:
    """The OMB admin who issued the card hears that the agency posted an update."""
    card = update.card
    webhook_events_create(
        event_type=EventType.CARD_UPDATED,
        event_id=f"card.updated:{update.pk}",
        payload=update_payload(update),
        agency_ids={card.agency_id},
    )
    issuer_id = card.issued_by_id
    if not issuer_id or issuer_id == getattr(actor, "pk", None):
        return []
    if not NotificationSettings.load().card_updated_enabled or rules.switched_off(Rule.CARD_UPDATED, [issuer_id]):
        return []
    return notifications_create(
        [
            Planned(
                rule=Rule.CARD_UPDATED,
                subject=f"update:{update.pk}",
                recipient_id=issuer_id,
                occurrence="posted",
                title=f"{card.agency.abbreviation} updated the card {card.title}",
                url=card.get_absolute_url(),
                card_id=card.pk,
                agency_id=card.agency_id,
            )
        ]
    )


def card_reviewed_notify(*, update: CardUpdate) -> None:
    webhook_events_create(
        event_type=EventType.CARD_REVIEWED,
        event_id=f"card.reviewed:{update.pk}",
        payload=update_payload(update),
        agency_ids={update.card.agency_id},
    )


def action_changed_notify(*, action: FollowUpAction, update: CardUpdate) -> None:
    webhook_events_create(
        event_type=EventType.ACTION_CHANGED,
        event_id=f"action.changed:{update.pk}",
        payload={**action_payload(action), "update_id": update.pk},
        agency_ids={action.card.agency_id},
    )


def _cancel_pending(queryset, reason: str) -> int:
    return queryset.filter(status=Notification.Status.PENDING).update(
        status=Notification.Status.CANCELLED, cancelled_at=timezone.now(), last_error=reason
    )


def meeting_moved_notify(*, meeting: Meeting, changes: dict) -> int:
    """A moved meeting's pending reminders move with it: the old date's are cancelled, the new date's made when due."""
    if "starts_at" in changes:
        keep = rules.meeting_date(meeting).isoformat()
        pending = Notification.objects.filter(meeting=meeting, rule__in=SCAN_RULES).exclude(occurrence__endswith=keep)
        cancelled = _cancel_pending(pending, "The meeting moved; reminders follow the new date.")
        reminders_scan(meeting=meeting)
    else:
        cancelled = 0
    webhook_events_create(
        event_type=EventType.MEETING_CHANGED,
        event_id=f"meeting.changed:{meeting.pk}:{meeting.updated_at.isoformat()}",
        payload={**meeting_payload(meeting), "changes": sorted(changes)},
        agency_ids=None,
    )
    return cancelled


def meeting_cancelled_notify(*, meeting: Meeting) -> int:
    """A cancelled meeting's pending reminders are cancelled too."""
    cancelled = _cancel_pending(Notification.objects.filter(meeting=meeting), "The meeting was cancelled.")
    webhook_events_create(
        event_type=EventType.MEETING_CANCELLED,
        event_id=f"meeting.cancelled:{meeting.pk}",
        payload=meeting_payload(meeting),
        agency_ids=None,
    )
    return cancelled


# --- delivery (tasks.py calls these) -----------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    """What one delivery attempt did; ``retry_in`` asks the task to try again later."""

    status: str
    retry_in: float | None = None


def backoff_seconds(attempts: int, base: float) -> float:
    """Exponential backoff: base, 2×base, 4×base ... capped at an hour."""
    return min(base * 2 ** max(attempts - 1, 0), 3600.0)


def _retry_base(conf: NotificationSettings) -> float:
    override = getattr(settings, "NOTIFICATIONS_RETRY_BASE_SECONDS", None)
    return float(override) if override is not None else float(conf.retry_base_seconds)


def notification_deliver(*, notification_id: int, now: datetime.datetime | None = None) -> Outcome:
    """Send one notification's e-mail at most once: lock the row, send, mark it sent, in one transaction.

    A duplicate task finds the row no longer pending and does nothing. A failure counts an
    attempt and asks for a retry with backoff, until the last attempt marks it failed.
    """
    with transaction.atomic():
        notification = (
            Notification.objects.select_for_update(of=("self",))
            .select_related("recipient", "meeting", "card__agency", "agency", "action")
            .filter(pk=notification_id)
            .first()
        )
        if notification is None or notification.status != Notification.Status.PENDING:
            return Outcome(notification.status if notification else "missing")
        now = now or timezone.now()
        notification.attempts += 1
        try:
            reason = emails.reason_not_to_send(notification)
            if reason:
                raise emails.NothingToSend(reason)
            emails.send(emails.build(notification))
        except emails.NothingToSend as nothing:
            notification.status = Notification.Status.CANCELLED
            notification.cancelled_at = now
            notification.last_error = str(nothing)
            notification.save(update_fields=["status", "cancelled_at", "last_error"])
            return Outcome(Notification.Status.CANCELLED)
        except Exception as error:  # SMTP refusals, network errors, a down mail server
            conf = NotificationSettings.load()
            notification.last_error = f"{type(error).__name__}: {error}"[:2000]
            if notification.attempts >= conf.email_max_attempts:
                notification.status = Notification.Status.FAILED
                notification.failed_at = now
                notification.save(update_fields=["attempts", "last_error", "status", "failed_at"])
                logger.error("Notification %s failed for good: %s", notification.pk, notification.last_error)
                return Outcome(Notification.Status.FAILED)
            delay = backoff_seconds(notification.attempts, _retry_base(conf))
            notification.next_attempt_at = now + datetime.timedelta(seconds=delay)
            notification.enqueued_at = now
            notification.save(update_fields=["attempts", "last_error", "next_attempt_at", "enqueued_at"])
            return Outcome("retry", retry_in=delay)
        notification.status = Notification.Status.SENT
        notification.delivered_at = now
        notification.save(update_fields=["attempts", "status", "delivered_at", "last_error"])
    return Outcome(Notification.Status.SENT)


def webhook_deliver(*, delivery_id: int, now: datetime.datetime | None = None) -> Outcome:
    """POST one webhook delivery at most once per success, retried with backoff, then marked failed."""
    conf = NotificationSettings.load()
    with transaction.atomic():
        delivery = (
            WebhookDelivery.objects.select_for_update().select_related("subscription").filter(pk=delivery_id).first()
        )
        if delivery is None or delivery.status != WebhookDelivery.Status.PENDING:
            return Outcome(delivery.status if delivery else "missing")
        now = now or timezone.now()
        subscription = delivery.subscription
        delivery.attempts += 1
        response = webhooks.post(
            url=subscription.url,
            secret=subscription.secret,
            event_type=delivery.event_type,
            delivery_id=delivery.pk,
            payload=delivery.payload,
        )
        delivery.response_status = response.status
        if response.ok:
            delivery.status = WebhookDelivery.Status.DELIVERED
            delivery.delivered_at = now
            delivery.last_error = ""
            delivery.save()
            return Outcome(WebhookDelivery.Status.DELIVERED)
        delivery.last_error = response.error[:2000]
        if delivery.attempts >= conf.webhook_max_attempts:
            delivery.status = WebhookDelivery.Status.FAILED
            delivery.failed_at = now
            delivery.save()
            return Outcome(WebhookDelivery.Status.FAILED)
        delay = backoff_seconds(delivery.attempts, _retry_base(conf))
        delivery.next_attempt_at = now + datetime.timedelta(seconds=delay)
        delivery.enqueued_at = now
        delivery.save()
        return Outcome("retry", retry_in=delay)


def _due_for_sweep(model, pending: str, now: datetime.datetime, after: int):
    cutoff = now - datetime.timedelta(seconds=after)
    return model.objects.filter(status=pending).filter(
        Q(next_attempt_at__isnull=True, enqueued_at__lt=cutoff)
        | Q(next_attempt_at__isnull=True, enqueued_at__isnull=True)
        | Q(next_attempt_at__lt=cutoff)
    )


def undelivered_sweep(
    *, now: datetime.datetime | None = None, older_than: int | None = None, limit: int = 2000
) -> tuple[list[int], list[int]]:
    """Queue again what is still undelivered long after it was queued (broker down, worker killed).

    Returns (notification ids, webhook delivery ids) queued again. A row queued twice is still
    sent once: the delivery locks it and finds it already sent.
    """
    now = now or timezone.now()
    after = NotificationSettings.load().sweep_after_seconds if older_than is None else older_than
    with transaction.atomic():
        notes = list(
            _due_for_sweep(Notification, Notification.Status.PENDING, now, after)
            .select_for_update(skip_locked=True)
            .order_by("pk")
            .values_list("pk", flat=True)[:limit]
        )
        hooks = list(
            _due_for_sweep(WebhookDelivery, WebhookDelivery.Status.PENDING, now, after)
            .select_for_update(skip_locked=True)
            .order_by("pk")
            .values_list("pk", flat=True)[:limit]
        )
        Notification.objects.filter(pk__in=notes).update(enqueued_at=now, next_attempt_at=None)
        WebhookDelivery.objects.filter(pk__in=hooks).update(enqueued_at=now, next_attempt_at=None)
        if notes:
            transaction.on_commit(partial(_enqueue_notifications, notes))
        if hooks:
            transaction.on_commit(partial(_enqueue_webhooks, hooks))
    return notes, hooks


def _retry_failed(*, actor, model, pk: int, what: str, enqueue) -> Any:
    """Put a failed notification or webhook delivery back in the queue, from the start of its retries."""
    if not roles_of(actor).omb_admin:
        raise PermissionDenied(f"Only OMB admins retry {what}s.")
    with transaction.atomic():
        row = model.objects.select_for_update().get(pk=pk)
        if row.status != model.Status.FAILED:
            raise ValidationError(f"Only a failed {what} can be sent again.")
        row.status = model.Status.PENDING
        row.attempts = 0
        row.failed_at = None
        row.enqueued_at = timezone.now()
        row.save(update_fields=["status", "attempts", "failed_at", "enqueued_at"])
        transaction.on_commit(partial(enqueue, [row.pk]))
    return row


def notification_retry(*, actor, notification: Notification) -> Notification:
    """An OMB admin sends a failed notification again (from the admin)."""
    return _retry_failed(
        actor=actor, model=Notification, pk=notification.pk, what="notification", enqueue=_enqueue_notifications
    )


def webhook_delivery_retry(*, actor, delivery: WebhookDelivery) -> WebhookDelivery:
    return _retry_failed(
        actor=actor, model=WebhookDelivery, pk=delivery.pk, what="webhook delivery", enqueue=_enqueue_webhooks
    )


# --- the inbox, preferences and the calendar feed ---------------------------------------


def notification_mark_read(*, user, notification: Notification | int) -> Notification:
    notification_id = notification.pk if isinstance(notification, Notification) else notification
    with transaction.atomic():
        notification = Notification.objects.visible_to(user).select_for_update().get(pk=notification_id)
        if notification.read_at is None:
            notification.read_at = timezone.now()
            notification.save(update_fields=["read_at"])
    return notification


def notifications_mark_all_read(*, user) -> int:
    return Notification.objects.visible_to(user).unread().update(read_at=timezone.now())


def locked_rules(user) -> set[str]:
    """Rules this person may not switch off: meeting reminders, for deputy secretaries."""
    return {Rule.MEETING_REMINDER} if roles_of(user).deputy_of else set()


def preferences_of(user) -> dict[str, bool]:
    stored = dict(Preference.objects.filter(user=user).values_list("rule", "enabled"))
    locked = locked_rules(user)
    return {rule: (rule in locked) or stored.get(rule, True) for rule in Rule.values}


@transaction.atomic
def preferences_update(*, user, enabled: dict[str, bool]) -> dict[str, bool]:
    """Switch kinds of notification on or off; meeting reminders stay on for deputy secretaries."""
    unknown = set(enabled) - set(Rule.values)
    if unknown:
        raise ValidationError({"rule": f"Unknown notification kinds: {', '.join(sorted(unknown))}."})
    locked = locked_rules(user)
    refused = [rule for rule, on in enabled.items() if rule in locked and not on]
    if refused:
        raise ValidationError({"meeting_reminder": "Deputy secretaries always get the reminders before a meeting."})
    for rule, on in enabled.items():
        Preference.objects.update_or_create(user=user, rule=rule, defaults={"enabled": bool(on)})
    return preferences_of(user)


def delivery_failures_for(user) -> dict[str, int]:
    """E-mails and webhooks that failed for good, for OMB admins (the admin lists them and sends them
    again); nobody else is shown them."""
    if not roles_of(user).omb_admin:
        return {}
    return {
        "failed_emails": Notification.objects.filter(status=Notification.Status.FAILED).count(),
        "failed_webhooks": WebhookDelivery.objects.filter(status=WebhookDelivery.Status.FAILED).count(),
    }


def calendar_feed_of(user) -> CalendarFeed:
    feed, _ = CalendarFeed.objects.get_or_create(user=user)
    return feed


@transaction.atomic
def calendar_feed_replace(*, user) -> CalendarFeed:
    """A new private URL; the old one stops working at once."""
    CalendarFeed.objects.filter(user=user).delete()
    return CalendarFeed.objects.create(user=user)


@transaction.atomic
def calendar_feed_revoke(*, user) -> None:
    CalendarFeed.objects.filter(user=user).delete()
