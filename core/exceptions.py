"""Exceptions that services raise and every front end (pages, API, admin) answers the same way."""

from __future__ import annotations


class StaleWrite(Exception):
    """Someone changed the object after the caller read it; nothing was written (the API answers 412)."""

    def __init__(self, current_version: int | None, message: str = ""):
        self.current_version = current_version
        super().__init__(
            message or "Someone else updated this after you opened it. Review their change, then submit yours again."
        )
