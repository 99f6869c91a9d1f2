"""Fault: the Redis cache stops (and comes back) while pages and the API are in use.

A second redis-server on a free port stands in for production's Redis; the machine's own
Redis on 6379 is never touched. (Broker faults are in tests/notifications/test_worker.py.)
"""

import logging
import shutil
import socket
import subprocess
import time

import pytest
import redis
from django.core.cache import cache, caches
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from agencies.tokens import token_create
from tests.factories import PASSWORD

# As production's (config/settings/base.py): a Redis that stops answering costs a request at most a second.
REDIS_OPTIONS = {"socket_connect_timeout": 1, "socket_timeout": 1}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _start_redis(port: int) -> subprocess.Popen:
    command = [shutil.which("redis-server"), "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly"]
    process = subprocess.Popen([*command, "no"], stdout=subprocess.DEVNULL)
    for _ in range(100):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return process
        except OSError:
            time.sleep(0.05)
    process.kill()
    raise RuntimeError("redis-server did not start")


@pytest.fixture
def redis_cache(settings):
    port = _free_port()
    process = _start_redis(port)
    location = f"redis://127.0.0.1:{port}/0"
    settings.CACHES = {
        "default": {"BACKEND": "core.cache.KeptClientRedisCache", "LOCATION": location, "OPTIONS": REDIS_OPTIONS}
    }
    state = {"process": process, "port": port}
    yield state
    state["process"].kill()
    state["process"].wait(10)


def test_pages_and_the_api_keep_working_while_redis_is_down(redis_cache, client, deputy, card, caplog, settings):
    settings.API_THROTTLE_RATE = "3/hour"
    _token, raw = token_create(user=deputy, name="Treasury tracker")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    client.force_login(deputy)
    assert [api.get("/api/v1/cards/").status_code for _ in range(3)] == [200, 200, 200]
    assert api.get("/api/v1/cards/").status_code == 429  # the throttle counts in Redis

    redis_cache["process"].kill()
    redis_cache["process"].wait(10)
    with caplog.at_level(logging.WARNING, logger="core.api"):
        assert api.get("/api/v1/cards/").status_code == 200  # served, unthrottled, while Redis is down
        assert client.get(card.get_absolute_url()).status_code == 200
        assert client.get("/cards/").status_code == 200
    assert "API throttle skipped" in caplog.text

    redis_cache["process"] = _start_redis(redis_cache["port"])  # back, empty
    assert [api.get("/api/v1/cards/").status_code for _ in range(4)] == [200, 200, 200, 429]


def _session_queries(client, url: str) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return [q["sql"] for q in captured.captured_queries if "django_session" in q["sql"]]


def test_sessions_are_read_from_redis_and_sign_in_and_out_work_while_it_is_down(redis_cache, client, deputy):
    assert client.post("/accounts/login/", {"username": deputy.username, "password": PASSWORD}).status_code == 302
    assert _session_queries(client, "/cards/") == []  # the session comes from Redis, not the database

    redis_cache["process"].kill()
    redis_cache["process"].wait(10)
    assert len(_session_queries(client, "/cards/")) == 1  # Redis down: the database serves the session
    assert client.post("/accounts/logout/").status_code == 302
    assert client.get("/cards/").status_code == 302  # signed out, although Redis could not be told
    assert client.post("/accounts/login/", {"username": deputy.username, "password": PASSWORD}).status_code == 302
    assert client.get("/cards/").status_code == 200

    redis_cache["process"] = _start_redis(redis_cache["port"])  # back, empty
    assert len(_session_queries(client, "/cards/")) == 1  # a miss, read from the database and cached again
    assert _session_queries(client, "/cards/") == []


def test_signing_out_removes_the_cached_copy_so_the_old_cookie_is_refused(redis_cache, client, deputy, settings):
    assert client.post("/accounts/login/", {"username": deputy.username, "password": PASSWORD}).status_code == 302
    old_key = client.cookies[settings.SESSION_COOKIE_NAME].value
    assert _session_queries(client, "/cards/") == []  # served from the Redis copy
    assert client.post("/accounts/logout/").status_code == 302
    client.cookies[settings.SESSION_COOKIE_NAME] = old_key  # someone kept the old cookie
    response = client.get("/cards/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_the_api_throttle_keeps_one_number_per_token_in_redis_and_refusals_do_not_count(redis_cache, deputy, settings):
    settings.API_THROTTLE_RATE = "3/minute"
    token, raw = token_create(user=deputy, name="Treasury tracker")
    server = redis.Redis(port=redis_cache["port"])
    # What older code left: DRF's list under the plain cache key, and the sorted set of request times.
    cache.set(f"throttle_api_token-{token.pk}-{token.key_hash[:12]}", [1.0])
    server.zadd(f":1:window:throttle_api_token-{token.pk}-{token.key_hash[:12]}", {"old": 1.0})
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert [api.get("/api/v1/me/").status_code for _ in range(5)] == [200, 200, 200, 429, 429]
    [key] = server.keys("*gcra:throttle_api_token*")
    assert server.type(key) == b"string"  # one number: the budget's theoretical arrival time
    seconds, micros = server.time()
    ahead = int(server.get(key)) - (seconds * 1_000_000 + micros)
    assert 55_000_000 < ahead <= 60_000_000  # three requests of 20 s each: the two refused were not counted
    assert 0 < server.pttl(key) <= 60_000
    refused = api.get("/api/v1/me/")
    assert refused.status_code == 429
    assert 15 <= int(refused["Retry-After"]) <= 20  # the next one is due a third of a minute after the first
    server.set(key, int(server.get(key)) - 20_000_000, keepttl=True)  # a third of a minute goes by
    assert [api.get("/api/v1/me/").status_code for _ in range(2)] == [200, 429]


def test_the_cache_keeps_one_redis_client_per_pool(redis_cache):
    backend = caches["default"]
    backend.set("kept", 1)
    assert backend.get("kept") == 1
    assert backend.redis() is backend.redis() is backend._cache.get_client(write=False)
