"""OMB's review board with its filters (kept in the URL), and OMB's home summary: reads only.

The board is selectors.review_board (every open card, flagged) narrowed by the filters; the summary counts
the same flags in one query, each count a link to the board filtered to those cards.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db.models import Count, Exists, OuterRef, Q
from django.utils import timezone

from ..models import ChallengeCard, FollowUpAction, Meeting
from ..querysets import due_card_q, overdue_action_q
from .pages import Flagged, review_board, with_flags


@dataclass(frozen=True)
class BoardFilters:
    """The review board's filters, as the URL carries them (empty: not filtered)."""

    agency: int | None = None
    priority: int | None = None
    status: str = ""
    rating: str = ""
    red: bool = False
    disagree: bool = False
    stale: bool = False
    overdue: bool = False

    def apply(self, cards: Flagged) -> Flagged:
        narrowed = {
            "agency_id": self.agency,
            "priority_id": self.priority,
            "status": self.status or None,
            "is_red_or_at_risk": self.red or None,
            "ratings_differ": self.disagree or None,
            "is_stale": self.stale or None,
            "is_overdue": self.overdue or None,
        }
        cards = cards.filter(**{key: value for key, value in narrowed.items() if value is not None})
        if self.rating:
            cards = cards.filter(Q(agency_rating=self.rating) | Q(omb_rating=self.rating))
        return cards


def review_board_filtered(user, last_meeting: Meeting | None, filters: BoardFilters) -> Flagged:
    """The open cards (ChallengeCardQuerySet.open: the one rule every page counts by) the filters keep."""
    return filters.apply(review_board(user, last_meeting))


def omb_summary(user, last_meeting: Meeting | None, next_meeting: Meeting | None) -> dict[str, int]:
    """OMB's home: how many open cards (the board's rule), and how many of them are overdue, red or at risk,
    not updated since the last meeting, rated differently, due before the next meeting or with an overdue
    follow-up action: one query."""
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
