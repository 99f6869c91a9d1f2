"""The API's rate limits: GCRA in constant memory per client, one Redis round trip per request."""

from __future__ import annotations

import datetime
import logging
import math
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import caches
from redis.commands.core import Script
from rest_framework.throttling import SimpleRateThrottle

from core.cache import KeptClientRedisCache

# GCRA (the generic cell rate algorithm). A budget of N requests a period P is one number, its
# theoretical arrival time (TAT): a request at `now` passes when max(TAT, now) + P/N - P <= now (a
# burst of N at once, then one each P/N), and moves TAT to max(TAT, now) + P/N. Every budget of the
# request is checked in one atomic step on the Redis server and by its clock (web hosts' clocks may
# differ); if any budget refuses, none moves: a refused request is not counted. Each key holds one
# number and expires when its budget is whole again. Times in microseconds; per key, ARGV holds P/N and
# P. Returns the microseconds to wait for each budget (all 0: let through and counted).
GCRA_LUA = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000000 + tonumber(clock[2])
local waits, tats, refused = {}, {}, false
for i, key in ipairs(KEYS) do
    local interval, period = tonumber(ARGV[2 * i - 1]), tonumber(ARGV[2 * i])
    tats[i] = math.max(tonumber(redis.call('GET', key) or 0), now) + interval
    waits[i] = math.max(math.ceil(tats[i] - period - now), 0)
    refused = refused or waits[i] > 0
end
if not refused then
    for i, key in ipairs(KEYS) do
        redis.call('SET', key, string.format('%.0f', tats[i]), 'PX', math.max(math.ceil((tats[i] - now) / 1000), 1))
    end
end
return waits
"""
# One script for every client: redis-py sends its SHA, and the text to a server that lacks it.
_GCRA = Script(None, GCRA_LUA.encode())  # type: ignore[arg-type]  # client given per call
_KEY = "gcra:{}"  # apart from the sorted sets older code kept under "window:..." (they expire on their own)
_PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


@dataclass(frozen=True)
class Budget:
    """`requests` a `period` (seconds), kept under `name`."""

    name: str
    requests: int
    period: float

    @classmethod
    def of(cls, name: str, rate: str) -> Budget:
        requests, period = parse_rate(rate)
        return cls(name, requests, period)


def parse_rate(rate: str) -> tuple[int, float]:
    """DRF's rate format: "1000/hour" -> (1000, 3600)."""
    count, period = rate.split("/")
    return int(count), _PERIODS[period[0]]


def token_budget_name(throttle_ident: str) -> str:
    """One budget per API token (its `throttle_ident`), per signed-in user or per anonymous address."""
    return f"throttle_api_{throttle_ident}"


def user_ident(user_pk: int, date_joined: datetime.datetime) -> str:
    # The join time keeps a new account apart from an old one's budget under a reused id.
    return f"user-{user_pk}-{date_joined.timestamp():.0f}"


def user_budget_name(user_pk: int, date_joined: datetime.datetime) -> str:
    """One budget per user across all their tokens and their browser session."""
    return f"throttle_api_everything-of-{user_ident(user_pk, date_joined)}"


def redis_key_name(name: str) -> str:
    """The cache key (before Django's prefix and version) a budget's number is kept under."""
    return _KEY.format(name)


def check_in_redis(client, keys: list[str], budgets: list[Budget]) -> list[float]:
    """Seconds to wait for each budget, all 0 when the request passes (and is counted): one EVALSHA."""
    args = [value for budget in budgets for value in (budget.period * 1e6 / budget.requests, budget.period * 1e6)]
    return [wait / 1e6 for wait in _GCRA(keys=keys, args=args, client=client)]


def _check_in_cache(backend, budgets: list[Budget]) -> list[float]:
    """GCRA_LUA's arithmetic over Django's cache, by this process's clock: for the in-process cache of
    development and tests (no Redis), where one process keeps the counts anyway."""
    now = time.time()
    stored = backend.get_many([redis_key_name(budget.name) for budget in budgets])
    tats = [max(stored.get(redis_key_name(b.name), 0.0), now) + b.period / b.requests for b in budgets]
    waits = [max(tat - budget.period - now, 0.0) for tat, budget in zip(tats, budgets, strict=True)]
    if not any(waits):
        for tat, budget in zip(tats, budgets, strict=True):
            backend.set(redis_key_name(budget.name), tat, timeout=math.ceil(tat - now))
    return waits


def _check(budgets: list[Budget]) -> list[float]:
    backend = caches["default"]
    if isinstance(backend, KeptClientRedisCache):
        keys = [backend.make_and_validate_key(redis_key_name(budget.name)) for budget in budgets]
        return check_in_redis(backend.redis(), keys, budgets)
    return _check_in_cache(backend, budgets)


class ApiRateThrottle(SimpleRateThrottle):
    """One budget per token (agency tools) or per user (browser sessions); rate from API_THROTTLE_RATE.

    GCRA: a client may send the budget's worth at once, then one request each period / budget. The
    first of the view's ApiRateThrottles to run checks every budget of the request in one step
    (_check: one round trip to Redis) and leaves the answer on the request for the others.
    """

    scope = "api"
    _wait: float = 0.0
    num_requests: int  # set by SimpleRateThrottle.__init__ from the rate
    duration: float

    def get_rate(self) -> str:
        return getattr(settings, "API_THROTTLE_RATE", "1000/hour")

    def parse_rate(self, rate):
        return (None, None) if rate is None else parse_rate(rate)

    def applies(self, request) -> bool:
        return self.rate is not None

    def allow_request(self, request, view) -> bool:
        if not self.applies(request):
            return True
        waits = getattr(request, "_api_throttle_waits", None)
        if waits is None:
            waits = request._api_throttle_waits = self._check_budgets(request, view, [self, *view.get_throttles()])
        elif self.scope not in waits:  # a throttle the view does not list
            waits.update(self._check_budgets(request, view, [self]))
        self._wait = waits[self.scope]
        return self._wait <= 0

    def _check_budgets(self, request, view, throttles: list) -> dict[str, float]:
        """{scope: seconds to wait} for these throttles' budgets, checked together (one round trip)."""
        mine: dict[str, ApiRateThrottle] = {}
        for throttle in throttles:
            if isinstance(throttle, ApiRateThrottle) and throttle.applies(request):
                mine.setdefault(throttle.scope, throttle)
        budgets = [Budget(t.get_cache_key(request, view), t.num_requests, t.duration) for t in mine.values()]
        try:
            waits = _check(budgets)
        except Exception:  # With the cache (Redis) down, serve the request unthrottled rather than fail it.
            logging.getLogger("core.api").warning("API throttle skipped: the cache is unreachable", exc_info=True)
            waits = [0.0] * len(budgets)
        return dict(zip(mine, waits, strict=True))

    def wait(self) -> float | None:
        """Seconds until this budget lets one more request through."""
        return self._wait if self._wait > 0 else None

    def get_cache_key(self, request, view) -> str:
        # An authentication class that puts a credential in request.auth (an API token) names its
        # budget by `throttle_ident`; without one, the signed-in user's budget is used.
        token_ident = getattr(request.auth, "throttle_ident", None)
        if token_ident:
            ident = token_ident
        elif request.user and request.user.is_authenticated:
            ident = user_ident(request.user.pk, request.user.date_joined)
        else:
            ident = f"anon-{self.get_ident(request)}"
        return token_budget_name(ident)


class ApiUserRateThrottle(ApiRateThrottle):
    """One budget per user across all their API tokens (and their browser session); rate from
    API_USER_THROTTLE_RATE. With ApiRateThrottle's budget per token, minting tokens does not multiply a
    user's requests past this. Anonymous requests are left to ApiRateThrottle."""

    scope = "api_user"

    def get_rate(self) -> str:
        return getattr(settings, "API_USER_THROTTLE_RATE", "2000/hour")

    def applies(self, request) -> bool:
        return super().applies(request) and bool(request.user and request.user.is_authenticated)

    def get_cache_key(self, request, view) -> str:
        # Its own key: ApiRateThrottle keys a browser session's budget on the same user, and one number
        # shared by both would count each request twice (halving the session's budget).
        return user_budget_name(request.user.pk, request.user.date_joined)
