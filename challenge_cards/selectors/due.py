"""What is due before the next meeting: the deputy's and delegate's home, the API (/api/v1/me/due/) and the
reminder e-mail read it here, so all three list the same cards and follow-up actions in the same order."""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connections, router
from django.db.models import Q, QuerySet
from django.utils import timezone

from agencies.roles import roles_of
from core.db.compiled import CompiledSql

from ..models import EASTERN, ChallengeCard, FollowUpAction, Meeting
from ..querysets import due_action_q, due_card_q, overdue_action_q
from .cards import kept_rows
from .home_rows import HomeAction

CARD, ACTION = "card", "action"


@dataclass(frozen=True)
class DueItem:
    """A card or a follow-up action due by the next meeting, with its days left (0: due today)."""

    kind: str
    id: int
    title: str
    due_date: datetime.date
    days_left: int
    card: Any  # a ChallengeCard, or a card as the home page reads it (selectors.home_rows)

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


def as_items(cards: Sequence[Any], actions: Sequence[Any], today: datetime.date) -> list[DueItem]:
    """Cards and actions read already (model instances, or the home page's rows), as DueItems soonest first."""
    items = [DueItem(CARD, card.pk, card.title, card.due_date, (card.due_date - today).days, card) for card in cards]
    items += [
        DueItem(ACTION, a.pk, a.description, a.due_date, (a.due_date - today).days, a.card)
        for a in actions
        if a.due_date is not None
    ]
    items.sort(key=lambda item: (item.due_date, item.kind != CARD, item.id))
    return items


# The home page's actions' SQL, kept per who asks (see home_actions).
_HOME_ACTIONS_SQL = CompiledSql()


def home_actions(
    user,
    until: datetime.date | None,
    *,
    today: datetime.date | None = None,
    overdue_shown: int = 20,
    due_shown: int = 30,
) -> tuple[list[HomeAction], list[HomeAction]]:
    """The home page's overdue follow-up actions and those due by ``until``, in one query (two LIMIT sub-selects),
    as HomeActions; the SQL built once per who asks (their roles) and lengths, today and ``until`` in slots."""
    today = today or timezone.localdate()
    values = [today] if until is None else [today, until]

    def build(slots: tuple) -> QuerySet:
        today, *until = slots
        visible = FollowUpAction.objects.visible_to(user)
        ordered = visible.order_by("due_date", "id").values("pk")
        overdue = ordered.filter(overdue_action_q(today), card__disposition="open")[:overdue_shown]
        wanted = Q(pk__in=overdue)
        if until:
            due = ordered.filter(due_action_q(today, until[0]))[:due_shown]
            # One IN over a UNION, not two INs joined by OR: with OR PostgreSQL read every action to test both.
            # SQLite takes no LIMIT in a UNION's parts (the ORM refuses it): there, the OR (kept_rows's database).
            union = connections[router.db_for_read(ChallengeCard)].features.supports_slicing_ordering_in_compound
            wanted = Q(pk__in=overdue.union(due, all=True)) if union else wanted | Q(pk__in=due)
        return visible.filter(wanted).order_by("due_date", "id").values_list(*HomeAction.COLUMNS)

    key = ("home actions", roles_of(user), overdue_shown, due_shown, until is not None)
    rows = [HomeAction(row) for row in kept_rows(key, build, values, kept=_HOME_ACTIONS_SQL)]
    overdue = [a for a in rows if a.due_date is not None and a.due_date < today]
    return overdue, [a for a in rows if a.due_date is not None and a.due_date >= today]
