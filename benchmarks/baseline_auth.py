"""Who is asking, for the baselines (baseline_wsgi.py, baseline_writes.py): as the API checks it, by hand.

- the bearer token: its SHA-256 looked up with its user in one query (agencies.tokens), refused if
  unknown, revoked, expired or the user inactive (401); its last use recorded at most once a minute;
- the throttle: the token's and the user's budgets in one round trip to Redis, with the app's own
  script, key names and rates (core.api.throttling: GCRA_LUA through a plain redis-py client),
  429 with Retry-After past either;
- the roles: the same UNION ALL as agencies.roles, reduced to what visibility and editing need;
- the audit row a request writes (audit.middleware): a token's first use in a minute, a change.

Importing core.api.throttling reads Django's settings (DJANGO_SETTINGS_MODULE, as the app's server
gets): the rates are the app's. Django itself is not set up; no model, no middleware.
"""

from __future__ import annotations

import datetime
import hashlib
import math
import os
import uuid

import orjson
import psycopg
import redis
from django.conf import settings
from django.core.cache.backends.base import default_key_func

from core.api import throttling

LAST_USED_RESOLUTION = datetime.timedelta(minutes=1)
TOKEN_SQL = """
SELECT t.id, t.user_id, t.prefix, t.expires_at, t.last_used_at, t.revoked_at,
       u.is_active, u.username, u.first_name, u.last_name, u.date_joined
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
AUDIT_COLUMNS = """audit_auditevent
    (occurred_at, actor_id, actor_username, on_behalf_of_id, action, object_type, object_id, outcome, method, path,
     status_code, ip_address, user_agent, request_id, details)"""
AUDIT_VALUES = """(%(now)s, %(user)s, %(username)s, NULL, %(action)s, %(object_type)s, %(object)s,
     'success', %(method)s, %(path)s, %(status)s, %(ip)s, %(agent)s, %(request_id)s, %(details)s)"""
AUDIT_SQL = f"INSERT INTO {AUDIT_COLUMNS} VALUES {AUDIT_VALUES}"

_redis: redis.Redis | None = None


class Answer(Exception):
    """A refusal: the status line, a detail and any headers."""

    def __init__(self, status: str, detail: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.status, self.detail, self.headers = status, detail, headers or {}


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


def redis_client() -> redis.Redis:
    """One client per process, with the app's timeouts (config/settings/base.py)."""
    global _redis
    if _redis is None:
        _redis = redis.Redis.from_url(os.environ["REDIS_URL"], socket_connect_timeout=1, socket_timeout=1)
    return _redis


def bearer(environ: dict) -> str:
    """The token sent, or 401 before any query (as BearerTokenAuthentication and token_authenticate)."""
    scheme, _, raw = environ.get("HTTP_AUTHORIZATION", "").partition(" ")
    if scheme.lower() != "bearer" or not raw or " " in raw or len(raw) > 200 or "\x00" in raw:
        raise Answer("401 Unauthorized", "Invalid token.", {"WWW-Authenticate": 'Bearer realm="api"'})
    return raw


def token(q: Counted, raw: str, now: datetime.datetime) -> tuple[tuple, bool, str]:
    """(the token row with its user's, whether this request recorded its use, its hash)."""
    key_hash = hashlib.sha256(raw.encode()).hexdigest()
    row = q.one(TOKEN_SQL, [key_hash])
    if row is None or row[5] is not None or (row[3] is not None and row[3] <= now) or not row[6]:
        raise Answer("401 Unauthorized", "Invalid token.", {"WWW-Authenticate": 'Bearer realm="api"'})
    used = False
    if row[4] is None or now - row[4] >= LAST_USED_RESOLUTION:
        q.count += 1
        q.cursor.execute(TOKEN_USED_SQL, {"now": now, "id": row[0], "cutoff": now - LAST_USED_RESOLUTION})
        used = q.cursor.rowcount == 1
    return row, used, key_hash


def throttle(row: tuple, key_hash: str) -> None:
    """The token's and the user's budgets, one round trip; 429 past either (refusals not counted)."""
    names = [
        throttling.token_budget_name(f"token-{row[0]}-{key_hash[:12]}"),  # agencies' ApiToken.throttle_ident
        throttling.user_budget_name(row[1], row[10]),
    ]
    budgets = [
        throttling.Budget.of(names[0], settings.API_THROTTLE_RATE),
        throttling.Budget.of(names[1], settings.API_USER_THROTTLE_RATE),
    ]
    keys = [default_key_func(throttling.redis_key_name(name), "", 1) for name in names]  # Django's make_key
    try:
        wait = max(throttling.check_in_redis(redis_client(), keys, budgets))
    except redis.RedisError:
        return  # the app serves the request unthrottled while Redis is down
    if wait > 0:
        raise Answer("429 Too Many Requests", "Request was throttled.", {"Retry-After": str(math.ceil(wait))})


def roles(q: Counted, user_id: int) -> tuple[bool, list[int], set[int], set[int]]:
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


def who(q: Counted, raw: str, now: datetime.datetime) -> tuple[tuple, bool, tuple]:
    """The token (401), the throttle (429), the roles: what every API request checks, in the app's order.

    `raw` is bearer(environ), taken before the database is asked anything."""
    row, used, key_hash = token(q, raw, now)
    throttle(row, key_hash)
    return row, used, roles(q, row[1])


def audit_params(
    environ: dict, token: tuple, now, *, action: str, status: int, view: str, object_type: str, object_id: str, events
) -> dict:
    """The audit row's values, as audit.middleware writes them for this request."""
    details: dict = {"view": view}
    if events:
        details["events"] = events
    details["token"] = {"id": token[0], "prefix": token[2]}
    return {
        "now": now,
        "user": token[1],
        "username": token[7],
        "action": action,
        "object_type": object_type,
        "object": object_id,
        "method": environ["REQUEST_METHOD"],
        "path": environ["PATH_INFO"],
        "status": status,
        "ip": environ.get("REMOTE_ADDR") or "127.0.0.1",
        "agent": environ.get("HTTP_USER_AGENT", "")[:500],
        "request_id": uuid.uuid4().hex,
        "details": orjson.dumps(details).decode(),
    }


def token_used(q: Counted, environ: dict, token: tuple, now, *, view: str, object_id: str) -> None:
    """The audit row of a token's first use in a minute (a read; audit.middleware's "token.used")."""
    q.count += 1
    params = audit_params(
        environ,
        token,
        now,
        action="token.used",
        status=200,
        view=view,
        object_type=view,
        object_id=object_id,
        events=None,
    )
    q.cursor.execute(AUDIT_SQL, params)
