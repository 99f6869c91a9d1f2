"""The card-list API endpoint against the fastest possible page, under gunicorn on PostgreSQL.

    .venv/bin/python benchmarks/card_list.py [--requests 1000] [--clients 4] [--rounds 3] [--workers 2]

It builds (once) or reuses the database `cc_bench` with `seed_demo --scale large`, starts two
gunicorn servers on 127.0.0.1 with the same settings — the real app (production settings,
Redis cache and throttling, persistent database connections) and benchmarks/baseline_wsgi.py
(the same token, throttle, roles and visibility checked by hand, then two SQL queries plus orjson,
the same cards with their follow-up actions nested) — checks that
both serve the same data, and in the same run measures:

- throughput: a fixed number of requests from --clients client processes, rounds alternating
  between the two servers; the median round counts;
- single-client latency: p50, p95 and p99 of --latency-requests sequential requests;
- SQL queries per request for every list endpoint and list page, as an OMB admin and a deputy.

Then it prints the figures and whether each target is met, and writes var/bench/card_list.json.
Only 127.0.0.1 is contacted; every loop is bounded by a request count.
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import secrets
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))
BENCH_DB = "cc_bench"
MIN_CARDS = 30_000  # what seed_demo --scale large makes (500 agencies x 60 cards)
ENDPOINT = "/api/v1/cards/?page_size=50"
TARGET_RATIO = 0.60
TARGET_QUERIES = 6
TARGET_P95_MS = 50.0


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=1000, help="requests per throughput round (default 1000)")
    parser.add_argument("--clients", type=int, default=4, help="concurrent client processes (default 4)")
    parser.add_argument("--rounds", type=int, default=3, help="throughput rounds per server (default 3)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers per server (default 2)")
    parser.add_argument("--latency-requests", type=int, default=300, help="sequential requests for latency")
    parser.add_argument("--rebuild", action="store_true", help="drop and rebuild the benchmark database")
    return parser.parse_args()


# --- the database -----------------------------------------------------------------------------


def database_url() -> str:
    base = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    if not base.startswith(("postgres://", "postgresql://")):
        sys.exit("The benchmark needs PostgreSQL: set DATABASE_URL to a postgres:// URL (any database name).")
    return urlunsplit(urlsplit(base)._replace(path=f"/{BENCH_DB}"))


def ensure_database(url: str, rebuild: bool) -> None:
    """Create, migrate and seed cc_bench unless it already holds the large data set."""
    import psycopg

    admin_url = urlunsplit(urlsplit(url)._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as conn:
        if rebuild:
            conn.execute(f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)")
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [BENCH_DB]).fetchone():
            conn.execute(f"CREATE DATABASE {BENCH_DB}")
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "config.settings.local"}
    manage = [sys.executable, str(BASE_DIR / "manage.py")]
    subprocess.run([*manage, "migrate", "-v0"], env=env, check=True, cwd=BASE_DIR)
    with psycopg.connect(url) as conn:
        cards = conn.execute("SELECT count(*) FROM challenge_cards_challengecard").fetchone()[0]
    if cards < MIN_CARDS:
        print(f"==> Seeding {BENCH_DB} with seed_demo --scale large (a few minutes, once)", flush=True)
        subprocess.run([*manage, "seed_demo", "--scale", "large", "-v0"], env=env, check=True, cwd=BASE_DIR)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("ANALYZE")  # fresh planner statistics after a bulk load, as autovacuum would give later


def bench_redis_url() -> str:
    return os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/9")


def django_setup(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.local"
    os.environ["DJANGO_ALLOWED_HOSTS"] = "127.0.0.1,testserver"
    os.environ["DJANGO_DEBUG"] = "false"
    # Counted as served: with Redis, as the gunicorn servers below and production (sessions read from it).
    os.environ["REDIS_URL"] = bench_redis_url()
    import django

    django.setup()


def data_sizes() -> dict[str, int]:
    from agencies.models import Agency
    from challenge_cards.models import CardUpdate, ChallengeCard, FollowUpAction

    return {
        "agencies": Agency.objects.count(),
        "cards": ChallengeCard.objects.count(),
        "actions": FollowUpAction.objects.count(),
        "updates": CardUpdate.objects.count(),
    }


def bench_token() -> str:
    from django.contrib.auth import get_user_model

    from agencies.tokens import token_create, token_revoke
    from challenge_cards import demo

    admin = get_user_model().objects.get(username=demo.ADMIN_USERNAME)
    # Earlier runs' tokens, revoked first: a user may hold only API_TOKENS_PER_USER live ones, and pages.py,
    # load.py and this script make one a run (api_paths.py revokes its own at the end).
    for earlier in admin.api_tokens.active().filter(name__startswith="benchmark 20"):
        token_revoke(actor=admin, token=earlier)
    _token, raw = token_create(user=admin, name=f"benchmark {time.strftime('%Y-%m-%d %H:%M')}", expires_days=1)
    return raw


def query_counts() -> list[dict]:
    """SQL queries per request for every list endpoint and page, as an OMB admin and as a deputy."""
    import logging

    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from agencies.tokens import token_create
    from challenge_cards import demo

    logging.getLogger("django.request").setLevel(logging.ERROR)  # a deputy's 403 on OMB-only pages is expected
    users = get_user_model().objects
    people = {"OMB admin": users.get(username=demo.ADMIN_USERNAME)}
    deputy = users.filter(username__startswith="deputy.", memberships__role="deputy_secretary").order_by("id").first()
    if deputy is not None:
        people["deputy secretary"] = deputy
    api_paths = ["/api/v1/cards/", "/api/v1/actions/", "/api/v1/meetings/", "/api/v1/agencies/"]
    api_paths.append("/api/v1/notifications/")
    page_paths = ["/", "/cards/", "/meetings/", "/review/", "/agencies/", "/scorecard/", "/notifications/"]
    rows = []
    for who, user in people.items():
        _token, raw = token_create(user=user, name="benchmark query count", expires_days=1)
        api = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
        pages = Client()
        pages.force_login(user)
        for client, paths in ((api, api_paths), (pages, page_paths)):
            for path in paths:
                client.get(path)  # warm: the token's last use, the session's last-seen time
                with CaptureQueriesContext(connection) as captured:
                    response = client.get(path)
                if response.status_code in (403, 404):
                    continue  # not for this role (OMB-only pages)
                rows.append({"who": who, "path": path, "status": response.status_code, "queries": len(captured)})
    return rows


# --- the servers ------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


SERVERS_SECRET_KEY = secrets.token_urlsafe(40)


def start_gunicorn(app: str, port: int, workers: int, url: str, extra_env: dict | None = None) -> subprocess.Popen:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DJANGO_SECRET_KEY": SERVERS_SECRET_KEY,  # one for the app and the baseline: the same signed cursors
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_SECURE_SSL_REDIRECT": "false",
        "DATABASE_URL": url,
        "DATABASE_CONN_MAX_AGE": "600",
        "BASELINE_DATABASE_URL": url,
        "CELERY_BROKER_URL": os.environ.get("CELERY_BROKER_URL", "redis://127.0.0.1:6379/9"),
        "REDIS_URL": bench_redis_url(),
        # The benchmark sends more requests than a real tool may; the throttle is still checked per request.
        "API_THROTTLE_RATE": "100000000/hour",
        "API_USER_THROTTLE_RATE": "100000000/hour",
        "LOG_LEVEL": "WARNING",
        **(extra_env or {}),
    }
    command = [
        str(Path(sys.executable).with_name("gunicorn")),
        app,
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--chdir",
        str(BASE_DIR),
        "--pythonpath",
        f"{BASE_DIR},{BASE_DIR / 'benchmarks'}",
        "--log-level",
        "warning",
    ]
    process = subprocess.Popen(command, env=env, cwd=BASE_DIR)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return process
        except OSError:
            time.sleep(0.2)
    process.terminate()
    raise RuntimeError(f"gunicorn ({app}) did not start on port {port}")


# --- the load -------------------------------------------------------------------------------


def _client(job: tuple[int, str, dict, int]) -> tuple[list[float], int]:
    port, path, headers, count = job
    latencies: list[float] = []
    errors = 0
    for _ in range(count):
        start = time.perf_counter()
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        try:
            connection.request("GET", path, headers=headers)
            response = connection.getresponse()
            body = response.read()
            if response.status != 200 or not body.startswith(b'{"count"'):
                errors += 1
        except OSError:
            errors += 1
        finally:
            connection.close()
        latencies.append((time.perf_counter() - start) * 1000)
    return latencies, errors


def same_page(targets: dict) -> bool:
    """Whether the baseline's page equals the endpoint's (the next link's scheme, host and port aside)."""
    pages = {}
    for name, (port, path, headers) in targets.items():
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        connection.request("GET", path, headers=headers)
        pages[name] = json.loads(connection.getresponse().read())
        connection.close()
        pages[name]["next"] = urlsplit(pages[name]["next"] or "")._replace(scheme="", netloc="").geturl()
    if pages["endpoint"] != pages["baseline"]:
        print("WARNING: the baseline's page differs from the endpoint's", file=sys.stderr)
        return False
    return True


def throughput(pool, port: int, path: str, headers: dict, total: int, clients: int) -> tuple[float, int]:
    share = [total // clients + (1 if i < total % clients else 0) for i in range(clients)]
    start = time.perf_counter()
    results = pool.map(_client, [(port, path, headers, n) for n in share])
    elapsed = time.perf_counter() - start
    return total / elapsed, sum(errors for _, errors in results)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def latency(port: int, path: str, headers: dict, count: int) -> dict:
    _client((port, path, headers, 20))  # warm-up
    values, errors = _client((port, path, headers, count))
    return {
        "p50_ms": percentile(values, 0.50),
        "p95_ms": percentile(values, 0.95),
        "p99_ms": percentile(values, 0.99),
        "errors": errors,
    }


# --- the run --------------------------------------------------------------------------------


def machine() -> str:
    model = ""
    try:
        for line in subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout.splitlines():
            if line.startswith("Model name:"):
                model = line.split(":", 1)[1].strip()
    except (OSError, subprocess.CalledProcessError):
        pass
    memory_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{os.cpu_count()} cores ({model or 'unknown CPU'}), {memory_gib:.0f} GiB"


def main() -> int:
    args = parse_args()
    url = database_url()
    ensure_database(url, args.rebuild)
    django_setup(url)
    sizes = data_sizes()
    raw_token = bench_token()
    queries = query_counts()
    from django.db import connections

    connections.close_all()

    app_port, base_port = free_port(), free_port()
    servers = [
        start_gunicorn("config.wsgi:application", app_port, args.workers, url),
        start_gunicorn("baseline_wsgi:application", base_port, args.workers, url),
    ]
    app_headers = {"Authorization": f"Bearer {raw_token}", "Accept": "application/json", "X-Forwarded-Proto": "https"}
    targets = {"endpoint": (app_port, ENDPOINT, app_headers), "baseline": (base_port, ENDPOINT, app_headers)}
    try:
        same_data = same_page(targets)
        for port, path, headers in targets.values():
            _client((port, path, headers, 30))  # warm every worker: connections, imports, caches
        rates: dict[str, list[float]] = {"endpoint": [], "baseline": []}
        errors = {"endpoint": 0, "baseline": 0}
        with multiprocessing.Pool(args.clients) as pool:
            for _round in range(args.rounds):
                for name in ("baseline", "endpoint"):
                    port, path, headers = targets[name]
                    rate, failed = throughput(pool, port, path, headers, args.requests, args.clients)
                    rates[name].append(rate)
                    errors[name] += failed
        single = {name: latency(*target, args.latency_requests) for name, target in targets.items()}
    finally:
        for server in servers:
            server.terminate()
        for server in servers:
            server.wait(timeout=30)

    median = {name: statistics.median(values) for name, values in rates.items()}
    ratio = median["endpoint"] / median["baseline"]
    worst_queries = max(row["queries"] for row in queries)
    report = {
        "machine": machine(),
        "data": sizes,
        "settings": {
            "requests_per_round": args.requests,
            "clients": args.clients,
            "rounds": args.rounds,
            "gunicorn_workers": args.workers,
            "latency_requests": args.latency_requests,
        },
        "throughput_rps": {name: [round(v, 1) for v in values] for name, values in rates.items()},
        "median_rps": {name: round(v, 1) for name, v in median.items()},
        "errors": errors,
        "ratio": round(ratio, 3),
        "baseline_serves_the_same_data": same_data,
        "latency_single_client": {n: {k: round(v, 1) for k, v in d.items()} for n, d in single.items()},
        "queries": queries,
        "targets": {
            f"endpoint throughput >= {TARGET_RATIO:.0%} of baseline": ratio >= TARGET_RATIO,
            f"every list page and endpoint <= {TARGET_QUERIES} SQL queries": worst_queries <= TARGET_QUERIES,
            f"card-list p95 < {TARGET_P95_MS:.0f} ms (single client)": single["endpoint"]["p95_ms"] < TARGET_P95_MS,
            "baseline and endpoint serve the same data": same_data,
            "no errors": not any(errors.values()) and not any(d["errors"] for d in single.values()),
        },
    }
    print_report(report)
    out = BASE_DIR / "var" / "bench" / "card_list.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2))
    print(f"\nWritten to {out.relative_to(BASE_DIR)}")
    return 0


def print_report(report: dict) -> None:
    print(f"\nCard-list benchmark — {report['machine']}")
    print("Data: " + ", ".join(f"{count:,} {name}" for name, count in report["data"].items()))
    s = report["settings"]
    print(
        f"Load: {s['rounds']} rounds x {s['requests_per_round']} requests from {s['clients']} client processes; "
        f"gunicorn {s['gunicorn_workers']} sync workers each\n"
    )
    print(f"{'':<10} {'median req/s':>12} {'rounds':>26} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}")
    for name in ("baseline", "endpoint"):
        lat = report["latency_single_client"][name]
        rounds = ", ".join(f"{v:.0f}" for v in report["throughput_rps"][name])
        print(
            f"{name:<10} {report['median_rps'][name]:>12.1f} {rounds:>26} "
            f"{lat['p50_ms']:>8.1f} {lat['p95_ms']:>8.1f} {lat['p99_ms']:>8.1f}"
        )
    print(f"\nEndpoint / baseline throughput: {report['ratio']:.0%}")
    print("\nSQL queries per request:")
    for row in report["queries"]:
        print(f"  {row['queries']:>3}  {row['who']:<17} {row['path']}")
    print("\nTargets:")
    for target, met in report["targets"].items():
        print(f"  [{'met' if met else 'NOT MET'}] {target}")


if __name__ == "__main__":
    sys.exit(main())
