"""What the council's services share: the stale-write refusal."""

from __future__ import annotations

from core.exceptions import StaleWrite


def check_version(current: int, expected: int | None) -> None:
    if expected is not None and current != expected:
        raise StaleWrite(current)
