"""The API's rate limit, shared by every web process through Redis."""

from __future__ import annotations

import logging
import secrets

from django.conf import settings
from django.core.cache import caches
from redis.commands.core import Script
from rest_framework.throttling import SimpleRateThrottle

from core.cache import KeptClientRedisCache

# DRF's sliding window as a sorted set of request times, in one atomic step on the Redis server and
# by its clock (web hosts' clocks may differ): drop the times older than the window; below the
# budget, add this request; else leave it uncounted, as DRF does, and give the oldest time.
_THROTTLE_WINDOW_LUA = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local window, budget = tonumber(ARGV[1]), tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) < budget then
    redis.call('ZADD', KEYS[1], now, ARGV[3])
    redis.call('EXPIRE', KEYS[1], math.ceil(window) + 1)
    return {1, '', tostring(now)}
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return {0, oldest[2], tostring(now)}
"""


# One script for every client: redis-py sends its SHA, and the text to a server that lacks it.
_THROTTLE_WINDOW = Script(None, _THROTTLE_WINDOW_LUA.encode())  # type: ignore[arg-type]  # client given per call


class ApiRateThrottle(SimpleRateThrottle):
    """One budget per token (agency tools) or per user (browser sessions); rate from API_THROTTLE_RATE.

    DRF's sliding window: a request is refused when the budget's worth of requests came in the
    last period. With Redis (REDIS_URL) every web process shares the counts, kept as a sorted set
    of request times and counted in one round trip (_THROTTLE_WINDOW_LUA); DRF's own list in the
    cache (read, then written back whole) is only for the in-process cache of development.
    """

    scope = "api"
    _oldest: float | None = None
    duration: float  # set by SimpleRateThrottle.__init__ from the rate
    num_requests: int

    def get_rate(self) -> str:
        return getattr(settings, "API_THROTTLE_RATE", "1000/hour")

    def allow_request(self, request, view) -> bool:
        # With the cache (Redis) down, serve the request unthrottled rather than fail every API call.
        try:
            backend = caches["default"]
            if isinstance(backend, KeptClientRedisCache) and self.rate is not None:
                return self._allow_in_redis(backend, request, view)
            return super().allow_request(request, view)
        except Exception:
            logging.getLogger("core.api").warning("API throttle skipped: the cache is unreachable", exc_info=True)
            return True

    def _allow_in_redis(self, backend: KeptClientRedisCache, request, view) -> bool:
        # Its own key, apart from DRF's pickled list under the plain cache key (left by older code).
        key = backend.make_and_validate_key(f"window:{self.get_cache_key(request, view)}")
        args: list[float | str] = [self.duration, self.num_requests, secrets.token_hex(8)]
        allowed, oldest, now = _THROTTLE_WINDOW(keys=[key], args=args, client=backend.redis())
        self.now = float(now)
        if allowed:
            return True
        self._oldest = float(oldest)
        return self.throttle_failure()

    def wait(self) -> float | None:
        """Seconds until the oldest request in the window leaves it (DRF's answer for a full window)."""
        if self._oldest is None:
            return super().wait()
        return max(self.duration - (self.now - self._oldest), 0.0)

    def get_cache_key(self, request, view) -> str:
        # An authentication class that puts a credential in request.auth (an API token) names its
        # budget by `throttle_ident`; without one, the signed-in user's budget is used.
        token_ident = getattr(request.auth, "throttle_ident", None)
        if token_ident:
            ident = token_ident
        elif request.user and request.user.is_authenticated:
            ident = f"user-{request.user.pk}-{request.user.date_joined.timestamp():.0f}"
        else:
            ident = f"anon-{self.get_ident(request)}"
        return f"throttle_api_{ident}"


class ApiUserRateThrottle(ApiRateThrottle):
    """One budget per user across all their API tokens (and their browser session); rate from
    API_USER_THROTTLE_RATE. With ApiRateThrottle's budget per token, minting tokens does not multiply a
    user's requests past this. Anonymous requests are left to ApiRateThrottle."""

    scope = "api_user"

    def get_rate(self) -> str:
        return getattr(settings, "API_USER_THROTTLE_RATE", "2000/hour")

    def allow_request(self, request, view) -> bool:
        if not (request.user and request.user.is_authenticated):
            return True
        return super().allow_request(request, view)

    def get_cache_key(self, request, view) -> str:
        # Its own key: ApiRateThrottle keys a browser session's budget on the same user, and one set
        # shared by both would count each request twice (halving the session's budget).
        user = request.user
        return f"throttle_api_everything-of-user-{user.pk}-{user.date_joined.timestamp():.0f}"
