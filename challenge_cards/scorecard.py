"""The scorecard: agencies against PMA priorities, the agency's and OMB's ratings, and the movement.

Like the PMA Executive Management Scorecard (2001-2008), each cell is a traffic light, always
with its word. A cell covers the cards an agency was issued at the chosen meeting under one
priority; its rating is the worst of those cards' ratings (one red card makes the cell red).
The movement compares it with the same cell at the previous meeting. A page of agencies costs
four queries, whatever the number of agencies and cards.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, cast

from django.db.models import Case, Count, Exists, Max, OuterRef, Value, When
from django.utils import timezone

from agencies.models import Agency

from . import selectors
from .models import ChallengeCard, Meeting, PmaPriority, Rating
from .querysets import open_card_q

RANK = {"": 0, Rating.GREEN: 1, Rating.YELLOW: 2, Rating.RED: 3}
IMPROVED, WORSE, SAME, NEW, UNRATED, EMPTY = "improved", "worse", "same", "new", "unrated", "empty"
MOVEMENT_LABELS = {
    IMPROVED: "Improved",
    WORSE: "Worse",
    SAME: "No change",
    NEW: "New this meeting",
    UNRATED: "Not comparable: not rated",
    EMPTY: "No cards",
}


def movement(now: str, before: str | None, *, card_count: int = 1) -> str:
    """Compared with the previous meeting: green is better than yellow, yellow better than red."""
    if card_count == 0:
        return EMPTY
    if before is None:
        return NEW
    if not before or not now:
        return UNRATED
    if RANK[now] < RANK[before]:
        return IMPROVED
    if RANK[now] > RANK[before]:
        return WORSE
    return SAME


@dataclass
class Cell:
    card_count: int = 0
    open_count: int = 0  # of those, still open (querysets.open_card_q, the rule every page counts by)
    agency_rating: str = ""
    omb_rating: str = ""
    previous_agency_rating: str | None = None  # None: no card in this cell at the previous meeting
    previous_omb_rating: str | None = None

    @property
    def agency_movement(self) -> str:
        return movement(self.agency_rating, self.previous_agency_rating, card_count=self.card_count)

    @property
    def omb_movement(self) -> str:
        return movement(self.omb_rating, self.previous_omb_rating, card_count=self.card_count)

    @property
    def agency_movement_label(self) -> str:
        return MOVEMENT_LABELS[self.agency_movement]

    @property
    def omb_movement_label(self) -> str:
        return MOVEMENT_LABELS[self.omb_movement]


@dataclass
class Row:
    agency: Agency
    cells: list[Cell] = field(default_factory=list)


@dataclass
class Scorecard:
    meeting: Meeting | None
    previous: Meeting | None
    priorities: list[PmaPriority]
    rows: list[Row]
    page: selectors.ListPage | None = None  # the page of agencies that `rows` are, when paged


def meetings_for(user) -> list[Meeting]:
    """The meetings a scorecard can show (not cancelled), newest first, each marked `has_cards`: one query
    that serves the meeting picker, the default meeting and the previous meeting."""
    has_cards = Exists(ChallengeCard.objects.filter(meeting=OuterRef("pk")))
    return list(
        Meeting.objects.visible_to(user)
        .exclude(status=Meeting.Status.CANCELLED)
        .annotate(has_cards=has_cards)
        .order_by("-starts_at", "-pk")
    )


def default_meeting(meetings: list[Meeting]) -> Meeting | None:
    """The latest meeting held so far that has cards; else the first one with cards (a new council)."""
    with_cards = [meeting for meeting in meetings if cast(Any, meeting).has_cards]  # annotated by meetings_for
    now = timezone.now()
    held = [meeting for meeting in with_cards if meeting.starts_at <= now]
    return held[0] if held else (with_cards[-1] if with_cards else None)


def previous_in(meetings: list[Meeting], meeting: Meeting) -> Meeting | None:
    """Meeting.objects.previous_to, answered from meetings_for's list."""
    return next((earlier for earlier in meetings if earlier.starts_at < meeting.starts_at), None)


# Agencies a scorecard page shows (sorted by name, as the whole scorecard's export is).
AGENCIES_PER_PAGE = 50
# The worst card of a cell has the highest rank (RANK above), computed by the database per cell.
_RATING_OF_RANK = {rank: rating for rating, rank in RANK.items()}


def _rank(column: str) -> Max:
    return Max(
        Case(*(When(**{column: rating}, then=Value(rank)) for rating, rank in RANK.items() if rating), default=0)
    )


def build(
    user,
    meeting: Meeting | None,
    meetings: list[Meeting] | None = None,
    *,
    page_number: str | None = None,
    cursor: str | None = None,
    per_page: int | None = None,
) -> Scorecard:
    """The scorecard of a meeting; with meetings_for's list, the previous meeting costs no query.

    With `per_page`, only page `page_number` (or the page `cursor` names) of the agencies (by name) and their
    cells are read: one query for the page of agencies (with their count, see selectors.list_page), one grouped
    query for their cells, so a page costs the same whatever the number of agencies. Without it, every agency
    (the exports).
    """
    priorities = list(PmaPriority.objects.order_by("number"))
    if meeting is None:
        return Scorecard(meeting=None, previous=None, priorities=priorities, rows=[])
    previous = previous_in(meetings, meeting) if meetings is not None else Meeting.objects.previous_to(meeting)
    meeting_ids = [meeting.pk] + ([previous.pk] if previous else [])
    visible = ChallengeCard.objects.visible_to(user).filter(meeting_id__in=meeting_ids)
    agencies = (
        Agency.objects.visible_to(user).filter(Exists(visible.filter(agency_id=OuterRef("pk")))).order_by("name", "pk")
    )
    page = None
    if per_page is not None:
        page = selectors.list_page(agencies, page_number, per_page, cursor=cursor)
        listed: list[Agency] = page.object_list
        cells = visible.filter(agency_id__in=[agency.pk for agency in listed])
    else:
        listed, cells = list(agencies), visible
    grouped = (
        cells.order_by()
        .values_list("meeting_id", "agency_id", "priority_id")
        .annotate(
            cards=Count("pk"),
            still_open=Count("pk", filter=open_card_q()),
            agency_rank=_rank("agency_rating"),
            omb_rank=_rank("omb_rating"),
        )
    )
    now: dict[tuple[int, int], tuple[int, int, str, str]] = {}
    before: dict[tuple[int, int], tuple[str, str]] = {}
    for meeting_id, agency_id, priority_id, count, still_open, agency_rank, omb_rank in grouped:
        ratings = (_RATING_OF_RANK[agency_rank], _RATING_OF_RANK[omb_rank])
        if meeting_id == meeting.pk:
            now[(agency_id, priority_id)] = (count, still_open, *ratings)
        else:
            before[(agency_id, priority_id)] = ratings
    rows = []
    for agency in listed:
        row = Row(agency=agency)
        for priority in priorities:
            count, still_open, agency_rating, omb_rating = now.get((agency.pk, priority.pk), (0, 0, "", ""))
            earlier = before.get((agency.pk, priority.pk))
            row.cells.append(
                Cell(
                    card_count=count,
                    open_count=still_open,
                    agency_rating=agency_rating,
                    omb_rating=omb_rating,
                    previous_agency_rating=earlier[0] if earlier else None,
                    previous_omb_rating=earlier[1] if earlier else None,
                )
            )
        rows.append(row)
    return Scorecard(meeting=meeting, previous=previous, priorities=priorities, rows=rows, page=page)


def _rating_text(value: str | None) -> str:
    return Rating(value).label if value else "Not rated"


def table(scorecard: Scorecard) -> tuple[list[str], list[list]]:
    """The scorecard flattened for CSV and XLSX: one row per agency and priority."""
    header = [
        "Agency",
        "Abbreviation",
        "PMA priority",
        "Cards",
        "Agency rating",
        "Agency rating movement",
        "OMB rating",
        "OMB rating movement",
        "Agency rating at previous meeting",
        "OMB rating at previous meeting",
    ]
    lines = []
    for row in scorecard.rows:
        for priority, cell in zip(scorecard.priorities, row.cells, strict=True):
            lines.append(
                [
                    row.agency.name,
                    row.agency.abbreviation,
                    str(priority),
                    cell.card_count,
                    _rating_text(cell.agency_rating),
                    cell.agency_movement_label,
                    _rating_text(cell.omb_rating),
                    cell.omb_movement_label,
                    _rating_text(cell.previous_agency_rating) if cell.previous_agency_rating is not None else "",
                    _rating_text(cell.previous_omb_rating) if cell.previous_omb_rating is not None else "",
                ]
            )
    return header, lines
