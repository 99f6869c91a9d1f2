"""The workflow's rule tables: read by the services (which enforce them) and the forms (which offer them).

Kept apart from services so that a form can show the allowed choices without importing the writes.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError

from .models import CardStatus

# Which status an agency may move a card to from each status. Reopening a done card
# is OMB's call (card_return), not the agency's.
ALLOWED_TRANSITIONS: dict[str, frozenset[str]] = {
    CardStatus.NOT_STARTED: frozenset(
        {CardStatus.IN_PROGRESS, CardStatus.AT_RISK, CardStatus.BLOCKED, CardStatus.DONE}
    ),
    CardStatus.IN_PROGRESS: frozenset({CardStatus.AT_RISK, CardStatus.BLOCKED, CardStatus.DONE}),
    CardStatus.AT_RISK: frozenset({CardStatus.IN_PROGRESS, CardStatus.BLOCKED, CardStatus.DONE}),
    CardStatus.BLOCKED: frozenset({CardStatus.IN_PROGRESS, CardStatus.AT_RISK}),
    CardStatus.DONE: frozenset(),
}
# A move to these statuses needs a note saying why.
NOTE_REQUIRED_FOR = frozenset({CardStatus.AT_RISK, CardStatus.BLOCKED})

# Meetings fall in these years: far-off dates overflow the database and Python's datetime (year 10000 in UTC).
MEETING_YEARS = (2000, 2100)
MEETING_YEARS_MESSAGE = f"Give a date between {MEETING_YEARS[0]} and {MEETING_YEARS[1]}."

# Evidence files: these types only (by extension, stored with this content type), up to this size.
# One length rule per free-text field, read by the page forms, the API serializers and the services
# (refuse_long_text), so a page and the API take the same text.
NOTE_MAX_LENGTH = 5000  # a note or reason: card updates, reviews, follow-up actions done, dropped, reopened
LONG_TEXT_MAX_LENGTH = 10000  # a card's ask, a meeting's agenda notes


def refuse_long_text(limit: int = NOTE_MAX_LENGTH, **texts: str | None) -> None:
    """The services' check of the same rule: a ValidationError naming each field that is too long."""
    errors = {
        name: f"Keep this to {limit:,} characters (it has {len(text):,})."
        for name, text in texts.items()
        if text and len(text) > limit
    }
    if errors:
        raise ValidationError(errors)


EVIDENCE_MAX_BYTES = 10 * 1024 * 1024
EVIDENCE_TYPES: dict[str, str] = {
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "csv": "text/csv",
    "txt": "text/plain",
    "png": "image/png",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
}

# OMB's review decisions on a card (services.card_decide): value and the label the board shows.
# "continue" keeps the card open and counts as the close-out's decision; "keep" only changes the rating.
REVIEW_DECISIONS = [
    ("keep", "No decision yet (rating only)"),
    ("continue", "Continue: keep open"),
    ("accept", "Accept"),
    ("carry_over", "Carry over"),
    ("drop", "Drop"),
    ("return", "Return (done card)"),
]
# The decisions the close-out page offers (every one counts as the close-out's decision).
CLOSEOUT_DECISIONS = ("continue", "accept", "carry_over", "drop")
# Decisions that close or reopen a card need OMB's reason.
REASON_REQUIRED_FOR = frozenset({"carry_over", "drop", "return"})

# Close-out: why a card is listed (services.meeting_closeout). A card due after the meeting being
# closed, on a year horizon, needs no decision: it stays open until its due date comes.
CLOSEOUT_DUE = "due"
CLOSEOUT_MONTH = "month"
CLOSEOUT_STAYS_OPEN = "stays_open"
