"""Pages and API reads with no raw baseline, at one data size: p50/p95, SQL statements, ratio to the card list.

    .venv/bin/python benchmarks/pages.py [--size large] [--requests 20] [--workers 2]

On the database of --size (benchmarks/datasets.py: small, large, x3), one gunicorn server (the app,
production settings, 2 sync workers) answers, one request at a time, --requests rounds; each round
asks every path once (so the machine's swings hit every path alike):

- the API card list (OMB admin token, 50 a page): the yardstick every other path is divided by;
- the review board, home and scorecard pages as an OMB admin, the home page as a deputy secretary;
- the card list page (25 a page) at page 1, 500 and 1,500, and the API card list at page 500 and
  1,500 (50 a page) — a deep page only where the data has that many pages. A deep page is measured as
  it is reached by walking the list: the page's Next link on the page before it (the HTML page) or its
  `next` link (the API), a cursor, taken once before the timing (in-process); the same pages asked for
  by number (`?page=N`, a jump, or what v1 clients may still send: OFFSET) are measured beside them;
- the API's ``?search=`` on a word of a real card title (the same few cards match at every size).

The sessions are made in-process (force_login) and read by gunicorn from Redis (BENCH_REDIS_URL,
db 12 by default) and the database. The SQL statements of each path are counted in-process on the
same data (Django's CaptureQueriesContext, Redis on, as served). Writes var/bench/pages_<size>.json.
benchmarks/suite.py runs it for every size and compares the sizes (growth from large to x3).
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import card_list
import common
import datasets

SEARCH_WORD = "hiring"
LIST_PAGE_SIZE = 25  # challenge_cards.views._common.PAGE_SIZE
API_PAGE_SIZE = 50


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", default="large", choices=list(datasets.SIZES))
    parser.add_argument("--requests", type=int, default=20, help="requests per path (default 20)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (default 2)")
    return parser.parse_args(argv)


def paths(
    cards: int, cursor_of: Callable[[str], str] | None = None, next_link_of: Callable[[str], str] | None = None
) -> list[tuple[str, str, str]]:
    """(name, who, path): who is 'api' (OMB admin token), 'omb' or 'deputy' (browser sessions).

    `cursor_of(path)` gives the path of the `next` link of the API page at `path` (see cursor_path), and
    `next_link_of(path)` that of the card list page at `path` (see page_link_path); without them the deep
    pages are asked for by number only."""
    found = [
        ("API card list (OMB admin, 50/page)", "api", f"/api/v1/cards/?page_size={API_PAGE_SIZE}"),
        ("review board (OMB)", "omb", "/review/"),
        ("home (OMB)", "omb", "/"),
        ("home (deputy)", "deputy", "/"),
        ("scorecard (OMB)", "omb", "/scorecard/"),
        ("card list page, page 1", "omb", "/cards/"),
    ]
    for number in (500, 1500):
        if number <= math.ceil(cards / LIST_PAGE_SIZE):
            by_number = f"/cards/?page={number}"
            if next_link_of is not None:
                found.append((f"card list page, page {number}", "omb", next_link_of(f"/cards/?page={number - 1}")))
                found.append((f"card list page, page {number} by number", "omb", by_number))
            else:
                found.append((f"card list page, page {number}", "omb", by_number))
    for number in (500, 1500):
        if number <= math.ceil(cards / API_PAGE_SIZE):
            by_number = f"/api/v1/cards/?page={number}&page_size={API_PAGE_SIZE}"
            if cursor_of is not None:
                before = f"/api/v1/cards/?page={number - 1}&page_size={API_PAGE_SIZE}"
                found.append((f"API card list, page {number}", "api", cursor_of(before)))
                found.append((f"API card list, page {number} by number", "api", by_number))
            else:
                found.append((f"API card list, page {number}", "api", by_number))
    found.append((f"API ?search={SEARCH_WORD}", "api", f"/api/v1/cards/?search={SEARCH_WORD}&page_size=50"))
    return found


def cursor_path(token: str) -> Callable[[str], str]:
    """A function giving, for an API page's path, the path of its `next` link (a cursor): read once,
    in-process, as the OMB admin, before anything is timed."""
    from urllib.parse import urlsplit

    from django.test import Client

    client = Client(HTTP_AUTHORIZATION=f"Bearer {token}", HTTP_ACCEPT="application/json")

    def cursor_of(path: str) -> str:
        response = client.get(path)
        if response.status_code != 200 or not response.json().get("next"):
            raise SystemExit(f"{path}: {response.status_code}, no next link to measure")
        link = urlsplit(response.json()["next"])
        return f"{link.path}?{link.query}"

    return cursor_of


def page_link_path(session: str) -> Callable[[str], str]:
    """A function giving, for a card list page's path, the path of its Next link (a cursor): read once,
    in-process, in the OMB admin's session, before anything is timed."""
    import re
    from html import unescape

    from django.test import Client

    client = Client()
    client.cookies["sessionid"] = session

    def next_link_of(path: str) -> str:
        response = client.get(path)
        link = re.search(r'href="(\?[^"]*)" class="usa-pagination__link usa-pagination__next-page"', response.text)
        if response.status_code != 200 or link is None:
            raise SystemExit(f"{path}: {response.status_code}, no Next link to measure")
        return f"{path.split('?')[0]}{unescape(link[1])}"

    return next_link_of


def people() -> dict:
    """Session cookies for the OMB admin and a deputy secretary, the OMB admin's API token."""
    import logging

    from django.contrib.auth import get_user_model
    from django.test import Client

    from challenge_cards import demo

    logging.getLogger("axes").setLevel(logging.WARNING)
    users = get_user_model().objects
    deputy = (
        users.filter(username="deputy.usda").first()
        or users.filter(memberships__role="deputy_secretary", memberships__ended_on__isnull=True).order_by("id").first()
    )
    found = {"api": card_list.bench_token(), "deputy_name": deputy.username}
    for who, user in (("omb", users.get(username=demo.ADMIN_USERNAME)), ("deputy", deputy)):
        client = Client()
        client.force_login(user)
        second_factor_done(client)
        found[who] = client.cookies["sessionid"].value
    return found


def second_factor_done(client) -> None:
    """The session of someone who has used their second factor (OMB admins must: accounts.policy).

    force_login marks the session as waiting for a second factor where the sign-in policy asks for one;
    a person past that step has a session without the mark, and that is what the pages are measured for.
    """
    try:
        from accounts import policy
    except ImportError:  # before the sign-in policy existed
        return
    session = client.session
    if session.pop(policy.SECOND_FACTOR_PENDING, None) is not None:
        session.save()


def headers_for(who: str, credentials: dict) -> dict:
    if who == "api":
        return {
            "Authorization": f"Bearer {credentials['api']}",
            "Accept": "application/json",
            "X-Forwarded-Proto": "https",
        }
    return {"Cookie": f"sessionid={credentials[who]}", "X-Forwarded-Proto": "https"}


def statements(found: list[tuple[str, str, str]], credentials: dict) -> dict[str, int]:
    """SQL statements of each path, in-process, the second request of each (the first warms)."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    clients = {"api": Client(HTTP_AUTHORIZATION=f"Bearer {credentials['api']}")}
    for who in ("omb", "deputy"):
        clients[who] = Client()
        clients[who].cookies["sessionid"] = credentials[who]
    counts = {}
    for name, who, path in found:
        clients[who].get(path)
        with CaptureQueriesContext(connection) as captured:
            response = clients[who].get(path)
        counts[name] = len(captured) if response.status_code == 200 else None
    return counts


def measure(port: int, found: list, credentials: dict, rounds: int) -> dict:
    timings: dict[str, list[float]] = {name: [] for name, _, _ in found}
    sizes: dict[str, int] = {}
    errors: dict[str, int] = dict.fromkeys(timings, 0)
    for _name, who, path in found:  # warm every worker and cache
        for _ in range(2):
            common.request(port, "GET", path, headers_for(who, credentials))
    for _round in range(rounds):
        for name, who, path in found:
            status, _headers, body, ms = common.request(port, "GET", path, headers_for(who, credentials))
            timings[name].append(ms)
            sizes[name] = len(body)
            errors[name] += status != 200
    return {
        name: {**common.summary(v), "kb": round(sizes[name] / 1024), "errors": errors[name]}
        for name, v in timings.items()
    }


def run(args: argparse.Namespace) -> dict:
    url = datasets.ensure(args.size)
    card_list.django_setup(url)
    data = card_list.data_sizes()
    credentials = people()
    found = paths(data["cards"], cursor_path(credentials["api"]), page_link_path(credentials["omb"]))
    counts = statements(found, credentials)
    from django.db import connections

    connections.close_all()
    common.collect_static(url)
    port = card_list.free_port()
    server = card_list.start_gunicorn("config.wsgi:application", port, args.workers, url, extra_env=common.server_env())
    try:
        results = measure(port, found, credentials, args.requests)
    finally:
        common.stop([server])
    yardstick = results[found[0][0]]["p50_ms"]
    for name, result in results.items():
        result["sql"] = counts[name]
        result["x_card_list_p50"] = round(result["p50_ms"] / yardstick, 2) if yardstick else None
    report = {
        "machine": card_list.machine(),
        "load_average": common.load_average(),
        "size": args.size,
        "data": data,
        "deputy": credentials["deputy_name"],
        "requests_per_path": args.requests,
        "paths": results,
    }
    common.write_json(f"pages_{args.size}.json", report)
    return report


def print_report(report: dict) -> None:
    data = report["data"]
    print(f"\nPages at {report['size']} data ({data['cards']:,} cards, {data['actions']:,} actions)")
    print(f"Load average: {report['load_average']}")
    print(f"  {'path':<36} {'p50 ms':>8} {'p95 ms':>8} {'x list':>7} {'SQL':>4} {'KB':>6} {'errors':>6}")
    for name, r in report["paths"].items():
        print(
            f"  {name:<36} {r['p50_ms']:>8} {r['p95_ms']:>8} {r['x_card_list_p50']:>7} {r['sql']!s:>4} "
            f"{r['kb']:>6} {r['errors']:>6}"
        )


def main() -> int:
    report = run(parse_args())
    print_report(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
