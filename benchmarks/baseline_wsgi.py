"""The fastest the first card-list page can be served doing the app's job: raw SQL, orjson, no framework.

(A card's detail and a posted update are served by benchmarks/baseline_writes.py under the same
app: see `application` at the end.)

A WSGI app that benchmarks/card_list.py and api_paths.py run under gunicorn beside the real
endpoint. For GET /api/v1/cards/?page_size=50 it does what the API does, by hand
(benchmarks/baseline_auth.py): the bearer token and its user (401), the throttle in one Redis round
trip (429), the user's roles; then the first page of the cards those roles may see (an OMB role: all;
an agency member: their agencies' and sub-agencies'), carried-over cards left out as the API's
default list leaves them — the same 50 cards, the same fields and values, each card's follow-up
actions nested, the total count: one query for the page and its count, one for the page's actions
(with their owners' names), dictionaries built in a loop, orjson. No middleware or serializer. The
benchmarks check that both answers hold the same data before they measure. Every answer carries
``X-Statements``, the SQL statements the request sent.
"""

from __future__ import annotations

import datetime
import os
import zoneinfo
from decimal import Decimal
from urllib.parse import urlencode

import baseline_auth as auth
import orjson
import psycopg
from django.core import signing

from core import runtime

# The API's next link from page 1 is a cursor: the last row's order key, signed as core.api.pagination
# signs it (Django's Signer, this salt, the site's secret key; the suite gives both servers the same).
CURSOR_SALT = "core.api.pagination.cursor:challenge_cards.ChallengeCard"

PAGE_SIZE = 50
TIME_ZONE = "America/New_York"  # settings.TIME_ZONE: the API writes times (and "today") in it
CARD_COLUMNS = """
SELECT c.id, c.meeting_id, c.agency_id, a.abbreviation, c.issued_to_id, c.issued_by_id, c.issued_at,
       c.issue_batch, c.title, c.ask, c.priority_id, p.number, c.strategy_id, c.horizon, c.due_date, c.status,
       c.agency_rating, c.omb_rating, c.metric_name, c.metric_unit, c.metric_baseline, c.metric_target,
       c.metric_value, c.carried_over_from_id, c.carry_count, c.disposition, c.disposition_reason, c.version,
       c.last_agency_update_at, c.updated_at"""
# challenge_cards' visible_to(user): every card for an OMB role, else the cards of the agencies it reads.
VISIBLE = "(%(all)s OR {table}.agency_id = ANY(%(agencies)s))"
# The API's default list (challenge_cards.api.views.current_cards) leaves carried-over cards out.
CURRENT = "{table}.disposition <> 'carried_over'"
CARDS_SQL = f"""{CARD_COLUMNS},
       (SELECT count(*) FROM challenge_cards_challengecard v
        WHERE {CURRENT.format(table="v")} AND {VISIBLE.format(table="v")}) AS total
FROM challenge_cards_challengecard c
JOIN agencies_agency a ON a.id = c.agency_id
JOIN challenge_cards_pmapriority p ON p.id = c.priority_id
WHERE {CURRENT.format(table="c")} AND {VISIBLE.format(table="c")}
ORDER BY c.due_date, c.id
LIMIT %(size)s
"""
ACTIONS_SQL = """
SELECT f.id, f.card_id, f.description, f.owner_id, u.first_name, u.last_name, u.username, f.owner_name, f.owned_by,
       f.due_date, f.status, f.completed_at, f.dropped_reason, f.created_by_id, f.created_at, f.updated_at, f.version
FROM challenge_cards_followupaction f
LEFT JOIN auth_user u ON u.id = f.owner_id
WHERE f.card_id = ANY(%s)
ORDER BY f.due_date, f.id
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
_zone = zoneinfo.ZoneInfo(TIME_ZONE)
_connection: psycopg.Connection | None = None


def _conn() -> psycopg.Connection:
    global _connection
    if _connection is None or _connection.closed:
        _connection = psycopg.connect(os.environ["BASELINE_DATABASE_URL"], autocommit=True)
        # Times come back in the API's time zone, so orjson writes them as the API does.
        _connection.execute("SELECT set_config('TimeZone', %s, false)", [TIME_ZONE])
    return _connection


def _default(value):
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError


def _action(row: tuple, agency_id: int, today: datetime.date) -> dict:
    (id_, card_id, description, owner_id, first, last, username, owner_name, owned_by, due, status, completed_at,
     dropped_reason, created_by_id, created_at, updated_at, version) = row  # fmt: skip
    named = f"{first} {last}".strip() or username
    owner_display = named if owner_id is not None else owner_name or "Unassigned"
    return {
        "id": id_,
        "card": card_id,
        "agency": agency_id,
        "description": description,
        "owner": owner_id,
        "owner_name": owner_name,
        "owner_display": owner_display,
        "owned_by": owned_by,
        "due_date": due,
        "status": status,
        "completed_at": completed_at,
        "dropped_reason": dropped_reason,
        "created_by": created_by_id,
        "created_at": created_at,
        "updated_at": updated_at,
        "version": version,
        "is_overdue": status == "open" and due is not None and due < today,
        "etag": f'W/"action-{id_}-v{version}"',
    }


def page(environ: dict) -> tuple[bytes, int]:
    """The first page of the cards the token's user may see, and the statements it took."""
    now, raw = datetime.datetime.now(datetime.UTC), auth.bearer(environ)
    with _conn().cursor() as cursor:
        q = auth.Counted(cursor)
        token, used, (omb, readable, _editable, _deputy_of) = auth.who(q, raw, now)
        rows = q.all(CARDS_SQL, {"all": omb, "agencies": readable, "size": PAGE_SIZE})
        action_rows = q.all(ACTIONS_SQL, [[row[0] for row in rows]])
        if used:
            auth.token_used(q, environ, token, now, view="card-list", object_id="")
    today = datetime.datetime.now(_zone).date()
    results = []
    by_card: dict[int, list[dict]] = {}
    for row in rows:
        card = dict(zip(FIELDS, row[:-1], strict=True))
        card["is_overdue"] = card["disposition"] == "open" and card["status"] != "done" and card["due_date"] < today
        card["etag"] = f'W/"card-{card["id"]}-v{card["version"]}"'
        card["actions"] = by_card[card["id"]] = []
        results.append(card)
    agency_of = {card["id"]: card["agency"] for card in results}
    for row in action_rows:
        by_card[row[1]].append(_action(row, agency_of[row[1]], today))
    total = rows[0][-1] if rows else 0
    host = environ.get("HTTP_HOST", "127.0.0.1")
    following = None
    if total > PAGE_SIZE:
        signer = signing.Signer(key=os.environ["DJANGO_SECRET_KEY"], salt=CURSOR_SALT, fallback_keys=[])
        last = results[-1]
        cursor = signer.sign_object([["due_date", "id"], [last["due_date"].isoformat(), last["id"]], 0])
        following = f"https://{host}/api/v1/cards/?{urlencode([('cursor', cursor), ('page_size', PAGE_SIZE)])}"
    body = {"count": total, "next": following, "previous": None, "results": results}
    return orjson.dumps(body, default=_default), q.count


def respond(start_response, status: str, headers: dict[str, str], body: bytes, statements: int) -> list[bytes]:
    start_response(
        status,
        [
            ("Content-Type", "application/json"),
            ("Content-Length", str(len(body))),
            ("X-Statements", str(statements)),
            *headers.items(),
        ],
    )
    return [body]


def application(environ, start_response):
    """The list page (as above); a card's detail and a posted update (baseline_writes.py) by path."""
    path = environ.get("PATH_INFO", "")
    if path.startswith("/api/v1/cards/") and path != "/api/v1/cards/":
        import baseline_writes

        return baseline_writes.application(environ, start_response)
    try:
        body, statements = page(environ)
    except auth.Answer as answer:
        return respond(start_response, answer.status, answer.headers, orjson.dumps({"detail": answer.detail}), -1)
    return respond(start_response, "200 OK", {}, body, statements)


# The same garbage collector set-up as the app's server process (core.runtime.settle), once this module is
# loaded: the two are served alike.
runtime.freeze_start_up()
