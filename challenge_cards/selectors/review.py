"""OMB's review board with its filters (kept in the URL), and OMB's home summary: reads only.

The board is selectors.review_board (every open card, flagged) narrowed by the filters; the summary counts
the same flags in one query, each count a link to the board filtered to those cards. Both read every open
card, so for OMB the board's page of ids and the counts are kept in the cache until any card or action
changes (_kept): a page then costs the same whatever the size of the council.
"""

from __future__ import annotations

import datetime
import hashlib
from collections.abc import Callable
from dataclasses import dataclass

from django.core.paginator import Page, Paginator
from django.db.models import Count, Exists, OuterRef, Q
from django.utils import timezone

from agencies.roles import roles_of
from core.cache import best_effort_get, best_effort_set
from core.pagination import page_number_to_read, page_of

from ..models import ChallengeCard, FollowUpAction, Meeting
from ..querysets import agency_typed_q, due_card_q, overdue_action_q
from .pages import Flagged, cards_fingerprint, review_board, with_flags


@dataclass(frozen=True)
class BoardFilters:
    """The review board's filters, as the URL carries them (empty: not filtered)."""

    agency: str = ""  # typed: querysets.agency_typed_q
    priority: int | None = None
    status: str = ""
    rating: str = ""
    red: bool = False
    disagree: bool = False
    stale: bool = False
    overdue: bool = False

    def apply(self, cards: Flagged) -> Flagged:
        narrowed = {
            "priority_id": self.priority,
            "status": self.status or None,
            "is_red_or_at_risk": self.red or None,
            "ratings_differ": self.disagree or None,
            "is_stale": self.stale or None,
            "is_overdue": self.overdue or None,
        }
        cards = cards.filter(**{key: value for key, value in narrowed.items() if value is not None})
        if self.agency:
            cards = cards.filter(agency_typed_q(self.agency))
        if self.rating:
            cards = cards.filter(Q(agency_rating=self.rating) | Q(omb_rating=self.rating))
        return cards


def review_board_filtered(user, last_meeting: Meeting | None, filters: BoardFilters) -> Flagged:
    """The open cards (ChallengeCardQuerySet.open: the one rule every page counts by) the filters keep."""
    return filters.apply(review_board(user, last_meeting))


# How long a count or an order may be served from the cache at most (it is made again at once after a change).
KEPT_SECONDS = 300


def _kept[T](what: tuple, context: dict, compute: Callable[[], T]) -> T:
    """compute(), kept in the cache under `what`, the day, the last meeting and the cards' fingerprint (both
    from meeting_context(..., fingerprint=True)): for reads over every open card that OMB (who sees every
    card) makes, whose cost grows with the council.

    The day (overdue), the last meeting (not updated since) and a card or action saved change the key, so
    the read is made again on the first view after it, or after KEPT_SECONDS at most. Not seen before then:
    a deletion that leaves the newest id and time alone, and two writes that commit in the other order than
    they saved (docs/performance.md). A best-effort cache: unreachable, it is a miss.
    """
    last = context["last_meeting"]
    fingerprint = context.get("cards_fingerprint")
    if fingerprint is None:  # a context read without it
        fingerprint = cards_fingerprint()
    parts = (what, timezone.localdate(), last and (last.pk, last.starts_at), fingerprint)
    key = "cards-kept:" + hashlib.sha256(repr(parts).encode()).hexdigest()
    found = best_effort_get(key)
    if found is None:
        found = compute()
        best_effort_set(key, found, KEPT_SECONDS)
    return found


def review_board_page(user, context: dict, filters: BoardFilters, page_number: str | None, per_page: int) -> Page:
    """A page of the review board (review_board_filtered) with its total.

    Sorting every open card by its flags grows with the council, so for OMB the page's ids and the total are
    kept (_kept); the page's rows, flags and counts are then read fresh by id, in the board's order.
    """
    cards = review_board_filtered(user, context["last_meeting"], filters)
    number = page_number_to_read(page_number)
    if number is None or not roles_of(user).is_omb:
        return page_of(cards, page_number, per_page)

    def page_ids() -> tuple[list[int], int, int]:
        page = page_of(cards, number, per_page)
        return [card.pk for card in page], page.paginator.count, page.number

    ids, total, shown = _kept(("board", filters, number, per_page), context, page_ids)
    paginator = Paginator(cards, per_page)
    paginator.__dict__["count"] = total  # the total kept with the ids: no COUNT(*) of its own
    return Page(list(cards.filter(pk__in=ids)) if ids else [], shown, paginator)


def omb_summary(user, context: dict) -> dict[str, int]:
    """OMB's home: how many open cards (the board's rule), and how many of them are overdue, red or at risk,
    not updated since the last meeting, rated differently, due before the next meeting or with an overdue
    follow-up action (one query; for OMB kept by _kept, as counting every open card grows with the council).

    `context`: meeting_context's (the last and next meetings; with fingerprint=True, no query of its own).
    """
    last_meeting, next_meeting = context["last_meeting"], context["next_meeting"]
    if not roles_of(user).is_omb:
        return _count_summary(user, last_meeting, next_meeting)
    upcoming = next_meeting and (next_meeting.pk, next_meeting.starts_at)
    return _kept(("summary", upcoming), context, lambda: _count_summary(user, last_meeting, next_meeting))


def _count_summary(user, last_meeting: Meeting | None, next_meeting: Meeting | None) -> dict[str, int]:
    """The summary's counts: one query over the open cards."""
    today = timezone.localdate()
    until = next_meeting.starts_at_eastern.date() if next_meeting else today - datetime.timedelta(days=1)
    late_action = FollowUpAction.objects.filter(overdue_action_q(today), card=OuterRef("pk"))
    cards = with_flags(ChallengeCard.objects.visible_to(user).open(), last_meeting).annotate(
        late_action=Exists(late_action)
    )
    return cards.aggregate(
        open=Count("pk"),
        overdue=Count("pk", filter=Q(is_overdue=True)),
        red_or_at_risk=Count("pk", filter=Q(is_red_or_at_risk=True)),
        stale=Count("pk", filter=Q(is_stale=True)),
        disagree=Count("pk", filter=Q(ratings_differ=True)),
        due_soon=Count("pk", filter=due_card_q(today, until)),
        with_overdue_actions=Count("pk", filter=Q(late_action=True)),
    )
