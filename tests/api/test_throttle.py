"""The API throttle (core.api.throttling): GCRA, one number per budget, one Redis round trip per request.

The rule's tests run on Redis (a private redis-server, as production's shared cache) and on the
in-process cache (development without REDIS_URL), which follow the same rule; what a client costs
Redis (one number per budget, one round trip a request) is tested on Redis.
"""

from __future__ import annotations

import time

import pytest
import redis
from django.core.cache import caches
from rest_framework.test import APIClient

from agencies.tokens import token_create
from core.api.throttling import redis_key_name, token_budget_name, user_budget_name
from tests.security.test_fault_redis import redis_cache  # noqa: F401  (the fixture redis_server starts)


@pytest.fixture
def redis_server(request):
    """A private redis-server as the cache (never the machine's own); a client of it."""
    return redis.Redis(port=request.getfixturevalue("redis_cache")["port"])


@pytest.fixture(params=["redis", "in-process"])
def throttle_cache(request, settings):
    """The cache the throttle counts in: a redis.Redis on the private server, or None (in-process)."""
    if request.param == "redis":
        return request.getfixturevalue("redis_server")
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    caches["default"].clear()
    return None


def _tool(user):
    token, raw = token_create(user=user, name="Treasury tracker")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return token, api


def _names(token) -> list[str]:
    """The two budgets of a token's request: the token's and its user's."""
    user = token.user
    return [token_budget_name(token.throttle_ident), user_budget_name(user.pk, user.date_joined)]


def _stored(server, name: str) -> float:
    """A budget's theoretical arrival time, in seconds (the script keeps microseconds)."""
    if server is None:
        return caches["default"].get(redis_key_name(name))
    [key] = server.keys(f"*{redis_key_name(name)}")
    return int(server.get(key)) / 1e6


def _pass_time(server, names: list[str], seconds: float) -> None:
    """As if `seconds` went by: each budget's arrival time moves back (Redis's clock cannot be moved)."""
    for name in names:
        if server is None:
            backend = caches["default"]
            backend.set(redis_key_name(name), backend.get(redis_key_name(name)) - seconds, timeout=3600)
        else:
            [key] = server.keys(f"*{redis_key_name(name)}")
            server.set(key, int(server.get(key)) - round(seconds * 1e6), keepttl=True)


def _statuses(api, count: int) -> list[int]:
    return [api.get("/api/v1/me/").status_code for _ in range(count)]


def test_a_burst_of_the_whole_budget_then_one_request_each_period_over_budget(throttle_cache, deputy, settings):
    settings.API_THROTTLE_RATE, settings.API_USER_THROTTLE_RATE = "6/minute", "100/minute"
    token, api = _tool(deputy)
    started = time.monotonic()
    assert _statuses(api, 6) == [200] * 6
    refused = api.get("/api/v1/me/")
    elapsed = time.monotonic() - started
    assert refused.status_code == 429 and refused["Content-Type"].startswith("application/problem+json")
    # The next request is due 60 / 6 = 10 s after the first: Retry-After counts from now.
    assert 10 - elapsed <= int(refused["Retry-After"]) <= 10
    assert _statuses(api, 3) == [429] * 3  # refusals are not counted ...

    _pass_time(throttle_cache, _names(token), 10)
    assert _statuses(api, 2) == [200, 429]  # ... so one period later exactly one more passes
    _pass_time(throttle_cache, _names(token), 60)
    assert _statuses(api, 7) == [200] * 6 + [429]  # a whole period later: the whole burst again


def test_a_refusal_by_the_user_s_budget_does_not_count_in_the_token_s(throttle_cache, deputy, settings):
    settings.API_THROTTLE_RATE, settings.API_USER_THROTTLE_RATE = "10/minute", "2/minute"
    token, api = _tool(deputy)
    assert _statuses(api, 2) == [200, 200]
    token_name, user_name = _names(token)
    before = _stored(throttle_cache, token_name), _stored(throttle_cache, user_name)
    refused = api.get("/api/v1/me/")
    assert refused.status_code == 429 and 0 < int(refused["Retry-After"]) <= 30  # the user's: 60 / 2
    assert (_stored(throttle_cache, token_name), _stored(throttle_cache, user_name)) == before


def test_each_budget_keeps_one_number_with_an_expiry_however_many_requests(redis_server, deputy, settings):
    settings.API_THROTTLE_RATE = settings.API_USER_THROTTLE_RATE = "1000/minute"
    _token, api = _tool(deputy)
    api.get("/api/v1/me/")
    keys = sorted(redis_server.keys("*gcra:*"))
    sizes = [redis_server.memory_usage(key) for key in keys]
    assert _statuses(api, 150) == [200] * 150
    assert sorted(redis_server.keys("*gcra:*")) == keys and len(keys) == 2  # the token's and the user's
    assert [redis_server.type(key) for key in keys] == [b"string", b"string"]
    assert [redis_server.memory_usage(key) for key in keys] == sizes  # not one byte more after 150 requests
    for key in keys:
        assert 0 < redis_server.pttl(key) <= 60_000  # gone once the budget is whole again


def test_one_round_trip_to_redis_a_request_for_both_budgets(redis_server, deputy, settings):
    settings.API_THROTTLE_RATE, settings.API_USER_THROTTLE_RATE = "3/minute", "1000/minute"
    _token, api = _tool(deputy)
    assert api.get("/api/v1/me/").status_code == 200  # the first call also loads the script into the server
    kept = caches["default"].redis()
    sent: list[str] = []
    original = kept.execute_command

    def counted(*args, **options):
        sent.append(args[0])
        return original(*args, **options)

    kept.execute_command = counted
    try:
        assert _statuses(api, 3) == [200, 200, 429]
    finally:
        del kept.execute_command
    assert sent == ["EVALSHA"] * 3  # a refusal costs the same one step
