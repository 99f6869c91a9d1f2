"""What each domain event causes: notification rows and webhook deliveries (receivers.py calls these).

They run inside the card service's transaction, so they only write rows; sending happens after
commit. challenge_cards never imports this: it sends signals and we listen.
"""

from __future__ import annotations

from collections.abc import Callable

from django.contrib.auth import get_user_model
from django.db.models import BooleanField, Exists, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce, JSONObject
from django.utils import timezone

from challenge_cards.models import CardUpdate, ChallengeCard, FollowUpAction, Meeting

from .. import rules
from ..models import SCAN_RULES, EventType, Notification, NotificationSettings, Rule, WebhookSubscription
from .create import Planned, Recipient, notifications_create, people_planned
from .reminders import reminders_scan
from .webhooks import (
    WebhookEvent,
    action_payload,
    card_payload,
    meeting_payload,
    update_payload,
    webhook_events_create,
    webhook_events_create_many,
)


def _card_issued_for(card: ChallengeCard) -> Callable[[int, int], Planned]:
    def make(agency_id: int, user_id: int) -> Planned:
        return Planned(
            rule=Rule.CARD_ISSUED,
            subject=f"card:{card.pk}",
            recipient_id=user_id,
            occurrence="issued",
            title=f"New challenge card for {card.agency.abbreviation}: {card.title}",
            url=card.get_absolute_url(),
            card_id=card.pk,
            agency_id=card.agency_id,
            meeting_id=card.meeting_id,
        )

    return make


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
        planned += people_planned(
            Rule.CARD_ISSUED,
            {card.agency_id: people.get(card.agency_id, [])},
            _card_issued_for(card),
        )
    return notifications_create(planned)


def _carried_over_for(card: ChallengeCard, predecessor: ChallengeCard) -> Callable[[int, int], Planned]:
    def make(agency_id: int, user_id: int) -> Planned:
        return Planned(
            rule=Rule.CARD_ISSUED,
            subject=f"card:{card.pk}",
            recipient_id=user_id,
            occurrence="carried_over",
            title=(
                f"Card carried over for {card.agency.abbreviation}: {card.title}, "
                f"now due {card.due_date:%B} {card.due_date.day}, {card.due_date.year}"
            ),
            url=card.get_absolute_url(),
            card_id=card.pk,
            agency_id=card.agency_id,
            meeting_id=card.meeting_id,
        )

    return make


def card_carried_over_notify(*, card: ChallengeCard, predecessor: ChallengeCard) -> list[Notification]:
    """A carried-over card is the same ask continuing: the agency hears "carried over", never "new card".

    Agency tools still get the card.issued webhook (a new card id to sync), with carried_over_from set.
    """
    webhook_events_create(
        event_type=EventType.CARD_ISSUED,
        event_id=f"card.issued:{card.pk}",
        payload=card_payload(card),
        agency_ids={card.agency_id},
    )
    if not NotificationSettings.load().card_issued_enabled:
        return []
    people = rules.agency_people([card.agency_id])
    planned = people_planned(
        Rule.CARD_ISSUED, {card.agency_id: people.get(card.agency_id, [])}, _carried_over_for(card, predecessor)
    )
    return notifications_create(planned)


def card_updated_notify(*, update: CardUpdate, actor) -> list[Notification]:
    """The OMB admin who issued the card hears that the agency posted an update.

    What decides it (card_updated_facts) comes with the card the update locked, or else in one query.
    """
    card = update.card
    facts = getattr(card, "card_updated_facts", None)  # read with the locked card (settings.CARD_UPDATE_ANNOTATIONS)
    if facts is None:
        facts = ChallengeCard.objects.filter(pk=card.pk).values_list(card_updated_facts(), flat=True).get()
    if facts["subscribed"]:
        webhook_events_create(
            event_type=EventType.CARD_UPDATED,
            event_id=f"card.updated:{update.pk}",
            payload=update_payload(update),
            agency_ids={card.agency_id},
        )
    issuer_id = card.issued_by_id
    if not issuer_id or issuer_id == getattr(actor, "pk", None):
        return []
    if not facts["enabled"] or facts["switched_off"]:
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
                meeting_id=card.meeting_id,  # the inbox and the daily digest group by meeting
            )
        ],
        recipients={issuer_id: Recipient(facts["email"] or "", bool(facts["digest"]))},
        keys_are_new=True,  # the subject is the update made in this transaction
    )


def card_updated_facts() -> JSONObject:
    """What card_updated_notify decides on, as one value of the card's row: whether the agency has webhook
    subscribers, the site-wide switch, and the issuer's preference, address and digest choice."""
    issuer = OuterRef("issued_by_id")
    settings = NotificationSettings.objects.filter(pk=1)  # NotificationSettings.load's one row
    return JSONObject(
        subscribed=Exists(
            WebhookSubscription.objects.filter(
                active=True, event_type=EventType.CARD_UPDATED, agency_id=OuterRef("agency_id")
            )
        ),
        enabled=Coalesce(Subquery(settings.values("card_updated_enabled")), Value(True), output_field=BooleanField()),
        switched_off=rules.is_switched_off(Rule.CARD_UPDATED, issuer),
        email=Subquery(get_user_model().objects.filter(pk=issuer).values("email")),
        digest=rules.gets_digest(issuer),
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


def _cancel_pending(queryset: QuerySet[Notification], reason: str) -> int:
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
