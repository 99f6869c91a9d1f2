"""The pages' per-request cost in-process: the WSGI application called directly, no server, no sockets.

    DATABASE_URL=postgres://.../cc_bench_suite_large .venv/bin/python benchmarks/profile_pages.py \
        [--requests 40] [--rounds 3] [--only review home_deputy] [--profile review]

Production settings as benchmarks/profile_api.py sets them (Redis cache and sessions, persistent
database connection, DEBUG off), sessions made in-process for the OMB admin and a deputy secretary (as
benchmarks/pages.py makes them), and `config.wsgi.application` called for the paths of pages.py that
have no raw baseline: the review board, both homes, the scorecard and the card list page (page 1, 500
and 1,500 where the data has them). It prints, per path, milliseconds per request (median round): wall
time and this process's CPU time (which leaves out the database's own work and is steadier on a loaded
machine), and the SQL statements of one request. `--profile NAME` runs that path under cProfile (CPU
time) instead and prints the top functions. `--root DIR` runs another checkout's code (an A/B).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import profile_api

PATHS = {
    "review": ("omb", "/review/"),
    "home_omb": ("omb", "/"),
    "home_deputy": ("deputy", "/"),
    "scorecard": ("omb", "/scorecard/"),
    "cards_1": ("omb", "/cards/"),
    "cards_500": ("omb", "/cards/?page=500"),
    "cards_1500": ("omb", "/cards/?page=1500"),
}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", default=str(Path(__file__).resolve().parent.parent), help="the code to run")
    parser.add_argument("--requests", type=int, default=40, help="requests per round (default 40)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds per path (default 3)")
    parser.add_argument("--only", nargs="*", choices=list(PATHS), help="these paths only")
    parser.add_argument("--profile", choices=list(PATHS), help="cProfile one path instead of timing")
    parser.add_argument("--top", type=int, default=45, help="functions to print when profiling")
    return parser.parse_args(argv)


def environ_for(path: str, session: str) -> dict:
    environ = profile_api.environ_for(path, "")
    del environ["HTTP_AUTHORIZATION"]
    environ.update(HTTP_ACCEPT="text/html", HTTP_COOKIE=f"sessionid={session}")
    return environ


def call(application, path: str, session: str) -> tuple[str, bytes]:
    answer: list[str] = []

    def start_response(status, headers, exc_info=None):
        answer.append(status)

    result = application(environ_for(path, session), start_response)
    try:
        body = b"".join(result)
    finally:
        if hasattr(result, "close"):
            result.close()
    return answer[0], body


def sessions() -> dict[str, str]:
    """Session ids for the OMB admin and a deputy secretary, past the second factor (as pages.py makes them)."""
    import logging

    import pages
    from django.contrib.auth import get_user_model
    from django.test import Client

    from challenge_cards import demo

    logging.getLogger("axes").setLevel(logging.WARNING)
    users = get_user_model().objects
    deputy = (
        users.filter(username="deputy.usda").first()
        or users.filter(memberships__role="deputy_secretary", memberships__ended_on__isnull=True).order_by("id").first()
    )
    found = {}
    for who, user in (("omb", users.get(username=demo.ADMIN_USERNAME)), ("deputy", deputy)):
        client = Client()
        client.force_login(user)
        pages.second_factor_done(client)
        found[who] = client.cookies["sessionid"].value
    return found


def timed(application, wanted: dict[str, tuple[str, str]], who: dict[str, str], requests: int, rounds: int) -> None:
    """Milliseconds per request of each path (median round), every round timing every path (interleaved)."""
    for _ in range(5):  # warm
        for person, path in wanted.values():
            call(application, path, who[person])
    wall: dict[str, list[float]] = {n: [] for n in wanted}
    cpu: dict[str, list[float]] = {n: [] for n in wanted}
    for _ in range(rounds):
        for name, (person, path) in wanted.items():
            started, started_cpu = time.perf_counter(), time.process_time()
            for _ in range(requests):
                call(application, path, who[person])
            wall[name].append((time.perf_counter() - started) / requests * 1000)
            cpu[name].append((time.process_time() - started_cpu) / requests * 1000)
    for name in wanted:
        print(
            f"{name:<12} {statistics.median(wall[name]):7.1f} ms wall  {statistics.median(cpu[name]):7.1f} ms CPU"
            f"  (rounds, wall: {', '.join(f'{r:.1f}' for r in wall[name])})"
        )


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    import common

    os.environ["CC_VAR_DIR"] = common.server_env()["CC_VAR_DIR"]
    common.collect_static(os.environ["DATABASE_URL"])  # production settings serve pages with the manifest only
    profile_api.django_setup(args.root)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from challenge_cards.models import ChallengeCard
    from config.wsgi import application

    who = sessions()
    cards = ChallengeCard.objects.count()
    names = args.only or ([args.profile] if args.profile else list(PATHS))
    wanted = {n: PATHS[n] for n in names if not n.startswith("cards_") or int(n[6:]) * 25 <= cards}
    for name, (person, path) in wanted.items():
        status, body = call(application, path, who[person])
        if not status.startswith("200"):
            sys.exit(f"{name}: {status}: {body[:300]!r}")
        with CaptureQueriesContext(connection) as captured:
            call(application, path, who[person])
        print(f"{name}: {path} -> {status}, {len(body) // 1024} KB, {len(captured)} SQL statements")
    if args.profile:
        person, path = PATHS[args.profile]
        profile_api.profile_calls(lambda: call(application, path, who[person]), args.requests, args.top, warm=10)
    else:
        timed(application, wanted, who, args.requests, args.rounds)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
