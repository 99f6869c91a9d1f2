"""Every read that pages and the API share, each starting from visible_to(user), at a fixed number of queries.

Callers use one style: `from challenge_cards import selectors; selectors.card_detail(user, pk)`.
"""

from core.pagination import ListPage, list_page

from .cards import LockedCard, RowPage, card_detail_row, card_for_update, card_list_page
from .due import DueItem, as_items, due_before_next_meeting, due_by, home_actions
from .pages import (
    HOME_ORDER,
    agencies_with_counts,
    agency_prefetch_deputies,
    awaiting_my_certification,
    card_actions,
    card_detail,
    card_evidence,
    card_list,
    card_timeline,
    certifications_awaiting_me,
    home_cards,
    home_reads,
    home_sections,
    meeting_cards,
    meeting_context,
    meetings_with_counts,
    overdue_actions,
    review_board,
    review_row,
    with_action_counts,
    with_flags,
)
from .review import BoardFilters, omb_summary, review_board_filtered, review_board_page

__all__ = [
    "BoardFilters",
    "HOME_ORDER",
    "ListPage",
    "LockedCard",
    "DueItem",
    "RowPage",
    "agencies_with_counts",
    "agency_prefetch_deputies",
    "as_items",
    "awaiting_my_certification",
    "card_actions",
    "card_detail",
    "card_detail_row",
    "card_evidence",
    "card_for_update",
    "card_list",
    "card_list_page",
    "card_timeline",
    "certifications_awaiting_me",
    "due_before_next_meeting",
    "due_by",
    "home_actions",
    "home_cards",
    "home_reads",
    "home_sections",
    "list_page",
    "meeting_cards",
    "meeting_context",
    "meetings_with_counts",
    "omb_summary",
    "overdue_actions",
    "review_board",
    "review_board_filtered",
    "review_board_page",
    "review_row",
    "with_action_counts",
    "with_flags",
]
