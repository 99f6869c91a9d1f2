"""The reminder scan: everything due now (meeting reminders, stale cards, overdue actions) made and queued.

Beat runs it every few minutes and `manage.py send_reminders` by hand. It is safe to run twice,
or twice at once: each notification's key makes it once (see create.py). Which reminders are
due and who hears them are the rules' answers (rules.py); this turns them into rows.
"""

from __future__ import annotations

import datetime
from collections import Counter
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import BooleanField, ExpressionWrapper
from django.urls import reverse
from django.utils import timezone

from agencies.models import Agency, Role
from agencies.roles import prime_roles
from challenge_cards import permissions
from challenge_cards.models import EASTERN, ActionOwnerSide, ChallengeCard, FollowUpAction, Meeting
from challenge_cards.querysets import needs_update_q

from .. import rules
from ..models import DIGEST_WINDOW, EventType, Notification, NotificationSettings, Rule, WebhookSubscription
from .create import Planned, notifications_create, people_planned
from .webhooks import WebhookEvent, action_payload, webhook_events_create_many


@dataclass
class ScanResult:
    """What one scan queued, for the command's output and the beat log."""

    created: list[int] = field(default_factory=list)
    by_rule: Counter = field(default_factory=Counter)

    def lines(self) -> list[str]:
        if not self.created:
            return ["Nothing to send: every notification due now was already queued."]
        return [f"{count:>6}  {Rule(rule).label}" for rule, count in sorted(self.by_rule.items())]


def _plan_meeting_reminders(due: rules.DueReminder) -> list[Planned]:
    meeting = due.meeting
    last = Meeting.objects.previous_to(meeting)
    needs = needs_update_q(last.starts_at if last else None)
    counts: Counter = Counter()  # open cards: who gets a reminder
    to_update: Counter = Counter()  # of those, the cards that need an update (what the reminder asks)
    rows = ChallengeCard.objects.open().annotate(needs=ExpressionWrapper(needs, output_field=BooleanField()))
    for agency_id, parent_id, needed in rows.values_list("agency_id", "agency__parent_id", "needs"):
        for counted in (agency_id, parent_id) if parent_id else (agency_id,):
            counts[counted] += 1
            to_update[counted] += needed
    if not counts:
        return []
    agencies = Agency.objects.in_bulk(list(counts))
    people = rules.agency_people(list(counts))

    def make(agency_id: int, user_id: int) -> Planned:
        count = to_update[agency_id]
        abbreviation = agencies[agency_id].abbreviation
        title = (
            f"{meeting.title}: {count} card{'' if count == 1 else 's'} for {abbreviation} to update"
            if count
            else f"{meeting.title}: {abbreviation}'s cards are up to date"
        )
        return Planned(
            rule=Rule.MEETING_REMINDER,
            subject=f"meeting:{meeting.pk}/agency:{agency_id}",
            recipient_id=user_id,
            occurrence=due.occurrence,
            title=title,
            url=meeting.get_absolute_url(),
            meeting_id=meeting.pk,
            agency_id=agency_id,
        )

    return people_planned(Rule.MEETING_REMINDER, people, make)


def _plan_stale_cards(due: rules.DueReminder) -> list[Planned]:
    meeting = due.meeting
    count = rules.stale_cards_for(meeting).count()
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
            title=f"{meeting.title}: {count} {noun} not updated since the last meeting or since issued",
            url=meeting.get_absolute_url(),
            meeting_id=meeting.pk,
        )
        for user_id in admins
        if user_id not in off
    ]


def _overdue_actions(now: datetime.datetime) -> list[FollowUpAction]:
    """Open cards' overdue actions (the queryset's one rule), read once per scan for notifications and webhooks."""
    today = timezone.localdate(now)
    return list(
        FollowUpAction.objects.overdue(today).filter(card__disposition="open").select_related("card__agency", "owner")
    )


def _due_day(action: FollowUpAction) -> str:
    """An overdue action's due date, ISO: the overdue rule (due_date__lt) only keeps actions that have one."""
    assert action.due_date is not None, "an overdue action without a due date"
    return action.due_date.isoformat()


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
        owner_told = False
        if action.owner_id and permissions.can_view_card(owners[action.owner_id], action.card):
            owner_told = True
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
                    occurrence=f"due:{_due_day(action)}",
                    title=f"Follow-up action overdue ({action.card.agency.abbreviation}): {action.description[:150]}",
                    url=action.card.get_absolute_url(),
                    card_id=action.card_id,
                    meeting_id=action.card.meeting_id,
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
                f"action.overdue:{action.pk}:{_due_day(action)}",
                action_payload(action),
                frozenset({action.card.agency_id}),
            )
            for action in actions
            if action.card.agency_id in subscribed
        ],
    )


def _plan_digests(now: datetime.datetime, send_time: datetime.time) -> list[Planned]:
    """Once a day, from the send time on: one digest for each person with notifications left for it in the
    last 24 hours (its key, one per person and day, makes it once)."""
    local = now.astimezone(EASTERN)
    if local.time() < send_time:
        return []
    waiting = Counter(
        Notification.objects.filter(
            status=Notification.Status.IN_DIGEST, created_at__gte=now - DIGEST_WINDOW, created_at__lt=now
        ).values_list("recipient_id", flat=True)
    )
    return [
        Planned(
            rule=Rule.DAILY_DIGEST,
            subject=f"user:{user_id}",
            recipient_id=user_id,
            occurrence=f"day:{local.date().isoformat()}",
            title=f"Your daily digest: {count} notification{'' if count == 1 else 's'}",
            url=reverse("notifications:inbox"),
        )
        for user_id, count in sorted(waiting.items())
    ]


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
        if meeting is None:
            created += notifications_create(_plan_digests(now, conf.send_time), now=now)
    result.created = [n.pk for n in created]
    result.by_rule.update(n.rule for n in created)
    return result
