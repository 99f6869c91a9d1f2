"""The API's per-request cost in-process: the WSGI application called directly, no server, no sockets.

    DATABASE_URL=postgres://... .venv/bin/python benchmarks/profile_api.py [--requests 500] [--profile detail]
                                                                          [--paths detail list update]

Production settings (as the suite's gunicorn gets them: Redis cache, sessions and throttle, persistent
database connection, DEBUG off), and `config.wsgi.application` called with a WSGI environ, --rounds
times each: the card detail and the card list (50 a page) with an OMB admin's bearer token, and with
`--paths ... update` a posted update as benchmarks/api_paths.py posts it (a deputy secretary's token,
If-Match, a status change with a note, each with the previous answer's ETag: it writes to the database,
so point it at a copy). It prints microseconds per request (median round): wall time, and this
process's CPU time, which leaves out the database's and Redis's own work and is steadier on a loaded
machine; and the SQL statements of one request. `--profile detail` (list, update) runs the loop under
cProfile instead and prints the top functions by cumulative and own time: CPU time, or with `--wall`
wall time (where the request waits).

`--baseline` times the suite's raw psycopg + orjson baseline (benchmarks/baseline_wsgi.py) in the same
loop, after the app. `--root DIR` runs another checkout's code (say a worktree at main) with this same
loop, for an A/B: the database must be migrated for both. Writes API tokens, deleted at the end.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import secrets
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

Application = Callable[..., object]
PATHS = ["detail", "list", "update"]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", default=str(Path(__file__).resolve().parent.parent), help="the code to run")
    parser.add_argument("--requests", type=int, default=500, help="requests per round (default 500)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds per path (default 3)")
    parser.add_argument("--profile", choices=PATHS, help="cProfile one path instead of timing")
    parser.add_argument("--paths", nargs="+", choices=PATHS, default=["detail", "list"], help="paths to time")
    parser.add_argument("--wall", action="store_true", help="profile wall time (waits included), not CPU time")
    parser.add_argument("--top", type=int, default=45, help="functions to print when profiling")
    parser.add_argument("--baseline", action="store_true", help="time the raw baseline (baseline_wsgi.py) too")
    return parser.parse_args(argv)


def django_setup(root: str) -> None:
    if not os.environ.get("DATABASE_URL"):
        sys.exit("Set DATABASE_URL to a migrated database with demo data (manage.py seed_demo).")
    sys.path.insert(0, root)
    os.chdir(root)
    redis_url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/12")
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings.production",
            "DJANGO_SECRET_KEY": os.environ.get("DJANGO_SECRET_KEY") or secrets.token_urlsafe(40),
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
            "DJANGO_SECURE_SSL_REDIRECT": "false",
            "DATABASE_CONN_MAX_AGE": "600",
            "REDIS_URL": redis_url,
            "CELERY_BROKER_URL": os.environ.get("CELERY_BROKER_URL", redis_url),
            "API_THROTTLE_RATE": "100000000/hour",
            "API_USER_THROTTLE_RATE": "100000000/hour",
            "LOG_LEVEL": "WARNING",
        }
    )
    import django

    django.setup()


def environ_for(path: str, token: str, method: str = "GET", body: bytes = b"", **headers: str) -> dict:
    target, _, query = path.partition("?")
    environ = {
        "REQUEST_METHOD": method,
        "SCRIPT_NAME": "",
        "PATH_INFO": target,
        "QUERY_STRING": query,
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": "127.0.0.1:8000",
        "HTTP_AUTHORIZATION": f"Bearer {token}",
        "HTTP_ACCEPT": "application/json",
        "HTTP_X_FORWARDED_PROTO": "https",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    if body:
        environ.update({"CONTENT_TYPE": "application/json", "CONTENT_LENGTH": str(len(body))})
    environ.update({f"HTTP_{name.upper()}": value for name, value in headers.items()})
    return environ


class Read:
    """A GET with a bearer token."""

    def __init__(self, path: str, token: str) -> None:
        self.path, self.token = path, token

    def environ(self) -> dict:
        return environ_for(self.path, self.token)

    def answered(self, status: str, headers: dict[str, str], body: bytes) -> None:
        if not status.startswith("200"):
            sys.exit(f"{self.path}: {status}: {body[:300]!r}")


class Update(Read):
    """A deputy secretary's posted update (status change with a note), each with the last answer's ETag,
    as benchmarks/api_paths.py posts it: the status goes back and forth between in progress and at risk."""

    def __init__(self, card: int, token: str, etag: str, status: str) -> None:
        super().__init__(f"/api/v1/cards/{card}/updates/", token)
        self.etag, self.status, self.posted = etag, status, 0

    def environ(self) -> dict:
        new = "at_risk" if self.status == "in_progress" else "in_progress"
        self.posted += 1
        body = json.dumps({"status": new, "note": f"Profile update {self.posted}: why it is {new}."}).encode()
        return environ_for(self.path, self.token, "POST", body, IF_MATCH=self.etag)

    def answered(self, status: str, headers: dict[str, str], body: bytes) -> None:
        if not status.startswith("201"):
            sys.exit(f"{self.path}: {status}: {body[:300]!r}")
        self.etag, self.status = headers["ETag"], json.loads(body)["card"]["status"]


def call(application: Application, path: Read) -> tuple[str, bytes]:
    answer: list = []

    def start_response(status, headers, exc_info=None):
        answer.extend((status, dict(headers)))

    result = application(path.environ(), start_response)
    try:
        body = b"".join(result)  # type: ignore[call-overload]
    finally:
        if hasattr(result, "close"):
            result.close()  # request_finished: what a server does after each response
    path.answered(answer[0], answer[1], body)
    return answer[0], body


def check(application: Application, paths: dict[str, Read]) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for name, path in paths.items():
        call(application, path)
        with CaptureQueriesContext(connection) as captured:
            status, _body = call(application, path)
        print(f"{name}: {path.path} -> {status}, {len(captured)} SQL statements")


def profile(application: Application, path: Read, requests: int, top: int, wall: bool = False) -> None:
    profile_calls(lambda: call(application, path), requests, top, wall=wall)


def profile_calls(once: Callable[[], object], requests: int, top: int, warm: int = 50, wall: bool = False) -> None:
    """`once()` `requests` times under cProfile (after `warm` calls), the top functions by both orders."""
    for _ in range(warm):
        once()
    # CPU time by default: the database's own time is not ours; --wall shows where the request waits.
    profiler = cProfile.Profile(time.perf_counter if wall else time.process_time)
    profiler.enable()
    for _ in range(requests):
        once()
    profiler.disable()
    for order in ("cumulative", "tottime"):
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats(order).print_stats(top)
        print(out.getvalue())


def timed(application: Application, path: Read, requests: int, rounds: int) -> tuple[list, list]:
    """(wall, CPU) microseconds per request, one figure per round."""
    for _ in range(50):  # warm
        call(application, path)
    wall, cpu = [], []
    for _ in range(rounds):
        started, started_cpu = time.perf_counter(), time.process_time()
        for _ in range(requests):
            call(application, path)
        wall.append((time.perf_counter() - started) / requests * 1e6)
        cpu.append((time.process_time() - started_cpu) / requests * 1e6)
    return wall, cpu


def deputy_update() -> tuple[Read, object]:
    """A deputy secretary's token and one of their agency's open cards, as benchmarks/api_paths.py picks them."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import api_paths

    from agencies.tokens import token_create
    from challenge_cards.api.views import ChallengeCardViewSet
    from challenge_cards.models import ChallengeCard

    deputy, (card_id,) = api_paths.deputy_with_cards(1)
    card = ChallengeCard.objects.get(pk=card_id)
    row, token = token_create(user=deputy, name="profile_api update", expires_days=1)
    etag = f'W/"{ChallengeCardViewSet.etag_kind}-{card.pk}-v{card.version}"'
    return Update(card.pk, token, etag, card.status), row


def run(args: argparse.Namespace, token: str, rows: list) -> None:
    from challenge_cards.models import ChallengeCard
    from config.wsgi import application

    card = ChallengeCard.objects.order_by("id").values_list("id", flat=True)[10]
    paths: dict[str, Read] = {
        "detail": Read(f"/api/v1/cards/{card}/", token),
        "list": Read("/api/v1/cards/?page_size=50", token),
    }
    if "update" in args.paths or args.profile == "update":
        paths["update"], row = deputy_update()
        rows.append(row)
    chosen = [args.profile] if args.profile else args.paths
    paths = {name: path for name, path in paths.items() if name in chosen}
    check(application, paths)
    if args.profile:
        profile(application, paths[args.profile], args.requests, args.top, args.wall)
        return
    applications: dict[str, Application] = {"": application}
    if args.baseline:
        os.environ["BASELINE_DATABASE_URL"] = os.environ["DATABASE_URL"]
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        import baseline_wsgi

        applications["baseline "] = baseline_wsgi.application
    for name, path in paths.items():
        for side, app in applications.items():
            wall, cpu = timed(app, path, args.requests, args.rounds)
            print(
                f"{side}{name}: {statistics.median(wall):.0f} µs/request wall, {statistics.median(cpu):.0f} µs CPU"
                f" in this process (rounds, wall: {', '.join(f'{r:.0f}' for r in wall)};"
                f" CPU: {', '.join(f'{r:.0f}' for r in cpu)})"
            )


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    django_setup(args.root)
    from django.contrib.auth import get_user_model

    from agencies.tokens import token_create
    from challenge_cards import demo

    admin = get_user_model().objects.filter(username=demo.ADMIN_USERNAME).first()
    if admin is None:
        sys.exit("No OMB admin: run manage.py seed_demo on this database first.")
    row, token = token_create(user=admin, name="profile_api", expires_days=1)
    rows = [row]
    try:
        run(args, token, rows)
    finally:
        for row in rows:
            row.delete()  # each user's live tokens are capped (API_TOKENS_PER_USER)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
