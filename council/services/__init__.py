"""Every write of the council: initiatives, comments, the meeting's record (one module per use case).

Callers use one style: ``from council import services; services.comment_post(...)``. Each function
runs in one transaction, checks who may do it, keeps its history and sends a domain signal.
"""

from .comments import EDIT_WINDOW, can_edit, comment_edit, comment_post, editable_until, mentioned_names
from .initiatives import (
    initiative_card_remove,
    initiative_cards_add,
    initiative_create,
    initiative_follow_carry_over,
    initiative_issue,
    initiative_join_issued,
    initiative_share,
)
from .records import (
    close_out_decisions,
    record_attendance_set,
    record_correct,
    record_minutes_set,
    record_publish,
)

__all__ = [
    "EDIT_WINDOW",
    "can_edit",
    "close_out_decisions",
    "comment_edit",
    "comment_post",
    "editable_until",
    "initiative_card_remove",
    "initiative_cards_add",
    "initiative_create",
    "initiative_follow_carry_over",
    "initiative_issue",
    "initiative_join_issued",
    "initiative_share",
    "mentioned_names",
    "record_attendance_set",
    "record_correct",
    "record_minutes_set",
    "record_publish",
]
