"""The fastest a card's detail and a posted update can be served: raw SQL, orjson, no framework.

Served by benchmarks/baseline_wsgi.py (its `application` hands these paths here) beside the real
app, for benchmarks/api_paths.py. Each request does the same job as the API, by hand:

- ``GET /api/v1/cards/<id>/`` with ``Authorization: Bearer <token>``: the token and its user (one
  query; last use recorded at most once a minute, with an audit row then, as the app does), the
  user's roles (the same UNION ALL as agencies.roles), the card if the roles may see it (404
  otherwise) and its actions; the same JSON as the API's detail, ``ETag`` included.
- ``POST /api/v1/cards/<id>/updates/`` with ``If-Match`` and ``{"status", "note"}`` (a deputy
  secretary's update: the benchmark posts as one), in ONE transaction: the token, the roles, the
  card locked ``FOR UPDATE`` if visible (404), editable and open (403), not stale (412), its actions,
  then every write in one statement (data-modifying CTEs): the card (status, version, last update),
  the history row (``challenge_cards_cardupdate``), the notification row for the OMB admin who
  issued the card (when the settings and the issuer's preferences allow it, as
  notifications.services.card_updated_notify decides), the request's audit row
  (``audit_auditevent``, as audit.middleware writes it). After the commit the e-mail task is handed
  to Redis (one LPUSH on a list of its own, emptied by the benchmark) and the answer is the API's
  JSON (``{"update": ..., "card": ...}``, 201, ``ETag``): 7 statements, BEGIN and COMMIT included.

Not covered (the answer is 501, so a benchmark cannot silently measure less): a delegate's update
(on behalf of the deputy, certification drafts), agency rating and metric changes, webhook
subscriptions for card.updated. Every answer carries ``X-Statements``: the SQL statements the
request sent, BEGIN and COMMIT included (counted as Django's CaptureQueriesContext counts them).
"""

from __future__ import annotations

import datetime
import hashlib
import os
import re
import uuid

import baseline_wsgi as base
import orjson
import psycopg

ALLOWED = {
    "not_started": {"in_progress", "at_risk", "blocked", "done"},
    "in_progress": {"at_risk", "blocked", "done"},
    "at_risk": {"in_progress", "blocked", "done"},
    "blocked": {"in_progress", "at_risk"},
    "done": set(),
}
NOTE_REQUIRED_FOR = {"at_risk", "blocked"}
LAST_USED_RESOLUTION = datetime.timedelta(minutes=1)
QUEUE_KEY = "cc_bench_baseline_tasks"

TOKEN_SQL = """
SELECT t.id, t.user_id, t.prefix, t.expires_at, t.last_used_at, t.revoked_at,
       u.is_active, u.username, u.first_name, u.last_name
FROM agencies_apitoken t JOIN auth_user u ON u.id = t.user_id
WHERE t.key_hash = %s
"""
TOKEN_USED_SQL = """
UPDATE agencies_apitoken SET last_used_at = %(now)s
WHERE id = %(id)s AND (last_used_at IS NULL OR last_used_at <= %(cutoff)s)
"""
ROLES_SQL = """
SELECT 'omb', kind, NULL::bigint, NULL::bigint FROM agencies_ombrole WHERE user_id = %(u)s
UNION ALL
SELECT 'member', m.role, m.agency_id, NULL::bigint FROM agencies_membership m
WHERE m.ended_on IS NULL AND m.user_id = %(u)s
UNION ALL
SELECT 'child', NULL, a.id, a.parent_id FROM agencies_agency a
JOIN agencies_membership m ON m.agency_id = a.parent_id
WHERE m.ended_on IS NULL AND m.user_id = %(u)s
"""
CARD_COLUMNS = base.CARDS_SQL.split("FROM challenge_cards_challengecard c")[0].rsplit(",", 1)[0]  # no total
CARD_FROM = """
FROM challenge_cards_challengecard c
JOIN agencies_agency a ON a.id = c.agency_id
JOIN challenge_cards_pmapriority p ON p.id = c.priority_id
WHERE c.id = %(id)s AND (%(all)s OR c.agency_id = ANY(%(agencies)s))
"""
CARD_SQL = CARD_COLUMNS + CARD_FROM
CARD_FOR_UPDATE_SQL = (
    CARD_COLUMNS
    + """, (SELECT count(*) FROM notifications_webhooksubscription w
           WHERE w.active AND w.event_type = 'card.updated') AS hooks"""
    + CARD_FROM
    + " FOR UPDATE OF c"
)
AUDIT_COLUMNS = """audit_auditevent
    (occurred_at, actor_id, actor_username, on_behalf_of_id, action, object_type, object_id, outcome, method, path,
     status_code, ip_address, user_agent, request_id, details)"""
AUDIT_VALUES = """(%(now)s, %(user)s, %(username)s, NULL, %(action)s, 'challenge_cards.challengecard', %(object)s,
     'success', %(method)s, %(path)s, %(status)s, %(ip)s, %(agent)s, %(request_id)s, %(details)s)"""
# Every write of an update in one statement: the card, its history row, the notification for the OMB
# admin who issued it (unless it is their own update, the setting is off or they switched the rule off,
# as notifications.services.card_updated_notify decides), the request's audit row.
WRITE_SQL = f"""
WITH card AS (
    UPDATE challenge_cards_challengecard
    SET status = %(new_status)s, version = version + 1, last_agency_update_at = %(now)s, updated_at = %(now)s
    WHERE id = %(card)s
    RETURNING version, last_agency_update_at, updated_at
), history AS (
    INSERT INTO challenge_cards_cardupdate
        (card_id, kind, author_id, on_behalf_of_id, created_at, changes, status_to, note, certification,
         certified_by_id, certified_at)
    VALUES (%(card)s, 'update', %(user)s, NULL, %(now)s, %(changes)s, %(status_to)s, %(note)s, 'not_required',
            NULL, NULL)
    RETURNING id
), notified AS (
    INSERT INTO notifications_notification
        (rule, subject, recipient_id, occurrence, meeting_id, agency_id, card_id, action_id, title, url, created_at,
         batch, read_at, status, attempts, enqueued_at, next_attempt_at, delivered_at, failed_at, cancelled_at,
         last_error)
    SELECT 'card_updated', 'update:' || history.id, %(issuer)s, 'posted', NULL, %(agency)s, %(card)s, NULL,
           %(title)s, %(url)s, %(now)s, %(batch)s, NULL, 'pending', 0, %(now)s, NULL, NULL, NULL, NULL, ''
    FROM history
    WHERE %(issuer)s::bigint IS NOT NULL AND %(issuer)s::bigint <> %(user)s
      AND COALESCE((SELECT card_updated_enabled FROM notifications_notificationsettings WHERE id = 1), true)
      AND NOT EXISTS (SELECT 1 FROM notifications_preference
                      WHERE NOT enabled AND rule = 'card_updated' AND user_id = %(issuer)s)
    ON CONFLICT DO NOTHING
    RETURNING id
), audit AS (
    INSERT INTO {AUDIT_COLUMNS} VALUES {AUDIT_VALUES}
)
SELECT card.version, card.last_agency_update_at, card.updated_at, history.id, (SELECT id FROM notified)
FROM card, history
"""
AUDIT_SQL = f"INSERT INTO {AUDIT_COLUMNS} VALUES {AUDIT_VALUES}"
DETAIL = re.compile(r"^/api/v1/cards/(\d+)/$")
UPDATES = re.compile(r"^/api/v1/cards/(\d+)/updates/$")

_connection: psycopg.Connection | None = None
_redis = None


def _conn() -> psycopg.Connection:
    global _connection
    if _connection is None or _connection.closed:
        _connection = psycopg.connect(os.environ["BASELINE_DATABASE_URL"], autocommit=True)
        _connection.execute("SELECT set_config('TimeZone', %s, false)", [base.TIME_ZONE])
    return _connection


def _queue():
    global _redis
    if _redis is None:
        import redis

        _redis = redis.Redis.from_url(os.environ["REDIS_URL"])
    return _redis


class Answer(Exception):
    def __init__(self, status: str, detail: str) -> None:
        super().__init__(detail)
        self.status, self.detail = status, detail


class Counted:
    """A cursor that counts the statements it sends."""

    def __init__(self, cursor: psycopg.Cursor) -> None:
        self.cursor, self.count = cursor, 0

    def one(self, sql: str, params) -> tuple | None:
        self.count += 1
        return self.cursor.execute(sql, params).fetchone()

    def all(self, sql: str, params) -> list[tuple]:
        self.count += 1
        return self.cursor.execute(sql, params).fetchall()


def _token(q: Counted, environ: dict, now: datetime.datetime) -> tuple:
    scheme, _, raw = environ.get("HTTP_AUTHORIZATION", "").partition(" ")
    if scheme.lower() != "bearer" or not raw or len(raw) > 200:
        raise Answer("401 Unauthorized", "Invalid token.")
    row = q.one(TOKEN_SQL, [hashlib.sha256(raw.encode()).hexdigest()])
    if row is None or row[5] is not None or (row[3] is not None and row[3] <= now) or not row[6]:
        raise Answer("401 Unauthorized", "Invalid token.")
    used = False
    if row[4] is None or now - row[4] >= LAST_USED_RESOLUTION:
        q.count += 1
        q.cursor.execute(TOKEN_USED_SQL, {"now": now, "id": row[0], "cutoff": now - LAST_USED_RESOLUTION})
        used = q.cursor.rowcount == 1
    return row, used


def _roles(q: Counted, user_id: int) -> tuple[bool, list[int], set[int], set[int]]:
    """(sees every agency, agencies it reads, agencies it edits, agencies it is deputy of), as agencies.roles."""
    omb = False
    members: dict[int, str] = {}
    children: list[tuple[int, int]] = []
    for tag, text, first, second in q.all(ROLES_SQL, {"u": user_id}):
        if tag == "omb":
            omb = True
        elif tag == "member":
            members[first] = text
        else:
            children.append((first, second))
    editors = {agency for agency, role in members.items() if role in ("deputy_secretary", "delegate")}
    readable = set(members) | {child for child, parent in children if parent in members}
    editable = editors | {child for child, parent in children if parent in editors}
    deputy_of = {agency for agency, role in members.items() if role == "deputy_secretary"}
    return omb, sorted(readable), editable, deputy_of


def _card(row: tuple, actions: list[tuple], today: datetime.date) -> dict:
    card = dict(zip(base.FIELDS, row[: len(base.FIELDS)], strict=True))
    card["is_overdue"] = card["disposition"] == "open" and card["status"] != "done" and card["due_date"] < today
    card["etag"] = f'W/"card-{card["id"]}-v{card["version"]}"'
    card["actions"] = [base._action(action, card["agency"], today) for action in actions]
    return card


def _replace(row: tuple, **values) -> tuple:
    """A card row (base.FIELDS order) with some fields replaced."""
    changed = list(row)
    for field, value in values.items():
        changed[base.FIELDS.index(field)] = value
    return tuple(changed)


def _person(first: str, last: str, username: str) -> str:
    return f"{first} {last}".strip() or username


def _audit_params(environ: dict, token: tuple, now, *, action: str, card_id: int, status: int, events) -> dict:
    """The audit row's values, as audit.middleware writes them for this request."""
    details = {"view": "card-updates" if events else "card-detail"}
    if events:
        details["events"] = events
    details["token"] = {"id": token[0], "prefix": token[2]}
    return {
        "now": now,
        "user": token[1],
        "username": token[7],
        "action": action,
        "object": str(card_id),
        "method": environ["REQUEST_METHOD"],
        "path": environ["PATH_INFO"],
        "status": status,
        "ip": environ.get("REMOTE_ADDR") or "127.0.0.1",
        "agent": environ.get("HTTP_USER_AGENT", "")[:500],
        "request_id": uuid.uuid4().hex,
        "details": orjson.dumps(details).decode(),
    }


def detail(environ: dict, card_id: int) -> tuple[str, dict, bytes, int]:
    now = datetime.datetime.now(datetime.UTC)
    with _conn().cursor() as cursor:
        q = Counted(cursor)
        token, used = _token(q, environ, now)
        omb, readable, _editable, _deputy_of = _roles(q, token[1])
        row = q.one(CARD_SQL, {"id": card_id, "all": omb, "agencies": readable})
        if row is None:
            raise Answer("404 Not Found", "No ChallengeCard matches the given query.")
        actions = q.all(base.ACTIONS_SQL, [[card_id]])
        if used:
            q.count += 1
            audit = _audit_params(environ, token, now, action="token.used", card_id=card_id, status=200, events=None)
            cursor.execute(AUDIT_SQL, audit)
    card = _card(row, actions, datetime.datetime.now(base._zone).date())
    return "200 OK", {"ETag": card["etag"]}, orjson.dumps(card, default=base._default), q.count


def _changes(environ: dict, current: str) -> tuple[str, str]:
    length = int(environ.get("CONTENT_LENGTH") or 0)
    data = orjson.loads(environ["wsgi.input"].read(length)) if length else {}
    if set(data) - {"status", "note"}:
        raise Answer("501 Not Implemented", "The baseline posts status and note only.")
    status, note = data.get("status"), (data.get("note") or "").strip()
    if status is not None and status != current and status not in ALLOWED.get(current, ()):
        raise Answer("400 Bad Request", "Not an allowed status change.")
    if status in NOTE_REQUIRED_FOR and status != current and not note:
        raise Answer("400 Bad Request", "A note is required.")
    return (status if status and status != current else ""), note


def update(environ: dict, card_id: int) -> tuple[str, dict, bytes, int]:
    now = datetime.datetime.now(datetime.UTC)
    conn = _conn()
    with conn.transaction(), conn.cursor() as cursor:
        q = Counted(cursor)
        q.count += 2  # BEGIN and COMMIT
        token, _used = _token(q, environ, now)
        omb, readable, editable, deputy_of = _roles(q, token[1])
        row = q.one(CARD_FOR_UPDATE_SQL, {"id": card_id, "all": omb, "agencies": readable})
        if row is None:
            raise Answer("404 Not Found", "No ChallengeCard matches the given query.")
        card = dict(zip(base.FIELDS, row[: len(base.FIELDS)], strict=True))
        if card["agency"] not in editable or card["disposition"] != "open":
            raise Answer("403 Forbidden", "You cannot update this agency's cards.")
        if card["agency"] not in deputy_of or row[-1]:  # a delegate acts on behalf of the deputy
            raise Answer("501 Not Implemented", "The baseline covers a deputy secretary's update, no webhooks.")
        if environ.get("HTTP_IF_MATCH") != f'W/"card-{card_id}-v{card["version"]}"':
            raise Answer("412 Precondition Failed", "The card changed since you read it.")
        status_to, note = _changes(environ, card["status"])
        if not status_to and not note:
            raise Answer("400 Bad Request", "Change something or write a note.")
        changes = {"status": [card["status"], status_to]} if status_to else {}
        actions = q.all(base.ACTIONS_SQL, [[card_id]])
        written = q.one(
            WRITE_SQL,
            {
                **_audit_params(
                    environ, token, now, action="request.post", card_id=card_id, status=201, events=["card_updated"]
                ),
                "card": card_id,
                "new_status": status_to or card["status"],
                "changes": orjson.dumps(changes).decode(),
                "status_to": status_to,
                "note": note,
                "issuer": card["issued_by"],
                "agency": card["agency"],
                "title": f"{card['agency_abbreviation']} updated the card {card['title']}",
                "url": f"/cards/{card_id}/",
                "batch": uuid.uuid4(),
            },
        )
    version, last_update, updated_at, update_id, notified = written
    fresh = (*row[: len(base.FIELDS)],)
    fresh = _replace(fresh, status=status_to or card["status"], version=version)
    fresh = _replace(fresh, last_agency_update_at=last_update, updated_at=updated_at)
    if notified:
        _queue().lpush(QUEUE_KEY, orjson.dumps({"task": "notification_deliver", "id": notified}))
    today = datetime.datetime.now(base._zone).date()
    body = {
        "update": {
            "id": update_id,
            "card": card_id,
            "kind": "update",
            "author": token[1],
            "author_name": _person(token[8], token[9], token[7]),
            "on_behalf_of": None,
            "on_behalf_of_name": None,
            "created_at": now.astimezone(base._zone),
            "changes": changes,
            "status_to": status_to,
            "note": note,
            "certification": "not_required",
            "certified_by": None,
            "certified_at": None,
        },
        "card": _card(fresh, actions, today),
    }
    headers = {"ETag": body["card"]["etag"]}
    return "201 Created", headers, orjson.dumps(body, default=base._default), q.count


def application(environ, start_response):
    path, method = environ.get("PATH_INFO", ""), environ.get("REQUEST_METHOD", "GET")
    try:
        if (match := DETAIL.match(path)) and method == "GET":
            status, headers, body, statements = detail(environ, int(match[1]))
        elif (match := UPDATES.match(path)) and method == "POST":
            status, headers, body, statements = update(environ, int(match[1]))
        else:
            raise Answer("404 Not Found", "Not found.")
    except Answer as answer:
        status, headers, body, statements = answer.status, {}, orjson.dumps({"detail": answer.detail}), -1
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
