"""Django's Redis cache, keeping one redis client per connection pool instead of making one per call.

Django makes a new redis.Redis for each cache call, and redis-py 8 sets up its table of reply
handlers each time: about 0.3 ms a call on these machines, more than the round trip to Redis (a
page reads its session from the cache; the API throttle uses the kept client itself, see
core.api.throttling). A redis.Redis is safe to share between threads (each command takes a
connection from the pool), so one is kept per pool.

best_effort_get / best_effort_set: for values kept only to save work, an unreachable cache is a miss.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.cache import cache
from django.core.cache.backends.redis import RedisCache, RedisCacheClient

logger = logging.getLogger(__name__)


class _KeptClients(RedisCacheClient):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, object] = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)  # type: ignore[attr-defined]  # django-stubs lacks it
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)  # type: ignore[attr-defined]
        return client


class KeptClientRedisCache(RedisCache):
    def __init__(self, server, params) -> None:
        super().__init__(server, params)
        self._class = _KeptClients

    def redis(self):
        """The kept client of the server that takes writes, for what Django's cache has no word for."""
        return self._cache.get_client(write=True)


def best_effort_get(key: str) -> Any:
    """The default cache's value for `key`, or None when it has none or the cache is unreachable."""
    try:
        return cache.get(key)
    except Exception:
        logger.warning("Cache unreachable (get); computing the value", exc_info=True)
        return None


def best_effort_set(key: str, value: Any, seconds: int) -> None:
    """Keep `value` in the default cache if it is reachable (a value that can be computed again)."""
    try:
        cache.set(key, value, seconds)
    except Exception:
        logger.warning("Cache unreachable (set)", exc_info=True)
