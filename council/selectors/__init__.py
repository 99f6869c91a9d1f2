"""The reads pages and the API share: ``from council import selectors; selectors.initiative_rollup(...)``."""

from .initiatives import (
    AgencyRow,
    InitiativeRollup,
    MeetingTotal,
    initiative_rollup,
    initiative_rollups,
    rollups_of,
    totals_by_meeting,
    with_cards,
)
from .records import RecordView, record_content, record_detail, record_view

__all__ = [
    "AgencyRow",
    "InitiativeRollup",
    "MeetingTotal",
    "initiative_rollup",
    "initiative_rollups",
    "rollups_of",
    "totals_by_meeting",
    "RecordView",
    "record_content",
    "record_detail",
    "record_view",
    "with_cards",
]
