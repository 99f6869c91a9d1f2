"""A sustained mixed load on gunicorn and PostgreSQL at seed_demo --scale large: errors and latency per request kind.

    .venv/bin/python benchmarks/load.py [--users 4] [--iterations 60] [--workers 2]

Each simulated user is a different agency's deputy secretary with a browser session and an API
token. One iteration opens the home page, the card list page, one of the agency's card pages,
the API card list, and posts an update to that card through the API (GET for the ETag, then
POST with If-Match). Users run in separate processes, each for a fixed number of iterations.
The database is `cc_bench`, built or reused as in benchmarks/card_list.py; only 127.0.0.1 is
contacted. Prints throughput, p50/p95/p99 per kind and the error count, and writes
var/bench/load.json.
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import secrets
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from card_list import (
    BASE_DIR,
    database_url,
    django_setup,
    ensure_database,
    free_port,
    machine,
    percentile,
    start_gunicorn,
)

KINDS = ["home page", "card list page", "card page", "API card list", "post an update (API)"]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=4, help="simulated users, one process each (default 4)")
    parser.add_argument("--iterations", type=int, default=60, help="iterations per user (default 60)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (default 2)")
    return parser.parse_args()


def prepare_users(count: int) -> list[dict]:
    """Sessions and tokens for `count` deputy secretaries, and one open card each."""
    import logging

    logging.getLogger("axes").setLevel(logging.WARNING)
    from django.contrib.auth import get_user_model
    from django.test import Client

    from agencies.tokens import token_create
    from challenge_cards.models import ChallengeCard

    deputies = (
        get_user_model()
        .objects.filter(memberships__role="deputy_secretary", memberships__ended_on__isnull=True)
        .order_by("id")[:count]
    )
    users = []
    for deputy in deputies:
        client = Client()
        client.force_login(deputy)
        _token, raw = token_create(user=deputy, name="load test", expires_days=1)
        card = ChallengeCard.objects.visible_to(deputy).filter(disposition="open").exclude(status="done").first()
        users.append({"session": client.cookies["sessionid"].value, "token": raw, "card": card.pk})
    return users


def _request(port: int, method: str, path: str, headers: dict, body: bytes | None = None):
    start = time.perf_counter()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        response.read()
        return response.status, response.getheader("ETag", ""), (time.perf_counter() - start) * 1000
    except OSError:
        return 0, "", (time.perf_counter() - start) * 1000
    finally:
        connection.close()


def run_user(job: tuple[int, dict, int]) -> dict:
    port, user, iterations = job
    page = {"Cookie": f"sessionid={user['session']}", "X-Forwarded-Proto": "https"}
    api = {"Authorization": f"Bearer {user['token']}", "Accept": "application/json", "X-Forwarded-Proto": "https"}
    card = user["card"]
    timings: dict[str, list[float]] = {kind: [] for kind in KINDS}
    errors: dict[str, int] = dict.fromkeys(KINDS, 0)

    def record(kind: str, status: int, ms: float, ok: tuple[int, ...] = (200,)) -> None:
        timings[kind].append(ms)
        if status not in ok:
            errors[kind] += 1

    for index in range(iterations):
        for kind, path in (("home page", "/"), ("card list page", "/cards/"), ("card page", f"/cards/{card}/")):
            status, _etag, ms = _request(port, "GET", path, page)
            record(kind, status, ms)
        status, etag, ms = _request(port, "GET", "/api/v1/cards/?page_size=50", api)
        record("API card list", status, ms)
        status, etag, _ms = _request(port, "GET", f"/api/v1/cards/{card}/", api)
        body = json.dumps({"status": "in_progress", "note": f"Load test update {index}."}).encode()
        headers = {**api, "Content-Type": "application/json", "If-Match": etag}
        status, _etag, ms = _request(port, "POST", f"/api/v1/cards/{card}/updates/", headers, body)
        record("post an update (API)", status, ms, ok=(201,))
    return {"timings": timings, "errors": errors}


def main() -> int:
    args = parse_args()
    url = database_url()
    ensure_database(url, rebuild=False)
    secret = secrets.token_urlsafe(40)
    os.environ["DJANGO_SECRET_KEY"] = secret  # sessions made here must verify in gunicorn
    django_setup(url)
    users = prepare_users(args.users)
    from django.db import connections

    connections.close_all()

    static_dir = BASE_DIR / "var" / "bench" / "static"
    env = {"CC_VAR_DIR": str(static_dir), "DJANGO_SECRET_KEY": secret}
    print("==> collectstatic for the production settings", flush=True)
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
        cwd=BASE_DIR,
        check=True,
        env={
            **os.environ,
            **env,
            "DJANGO_SETTINGS_MODULE": "config.settings.production",
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
            "DATABASE_URL": url,
            "CELERY_BROKER_URL": "redis://127.0.0.1:6379/9",
        },
    )
    port = free_port()
    server = start_gunicorn("config.wsgi:application", port, args.workers, url, extra_env=env)
    try:
        run_user((port, users[0], 2))  # warm-up
        started = time.perf_counter()
        with multiprocessing.Pool(len(users)) as pool:
            results = pool.map(run_user, [(port, user, args.iterations) for user in users])
        elapsed = time.perf_counter() - started
    finally:
        server.terminate()
        server.wait(timeout=30)

    total = sum(len(r["timings"][kind]) for r in results for kind in KINDS)
    report = {
        "machine": machine(),
        "users": len(users),
        "iterations": args.iterations,
        "gunicorn_workers": args.workers,
        "seconds": round(elapsed, 1),
        "requests_per_second": round(total / elapsed, 1),
        "kinds": {},
    }
    print(f"\nMixed load — {report['machine']}; {len(users)} users x {args.iterations} iterations, {elapsed:.0f} s")
    print(f"Throughput: {report['requests_per_second']} measured requests/s ({total} requests)\n")
    print(f"{'':<22} {'requests':>8} {'errors':>6} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}")
    for kind in KINDS:
        values = [v for r in results for v in r["timings"][kind]]
        errors = sum(r["errors"][kind] for r in results)
        row = {
            "requests": len(values),
            "errors": errors,
            "p50_ms": round(percentile(values, 0.5), 1),
            "p95_ms": round(percentile(values, 0.95), 1),
            "p99_ms": round(percentile(values, 0.99), 1),
        }
        report["kinds"][kind] = row
        print(f"{kind:<22} {len(values):>8} {errors:>6} {row['p50_ms']:>8} {row['p95_ms']:>8} {row['p99_ms']:>8}")
    out = BASE_DIR / "var" / "bench" / "load.json"
    out.write_text(json.dumps(report, indent=2))
    print(f"\nWritten to {out.relative_to(BASE_DIR)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
