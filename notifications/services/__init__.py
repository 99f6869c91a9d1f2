"""Every write of the notifications app, one module per concern. Callers use one style:
``from notifications import services; services.reminders_scan(...)``.

- create: the one way a notification row is made (its key makes it once; e-mail queued after commit)
- events: what each domain event causes (receivers.py calls these inside the card service's transaction)
- reminders: the scan beat and ``manage.py send_reminders`` run
- webhooks: webhook events for agency subscriptions, and their payloads
- delivery: e-mail in batches (claimed, sent, recorded), webhooks; retries with backoff, the sweeper, retry by hand
- inbox, preferences, calendar: what a person does on their own pages
- enqueue: the one door to the broker (IDs, after commit)
"""

from .calendar import calendar_feed_of, calendar_feed_replace, calendar_feed_revoke
from .create import Planned, notifications_create
from .delivery import (
    Batch,
    Outcome,
    backoff_seconds,
    claim_lease,
    notification_deliver,
    notification_retry,
    notifications_deliver,
    undelivered_sweep,
    webhook_deliver,
    webhook_delivery_retry,
)
from .events import (
    action_changed_notify,
    card_carried_over_notify,
    card_reviewed_notify,
    card_updated_notify,
    cards_issued_notify,
    meeting_cancelled_notify,
    meeting_moved_notify,
)
from .inbox import delivery_failures_for, notification_mark_read, notifications_mark_all_read
from .preferences import locked_rules, preferences_of, preferences_update
from .reminders import ScanResult, reminders_scan
from .webhooks import (
    WebhookEvent,
    action_payload,
    card_payload,
    meeting_payload,
    update_payload,
    webhook_events_create,
    webhook_events_create_many,
)

__all__ = [
    "Batch",
    "Outcome",
    "Planned",
    "ScanResult",
    "WebhookEvent",
    "action_changed_notify",
    "action_payload",
    "backoff_seconds",
    "calendar_feed_of",
    "calendar_feed_replace",
    "calendar_feed_revoke",
    "card_carried_over_notify",
    "card_payload",
    "card_reviewed_notify",
    "card_updated_notify",
    "claim_lease",
    "cards_issued_notify",
    "delivery_failures_for",
    "locked_rules",
    "meeting_cancelled_notify",
    "meeting_moved_notify",
    "meeting_payload",
    "notification_deliver",
    "notification_mark_read",
    "notification_retry",
    "notifications_create",
    "notifications_deliver",
    "notifications_mark_all_read",
    "preferences_of",
    "preferences_update",
    "reminders_scan",
    "undelivered_sweep",
    "update_payload",
    "webhook_deliver",
    "webhook_delivery_retry",
    "webhook_events_create",
    "webhook_events_create_many",
]
