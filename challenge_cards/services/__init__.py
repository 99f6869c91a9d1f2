"""Every write to meetings, cards, follow-up actions and their history, one module per use case.

Views, the API, the admin, management commands and Celery tasks all call these, so each
rule lives here once. Each function runs in one transaction, locks the row it changes,
refuses a stale write (``expected_version``) and appends a history row. Callers use one
style: ``from challenge_cards import services; services.card_update(...)``.
"""

from agencies.services import agency_set_certification

from ..domain import (
    ALLOWED_TRANSITIONS,
    EVIDENCE_MAX_BYTES,
    EVIDENCE_TYPES,
    MEETING_YEARS,
    MEETING_YEARS_MESSAGE,
    NOTE_REQUIRED_FOR,
)
from ._common import UNSET, StaleWrite, on_behalf_of_for
from .actions import (
    action_add,
    action_change,
    action_change_due_date,
    action_complete,
    action_drop,
    action_reassign,
    action_reopen,
)
from .cards import (
    DRAFT_OUTDATED_MESSAGE,
    card_issue,
    card_update,
    card_update_certify,
    interim_target_add,
)
from .closeout import (
    CloseOut,
    CloseOutItem,
    card_continue,
    closeout_meeting_for,
    meeting_close,
    meeting_closeout,
    meeting_undecided_cards,
)
from .evidence import evidence_add
from .meetings import (
    default_due_date,
    meeting_cancel,
    meeting_mark_held,
    meeting_schedule,
    meeting_schedule_next,
    meeting_update,
    next_monthly_start,
)
from .packets import (
    packet_build,
    packet_is_stuck,
    packet_pdf_pieces,
    packet_request,
    packet_requeue_stuck,
    packet_reset,
)
from .review import card_carry_over, card_decide, card_return, card_review, cards_decide

__all__ = [
    # rule tables, read from domain (kept here for callers that still name them through services)
    "ALLOWED_TRANSITIONS",
    "EVIDENCE_MAX_BYTES",
    "EVIDENCE_TYPES",
    "MEETING_YEARS",
    "MEETING_YEARS_MESSAGE",
    "NOTE_REQUIRED_FOR",
    # shared
    "UNSET",
    "StaleWrite",
    "on_behalf_of_for",
    # actions
    "action_add",
    "action_change",
    "action_change_due_date",
    "action_complete",
    "action_drop",
    "action_reassign",
    "action_reopen",
    # cards
    "DRAFT_OUTDATED_MESSAGE",
    "agency_set_certification",
    "card_issue",
    "card_update",
    "card_update_certify",
    "interim_target_add",
    # close-out
    "CloseOut",
    "CloseOutItem",
    "card_continue",
    "closeout_meeting_for",
    "meeting_closeout",
    # evidence
    "evidence_add",
    # meetings
    "default_due_date",
    "meeting_cancel",
    "meeting_close",
    "meeting_mark_held",
    "meeting_schedule",
    "meeting_schedule_next",
    "meeting_undecided_cards",
    "meeting_update",
    "next_monthly_start",
    # packets
    "packet_build",
    "packet_is_stuck",
    "packet_pdf_pieces",
    "packet_request",
    "packet_requeue_stuck",
    "packet_reset",
    # review
    "card_carry_over",
    "card_decide",
    "card_return",
    "card_review",
    "cards_decide",
]
