"""The fastest a card's detail and a posted update can be served: raw SQL, orjson, no framework.

Served by benchmarks/baseline_wsgi.py (its `application` hands these paths here) beside the real
app, for benchmarks/api_paths.py. Each request does the same job as the API, by hand:

- ``GET /api/v1/cards/<id>/`` with ``Authorization: Bearer <token>``: who is asking, as
  baseline_auth.py checks it (the token and its user in one query, its last use recorded at most once
  a minute with an audit row then; the throttle in one Redis round trip; the user's roles), the card
  if the roles may see it (404 otherwise) and its actions; the same JSON as the API's detail, ``ETag``
  included.
- ``POST /api/v1/cards/<id>/updates/`` with ``If-Match`` and ``{"status", "note"}`` (a deputy
  secretary's update: the benchmark posts as one), in ONE transaction: the token, the throttle, the roles, the
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
Refusals answer the same statuses as the API (401, 404, 403, 412, 429), with a plain ``detail``
body rather than the API's problem document, and write no audit row.
"""

from __future__ import annotations

import datetime
import os
import re
import uuid

import baseline_auth as auth
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
QUEUE_KEY = "cc_bench_baseline_tasks"

CARD_FROM = f"""
FROM challenge_cards_challengecard c
JOIN agencies_agency a ON a.id = c.agency_id
JOIN challenge_cards_pmapriority p ON p.id = c.priority_id
WHERE c.id = %(id)s AND {base.VISIBLE.format(table="c")}
"""
CARD_SQL = base.CARD_COLUMNS + CARD_FROM
CARD_FOR_UPDATE_SQL = (
    base.CARD_COLUMNS
    + """, (SELECT count(*) FROM notifications_webhooksubscription w
           WHERE w.active AND w.event_type = 'card.updated') AS hooks"""
    + CARD_FROM
    + " FOR UPDATE OF c"
)
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
    INSERT INTO {auth.AUDIT_COLUMNS} VALUES {auth.AUDIT_VALUES}
)
SELECT card.version, card.last_agency_update_at, card.updated_at, history.id, (SELECT id FROM notified)
FROM card, history
"""
DETAIL = re.compile(r"^/api/v1/cards/(\d+)/$")
UPDATES = re.compile(r"^/api/v1/cards/(\d+)/updates/$")

_connection: psycopg.Connection | None = None


def _conn() -> psycopg.Connection:
    global _connection
    if _connection is None or _connection.closed:
        _connection = psycopg.connect(os.environ["BASELINE_DATABASE_URL"], autocommit=True)
        _connection.execute("SELECT set_config('TimeZone', %s, false)", [base.TIME_ZONE])
    return _connection


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


def detail(environ: dict, card_id: int) -> tuple[str, dict, bytes, int]:
    now, raw = datetime.datetime.now(datetime.UTC), auth.bearer(environ)
    with _conn().cursor() as cursor:
        q = auth.Counted(cursor)
        token, used, (omb, readable, _editable, _deputy_of) = auth.who(q, raw, now)
        row = q.one(CARD_SQL, {"id": card_id, "all": omb, "agencies": readable})
        if row is None:
            raise auth.Answer("404 Not Found", "No ChallengeCard matches the given query.")
        actions = q.all(base.ACTIONS_SQL, [[card_id]])
        if used:
            auth.token_used(q, environ, token, now, view="card-detail", object_id=str(card_id))
    card = _card(row, actions, datetime.datetime.now(base._zone).date())
    return "200 OK", {"ETag": card["etag"]}, orjson.dumps(card, default=base._default), q.count


def _changes(environ: dict, current: str) -> tuple[str, str]:
    length = int(environ.get("CONTENT_LENGTH") or 0)
    data = orjson.loads(environ["wsgi.input"].read(length)) if length else {}
    if set(data) - {"status", "note"}:
        raise auth.Answer("501 Not Implemented", "The baseline posts status and note only.")
    status, note = data.get("status"), (data.get("note") or "").strip()
    if status is not None and status != current and status not in ALLOWED.get(current, ()):
        raise auth.Answer("400 Bad Request", "Not an allowed status change.")
    if status in NOTE_REQUIRED_FOR and status != current and not note:
        raise auth.Answer("400 Bad Request", "A note is required.")
    return (status if status and status != current else ""), note


def update(environ: dict, card_id: int) -> tuple[str, dict, bytes, int]:
    now, raw = datetime.datetime.now(datetime.UTC), auth.bearer(environ)
    conn = _conn()
    with conn.transaction(), conn.cursor() as cursor:
        q = auth.Counted(cursor)
        q.count += 2  # BEGIN and COMMIT
        token, _used, (omb, readable, editable, deputy_of) = auth.who(q, raw, now)
        row = q.one(CARD_FOR_UPDATE_SQL, {"id": card_id, "all": omb, "agencies": readable})
        if row is None:
            raise auth.Answer("404 Not Found", "No ChallengeCard matches the given query.")
        card = dict(zip(base.FIELDS, row[: len(base.FIELDS)], strict=True))
        if card["agency"] not in editable or card["disposition"] != "open":
            raise auth.Answer("403 Forbidden", "You cannot update this agency's cards.")
        if card["agency"] not in deputy_of or row[-1]:  # a delegate acts on behalf of the deputy
            raise auth.Answer("501 Not Implemented", "The baseline covers a deputy secretary's update, no webhooks.")
        if environ.get("HTTP_IF_MATCH") != f'W/"card-{card_id}-v{card["version"]}"':
            raise auth.Answer("412 Precondition Failed", "The card changed since you read it.")
        status_to, note = _changes(environ, card["status"])
        if not status_to and not note:
            raise auth.Answer("400 Bad Request", "Change something or write a note.")
        changes = {"status": [card["status"], status_to]} if status_to else {}
        actions = q.all(base.ACTIONS_SQL, [[card_id]])
        written = q.one(
            WRITE_SQL,
            {
                **auth.audit_params(
                    environ,
                    token,
                    now,
                    action="request.post",
                    status=201,
                    view="card-updates",
                    object_type="challenge_cards.challengecard",
                    object_id=str(card_id),
                    events=["card_updated"],
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
        auth.redis_client().lpush(QUEUE_KEY, orjson.dumps({"task": "notification_deliver", "id": notified}))
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
            raise auth.Answer("404 Not Found", "Not found.")
    except auth.Answer as answer:
        status, headers, body, statements = answer.status, answer.headers, orjson.dumps({"detail": answer.detail}), -1
    return base.respond(start_response, status, headers, body, statements)
