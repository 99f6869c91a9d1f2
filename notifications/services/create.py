"""The one way a notification row is made: planned, deduplicated by its key, e-mail queued after commit.

Creation runs inside the caller's transaction (a card service's, or the scan's own), so a
change and its notifications commit or roll back together.
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Callable, Collection
from dataclasses import dataclass
from functools import partial

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import OuterRef
from django.utils import timezone

from .. import rules
from ..models import DIGEST_RULES, Notification
from . import enqueue


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


def people_planned(
    rule: str,
    people: dict[int, list[tuple[int, str]]],
    make: Callable[[int, int], Planned],
    skip_user_ids: Collection[int] = frozenset(),
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


def _status(planned: Planned, recipient: Recipient | None) -> str:
    """Pending (e-mailed now), in the inbox only (no address), or left for the recipient's daily digest."""
    if recipient is None or not recipient.email:
        return Notification.Status.NO_EMAIL
    if planned.rule in DIGEST_RULES and recipient.digest:
        return Notification.Status.IN_DIGEST
    return Notification.Status.PENDING


@dataclass(frozen=True)
class Recipient:
    """What the row's status depends on: the address, and whether the person gets a daily digest."""

    email: str
    digest: bool


def notifications_create(
    planned: list[Planned],
    *,
    now: datetime.datetime | None = None,
    recipients: dict[int, Recipient] | None = None,
    keys_are_new: bool = False,
) -> list[Notification]:
    """Insert the planned notifications, skipping keys that exist; queue e-mail after commit.

    The unique key (rule, subject, recipient, occurrence) holds even when two scans run at
    once: the database keeps one row and the other insert does nothing.

    recipients: the caller read them already (every recipient's); otherwise one query here.
    keys_are_new: every key names a row made in this transaction (a new update's id), so no other
    transaction can hold it: a plain INSERT returns the ids, with no conflict to skip and no re-read.
    """
    if not planned:
        return []
    now = now or timezone.now()
    batch = uuid.uuid4()
    if recipients is None:
        recipients = recipients_of({p.recipient_id for p in planned})
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
            status=_status(p, recipients.get(p.recipient_id)),
            enqueued_at=now,
        )
        for p in planned
    ]
    # No savepoint: a failure here fails the change that caused it (the caller's transaction).
    with transaction.atomic(savepoint=False):
        if keys_are_new:
            created = Notification.objects.bulk_create(rows, batch_size=500)
        else:
            Notification.objects.bulk_create(rows, ignore_conflicts=True, batch_size=500)
            created = list(Notification.objects.filter(batch=batch).order_by("pk"))
        to_send = [n.pk for n in created if n.status == Notification.Status.PENDING]
        if to_send:
            transaction.on_commit(partial(enqueue.notifications, to_send))
    return created


def recipients_of(user_ids: set[int]) -> dict[int, Recipient]:
    """The recipients' addresses and digest choices, in one query."""
    users = get_user_model().objects.filter(pk__in=user_ids)
    digest = rules.gets_digest(OuterRef("pk"))
    return {pk: Recipient(email, bool(on)) for pk, email, on in users.values_list("pk", "email", digest)}
