"""Webhook events for agency subscriptions: one delivery row per (subscription, event), sent after commit.

The payloads live here too, so every event type describes a card, an update, an action or a
meeting the same way. Signing and the HTTP request are in notifications/webhooks.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from challenge_cards.models import CardUpdate, ChallengeCard, FollowUpAction, Meeting

from ..models import WebhookDelivery, WebhookSubscription
from . import enqueue


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
    # No savepoint: a failure here fails the change that caused it (the caller's transaction).
    with transaction.atomic(savepoint=False):
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
            transaction.on_commit(partial(enqueue.webhook_deliveries, [d.pk for d in deliveries]))
    return deliveries


# --- payloads: what a subscriber receives about each kind of thing ------------------------


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
