"""What is due before the next meeting: the deputy's and delegate's home, the API (/api/v1/me/due/) and the
reminder e-mail read it here, so all three list the same cards and follow-up actions in the same order."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.utils import timezone

from ..models import EASTERN, ChallengeCard, FollowUpAction, Meeting
from ..querysets import due_action_q, due_card_q, overdue_action_q

CARD, ACTION = "card", "action"


@dataclass(frozen=True)
class DueItem:
    """A card or a follow-up action due by the next meeting, with its days left (0: due today)."""

    kind: str
    id: int
    title: str
    due_date: datetime.date
    days_left: int
    card: ChallengeCard

    @property
    def url(self) -> str:
        return self.card.get_absolute_url() + (f"#action-{self.id}" if self.kind == ACTION else "")


def due_by(
    cards, actions, until: datetime.date, *, today: datetime.date | None = None, limit: int | None = None
) -> list[DueItem]:
    """Cards and follow-up actions due from today up to ``until`` (querysets.due_card_q, due_action_q), soonest first.

    ``cards`` and ``actions`` are the querysets to read (already limited to who asks); two queries.
    """
    today = today or timezone.localdate()
    card_rows = cards.filter(due_card_q(today, until)).select_related("agency")
    action_rows = actions.filter(due_action_q(today, until)).select_related("card__agency").order_by("due_date", "id")
    items = as_items(list(card_rows.order_by("due_date", "id")[:limit]), list(action_rows[:limit]), today)
    return items[:limit]


def due_before_next_meeting(
    user, next_meeting: Meeting | None, *, today: datetime.date | None = None, limit: int | None = None
) -> list[DueItem]:
    """The cards and follow-up actions the user may see that are due by the next meeting, soonest first."""
    if next_meeting is None:
        return []
    until = next_meeting.starts_at.astimezone(EASTERN).date()
    return due_by(
        ChallengeCard.objects.visible_to(user), FollowUpAction.objects.visible_to(user), until, today=today, limit=limit
    )


def as_items(cards: list[ChallengeCard], actions: list[FollowUpAction], today: datetime.date) -> list[DueItem]:
    """Cards and actions read already (the home page's reads), as DueItems soonest first."""
    items = [DueItem(CARD, card.pk, card.title, card.due_date, (card.due_date - today).days, card) for card in cards]
    items += [
        DueItem(ACTION, a.pk, a.description, a.due_date, (a.due_date - today).days, a.card)
        for a in actions
        if a.due_date is not None
    ]
    items.sort(key=lambda item: (item.due_date, item.kind != CARD, item.id))
    return items


def home_actions(
    user,
    until: datetime.date | None,
    *,
    today: datetime.date | None = None,
    overdue_shown: int = 20,
    due_shown: int = 30,
) -> tuple[list[FollowUpAction], list[FollowUpAction]]:
    """The home page's overdue follow-up actions and those due by ``until``, in one query (two LIMIT sub-selects)."""
    today = today or timezone.localdate()
    visible = FollowUpAction.objects.visible_to(user)
    ordered = visible.order_by("due_date", "id").values("pk")
    wanted = ordered.filter(overdue_action_q(today), card__disposition="open")[:overdue_shown]
    if until is not None:
        # One IN over a UNION, not two INs joined by OR: with OR the database read every action to test both.
        wanted = wanted.union(ordered.filter(due_action_q(today, until))[:due_shown], all=True)
    rows = list(visible.filter(pk__in=wanted).select_related("card__agency", "owner").order_by("due_date", "id"))
    overdue = [a for a in rows if a.due_date is not None and a.due_date < today]
    return overdue, [a for a in rows if a.due_date is not None and a.due_date >= today]
