"""Fault: PostgreSQL restarts while agency tools post card updates through gunicorn.

A throwaway PostgreSQL cluster (initdb in a temporary folder, on a free port) stands in for
production's; the machine's own cluster on 5432 is never touched. Four clients post updates
to their own cards for a bounded number of requests; PostgreSQL is restarted during the load.
Requests during the restart fail cleanly (a 5xx, no hang), the app recovers by itself, and
every card's version matches the update rows it has: no change was half-written.
"""

from __future__ import annotations

import http.client
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PG_BIN = next(iter(sorted(Path("/usr/lib/postgresql").glob("*/bin"))), None)
CLIENTS = 4
MAX_REQUESTS_PER_CLIENT = 600  # a bound; the test stops the clients long before on any machine
BEFORE, AFTER = 10, 15  # outcomes per client before the restart, and after it
MARK = "fault-test"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _as_postgres(*command: str) -> list[str]:
    """initdb and pg_ctl refuse to run as root."""
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else list(command)


def _wait_for_port(port: int, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on {port}")


@pytest.fixture
def cluster():
    if PG_BIN is None:
        pytest.fail("PostgreSQL server binaries are needed (/usr/lib/postgresql/*/bin)")
    home = Path(tempfile.mkdtemp(prefix="cc-fault-pg-"))
    if os.geteuid() == 0:
        shutil.chown(home, "postgres")
    folder = home / "data"
    port = _free_port()
    subprocess.run(
        _as_postgres(str(PG_BIN / "initdb"), "-D", str(folder), "-U", "postgres", "--auth=trust", "-E", "UTF8"),
        check=True,
        capture_output=True,
    )
    options = f"-p {port} -k {home} -c listen_addresses=127.0.0.1 -c fsync=off"
    ctl = [str(PG_BIN / "pg_ctl"), "-D", str(folder), "-o", options, "-l", str(home / "log"), "-w"]
    subprocess.run(_as_postgres(*ctl, "start"), check=True, capture_output=True)
    try:
        yield {"port": port, "restart": lambda: subprocess.run(_as_postgres(*ctl, "-m", "fast", "restart"), check=True)}
    finally:
        subprocess.run(_as_postgres(*ctl, "-m", "immediate", "stop"), capture_output=True)
        shutil.rmtree(home, ignore_errors=True)


def _manage(env: dict, *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True, capture_output=True, text=True
    )
    return result.stdout


def _sql(url: str, query: str) -> list[tuple]:
    import psycopg

    with psycopg.connect(url) as conn:
        return conn.execute(query).fetchall()


def test_a_postgres_restart_under_load_fails_cleanly_recovers_and_writes_nothing_by_halves(cluster):
    url = f"postgres://postgres@127.0.0.1:{cluster['port']}/postgres"
    env = {
        **{k: v for k, v in os.environ.items() if k not in {"DJANGO_ALLOW_ASYNC_UNSAFE", "REDIS_URL"}},
        "DATABASE_URL": url,
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DJANGO_SECRET_KEY": "fault-test-" + "x" * 50,
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_SECURE_SSL_REDIRECT": "false",
        "DATABASE_CONN_MAX_AGE": "600",
        "CELERY_BROKER_URL": "memory://",
        # Production requires Redis; the budgets are raised so the load is never throttled (not what is tested).
        "REDIS_URL": os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/15",
        "API_THROTTLE_RATE": "1000000/hour",
        "API_USER_THROTTLE_RATE": "1000000/hour",
        "LOG_LEVEL": "CRITICAL",
    }
    _manage(env, "migrate", "--noinput", "-v0")
    _manage(env, "seed_demo", "--password", "fault-test-password-1", "--i-know-this-is-production", "-v0")
    tokens = [_manage(env, "create_api_token", name, "--name", "fault test").strip() for name in _deputies(url)]
    cards = _one_open_card_each(url, CLIENTS)
    before = {
        card: _sql(url, f"SELECT version FROM challenge_cards_challengecard WHERE id = {card}")[0][0] for card in cards
    }

    port = _free_port()
    server = subprocess.Popen(
        [shutil.which("gunicorn", path=str(Path(sys.executable).parent)), "config.wsgi:application"]
        + ["--bind", f"127.0.0.1:{port}", "--workers", "2", "--timeout", "20", "--log-level", "critical"],
        cwd=ROOT,
        env=env,
    )
    outcomes: dict[int, list[int]] = {card: [] for card in cards}
    try:
        _wait_for_port(port)
        stop = threading.Event()
        threads = [
            threading.Thread(target=_client, args=(port, token, card, outcomes[card], stop))
            for token, card in zip(tokens, cards, strict=True)
        ]
        for thread in threads:
            thread.start()
        _wait_until(lambda: all(len(statuses) >= BEFORE for statuses in outcomes.values()))
        at_restart = {card: len(statuses) for card, statuses in outcomes.items()}
        started = time.monotonic()
        cluster["restart"]()
        restart_seconds = time.monotonic() - started
        _wait_until(lambda: all(len(outcomes[card]) >= at_restart[card] + AFTER for card in cards))
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
        assert not any(thread.is_alive() for thread in threads), "a client hung"
    finally:
        server.terminate()
        server.wait(timeout=30)

    all_statuses = [status for statuses in outcomes.values() for status in statuses]
    assert set(all_statuses) <= {201, 412, 500, 502, 503, 0}, sorted(set(all_statuses))
    assert any(status >= 500 or status == 0 for status in all_statuses), "the restart was not noticed"
    for card, statuses in outcomes.items():
        assert statuses[-10:] == [201] * 10, f"card {card} did not recover: {statuses}"
        assert set(statuses[: at_restart[card]]) == {201}, f"card {card} failed before the restart: {statuses}"
        rows, version = _sql(
            url,
            "SELECT (SELECT count(*) FROM challenge_cards_cardupdate u "
            f"WHERE u.card_id = c.id AND u.note LIKE '{MARK}%%'), c.version "
            f"FROM challenge_cards_challengecard c WHERE c.id = {card}",
        )[0]
        created = statuses.count(201)
        unknown = sum(1 for status in statuses if status >= 500 or status == 0)
        assert created <= rows <= created + unknown, (card, created, rows, unknown)
        assert version == before[card] + rows, "a version was raised without its update row, or the reverse"
    print(f"PostgreSQL restart took {restart_seconds:.1f} s; outcomes: {json.dumps(outcomes)}")


def _deputies(url: str) -> list[str]:
    rows = _sql(
        url,
        "SELECT u.username FROM auth_user u JOIN agencies_membership m ON m.user_id = u.id "
        "WHERE m.role = 'deputy_secretary' AND m.ended_on IS NULL ORDER BY m.agency_id LIMIT 4",
    )
    return [row[0] for row in rows]


def _one_open_card_each(url: str, count: int) -> list[int]:
    cards = []
    for (username,) in [(name,) for name in _deputies(url)][:count]:
        row = _sql(
            url,
            "SELECT c.id FROM challenge_cards_challengecard c JOIN agencies_membership m ON m.agency_id = c.agency_id "
            f"JOIN auth_user u ON u.id = m.user_id WHERE u.username = '{username}' AND m.role = 'deputy_secretary' "
            "AND c.disposition = 'open' ORDER BY c.id LIMIT 1",
        )
        cards.append(row[0][0])
    return cards


def _wait_until(condition, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "the clients stalled"
        time.sleep(0.05)


def _client(port: int, token: str, card: int, statuses: list[int], stop: threading.Event) -> None:
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json", "Accept": "application/json"}
    for index in range(MAX_REQUESTS_PER_CLIENT):
        if stop.is_set():
            return
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
            connection.request("GET", f"/api/v1/cards/{card}/", headers=headers)
            response = connection.getresponse()
            response.read()
            etag = response.getheader("ETag", "")
            connection.close()
            if response.status != 200:
                statuses.append(response.status)
                time.sleep(0.1)
                continue
            body = json.dumps({"status": "in_progress", "note": f"{MARK} {index}"})
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
            connection.request(
                "POST", f"/api/v1/cards/{card}/updates/", body=body, headers={**headers, "If-Match": etag}
            )
            response = connection.getresponse()
            response.read()
            connection.close()
            statuses.append(response.status)
        except OSError:
            statuses.append(0)
            time.sleep(0.1)
