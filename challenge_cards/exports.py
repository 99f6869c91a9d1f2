"""Cards, follow-up actions and the scorecard as CSV and XLSX, for the pages and the API alike.

The caller passes a queryset already scoped by visible_to(user) and filtered by the list's
FilterSet; these writers only lay out columns. A text cell that a spreadsheet would run as
a formula (starting with = + - @) is written as text, so an export cannot carry a formula.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.http import HttpResponse
from django.utils import timezone

from .models import ChallengeCard, FollowUpAction

CSV_TYPE = "text/csv; charset=utf-8"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMATS = ("csv", "xlsx")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

Column = tuple[str, Callable[[Any], Any]]


def _local(moment):
    return timezone.localtime(moment).replace(tzinfo=None) if moment else None


CARD_COLUMNS: list[Column] = [
    ("Card ID", lambda c: c.pk),
    ("Agency", lambda c: c.agency.abbreviation),
    ("Agency name", lambda c: c.agency.name),
    ("Meeting", lambda c: c.meeting.starts_at_eastern.date()),
    ("Title", lambda c: c.title),
    ("Ask", lambda c: c.ask),
    ("PMA priority", lambda c: c.priority.number),
    ("Horizon", lambda c: c.get_horizon_display()),
    ("Status", lambda c: c.get_status_display()),
    ("Agency rating", lambda c: c.get_agency_rating_display() or "Not rated"),
    ("OMB rating", lambda c: c.get_omb_rating_display() or "Not rated"),
    ("Due date", lambda c: c.due_date),
    ("Disposition", lambda c: c.get_disposition_display()),
    ("Disposition reason", lambda c: c.disposition_reason),
    ("Times carried over", lambda c: c.carry_count),
    ("Metric", lambda c: c.metric_name),
    ("Unit", lambda c: c.metric_unit),
    ("Baseline", lambda c: c.metric_baseline),
    ("Target", lambda c: c.metric_target),
    ("Value now", lambda c: c.metric_value),
    ("Last agency update (Eastern)", lambda c: _local(c.last_agency_update_at)),
    ("Link", lambda c: f"{settings.SITE_URL}{c.get_absolute_url()}"),
]

ACTION_COLUMNS: list[Column] = [
    ("Action ID", lambda a: a.pk),
    ("Card ID", lambda a: a.card_id),
    ("Card", lambda a: a.card.title),
    ("Agency", lambda a: a.card.agency.abbreviation),
    ("Action", lambda a: a.description),
    ("Owned by", lambda a: a.get_owned_by_display()),
    ("Owner", lambda a: a.owner_display),
    ("Due date", lambda a: a.due_date),
    ("Status", lambda a: a.get_status_display()),
    ("Completed (Eastern)", lambda a: _local(a.completed_at)),
    ("Dropped because", lambda a: a.dropped_reason),
]


def card_rows(cards: QuerySet[ChallengeCard]) -> tuple[list[str], Iterable[list]]:
    queryset = cards.select_related("agency", "meeting", "priority").order_by("agency__name", "due_date", "id")
    return [name for name, _ in CARD_COLUMNS], ([get(c) for _, get in CARD_COLUMNS] for c in queryset.iterator(2000))


def action_rows(actions: QuerySet[FollowUpAction]) -> tuple[list[str], Iterable[list]]:
    queryset = actions.select_related("card__agency", "owner").order_by("card__agency__name", "due_date", "id")
    return [name for name, _ in ACTION_COLUMNS], (
        [get(a) for _, get in ACTION_COLUMNS] for a in queryset.iterator(2000)
    )


def _safe_text(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def write_csv(header: list[str], rows: Iterable[list]) -> bytes:
    """UTF-8 with a byte order mark, so that Excel opens names with accents correctly."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    for row in rows:
        writer.writerow(["" if value is None else _safe_text(value) for value in row])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def write_xlsx(header: list[str], rows: Iterable[list], *, title: str) -> bytes:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title[:31])
    bold = Font(bold=True)
    cells = []
    for name in header:
        cell = WriteOnlyCell(sheet, value=name)
        cell.font = bold
        cells.append(cell)
    sheet.append(cells)
    for row in rows:
        line = []
        for value in row:
            if isinstance(value, str) and value.startswith("="):
                cell = WriteOnlyCell(sheet, value=value)
                cell.data_type = "s"  # text, never a formula
                line.append(cell)
            else:
                line.append(value)
        sheet.append(line)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def response(header: list[str], rows: Iterable[list], *, file_format: str, name: str) -> HttpResponse:
    """A download of the rows as CSV or XLSX, named <name>-<date>.<format>."""
    filename = f"{name}-{timezone.localdate():%Y-%m-%d}.{file_format}"
    if file_format == "csv":
        body, content_type = write_csv(header, rows), CSV_TYPE
    else:
        body, content_type = write_xlsx(header, rows, title=name.replace("-", " ").capitalize()), XLSX_TYPE
    result = HttpResponse(body, content_type=content_type)
    result["Content-Disposition"] = f'attachment; filename="{filename}"'
    return result
