"""Initiatives as a table for CSV and XLSX (challenge_cards.exports writes the files, formula-safe)."""

from __future__ import annotations

from collections.abc import Iterable

from .selectors import InitiativeRollup

HEADER = [
    "Initiative",
    "PMA priority",
    "Rollup",
    "Target",
    "Unit",
    "Target date",
    "Total now",
    "Percent of target",
    "Expected on pace",
    "Pace",
    "Agency",
    "Agency value",
    "Agency target",
    "Share of total (%)",
    "Agency done",
]


def _blank(value) -> object:
    return "" if value is None else value


def initiative_rows(rollups: Iterable[InitiativeRollup]) -> tuple[list[str], list[list]]:
    """One government-wide row per initiative, then one per agency row the reader may see."""
    rows: list[list] = []
    for rollup in rollups:
        initiative = rollup.initiative
        head = [
            initiative.title,
            str(initiative.priority),
            initiative.get_rollup_display(),
            initiative.target_value,
            initiative.target_unit,
            initiative.target_date,
            _blank(rollup.total),
            _blank(rollup.percent_of_target),
            _blank(rollup.expected_now),
            rollup.pace_label,
        ]
        rows.append([*head, "Government-wide", _blank(rollup.total), initiative.target_value, "", ""])
        for row in rollup.visible_rows:
            done = "yes" if row.done else "no"
            rows.append(
                [*head, row.agency.abbreviation, _blank(row.value), _blank(row.target), _blank(row.share), done]
            )
    return HEADER, rows
