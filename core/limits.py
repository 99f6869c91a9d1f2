"""Bounds shared by pages and the API."""

# The largest id a query may carry (a bigint); past it, a lookup is "not found", never a database error.
MAX_ID = 2**63 - 1
