"""The fastest the first card-list page can be served: one SQL query, orjson, no framework.

A WSGI app that benchmarks/card_list.py runs under gunicorn beside the real endpoint. It
returns the same page (50 cards, the same fields, the total count) as GET /api/v1/cards/
for an OMB reader, with no authentication, throttling, middleware or serializer.
"""

from __future__ import annotations

import datetime
import os
from decimal import Decimal

import orjson
import psycopg

PAGE_SIZE = 50
SQL = """
SELECT c.id, c.meeting_id, c.agency_id, a.abbreviation, c.issued_to_id, c.issued_by_id, c.issued_at,
       c.issue_batch, c.title, c.ask, c.priority_id, p.number, c.strategy_id, c.horizon, c.due_date, c.status,
       c.agency_rating, c.omb_rating, c.metric_name, c.metric_unit, c.metric_baseline, c.metric_target,
       c.metric_value, c.carried_over_from_id, c.carry_count, c.disposition, c.disposition_reason, c.version,
       c.last_agency_update_at, c.updated_at, (SELECT count(*) FROM challenge_cards_challengecard) AS total
FROM challenge_cards_challengecard c
JOIN agencies_agency a ON a.id = c.agency_id
JOIN challenge_cards_pmapriority p ON p.id = c.priority_id
ORDER BY c.due_date, c.id
LIMIT %s
"""
FIELDS = [
    "id",
    "meeting",
    "agency",
    "agency_abbreviation",
    "issued_to",
    "issued_by",
    "issued_at",
    "issue_batch",
    "title",
    "ask",
    "priority",
    "priority_number",
    "strategy",
    "horizon",
    "due_date",
    "status",
    "agency_rating",
    "omb_rating",
    "metric_name",
    "metric_unit",
    "metric_baseline",
    "metric_target",
    "metric_value",
    "carried_over_from",
    "carry_count",
    "disposition",
    "disposition_reason",
    "version",
    "last_agency_update_at",
    "updated_at",
]
_connection: psycopg.Connection | None = None


def _conn() -> psycopg.Connection:
    global _connection
    if _connection is None or _connection.closed:
        _connection = psycopg.connect(os.environ["BASELINE_DATABASE_URL"], autocommit=True)
    return _connection


def _default(value):
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError


def page() -> bytes:
    with _conn().cursor() as cursor:
        cursor.execute(SQL, [PAGE_SIZE])
        rows = cursor.fetchall()
    today = datetime.date.today()
    results = []
    for row in rows:
        card = dict(zip(FIELDS, row[:-1], strict=True))
        card["is_overdue"] = card["disposition"] == "open" and card["status"] != "done" and card["due_date"] < today
        card["etag"] = f'W/"card-{card["id"]}-v{card["version"]}"'
        results.append(card)
    total = rows[0][-1] if rows else 0
    following = "http://127.0.0.1/api/v1/cards/?page=2" if total > PAGE_SIZE else None
    return orjson.dumps({"count": total, "next": following, "previous": None, "results": results}, default=_default)


def application(environ, start_response):
    body = page()
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]
