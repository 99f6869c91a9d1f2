"""Bounds shared by pages and the API."""

# The largest id a query may carry (a bigint); past it, a lookup is "not found", never a database error.
MAX_ID = 2**63 - 1


def whole_number(raw: str | None, *, low: int = 1, high: int = MAX_ID) -> int | None:
    """A whole number written in ASCII digits (not '²' or '٣', which str.isdigit takes and int() may
    refuse) from `low` to `high`, else None: what a query string or a form's hidden field may carry."""
    if raw is None or not (raw.isascii() and raw.isdigit()):
        return None
    value = int(raw)
    return value if low <= value <= high else None
