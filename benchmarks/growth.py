"""The API's ``?search=`` at large and at 3x large data, side by side: does its cost grow with the data?

    .venv/bin/python benchmarks/growth.py [--requests 40] [--workers 2]

pages.py measures each size in its own run, minutes apart, so a swing of the machine between the two
runs reads as growth (one of docs/performance.md's runs had every path at 3x large slower, the card
list, which does not grow, by 1.77x). Here one gunicorn server per size (the app, production settings,
--workers sync workers) runs at the same time, and each round asks, one request at a time, the search
(on pages.SEARCH_WORD, a word of a real card title: the same few cards match at every size) and the API
card list (50 a page, the yardstick: its first page reads an index) of each size in turn, so a swing
hits both sizes alike. It prints each path's p50/p95 per size and x3/large, and writes
var/bench/growth.json; benchmarks/suite.py judges the search by it.

Each size's OMB admin token is made by a child process on that size's database (`--token SIZE`).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import card_list
import common
import datasets
import pages

GROWN = ("large", "x3")
PATHS = {
    "API card list (OMB admin, 50/page)": f"/api/v1/cards/?page_size={pages.API_PAGE_SIZE}",
    f"API ?search={pages.SEARCH_WORD}": f"/api/v1/cards/?search={pages.SEARCH_WORD}&page_size=50",
}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=40, help="rounds: requests per path and size (default 40)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers per server (default 2)")
    parser.add_argument("--token", choices=GROWN, help=argparse.SUPPRESS)  # the child: print a token
    return parser.parse_args(argv)


def token_for(size: str) -> str:
    """An OMB admin API token on `size`'s database, made by a child process (Django serves one database)."""
    done = subprocess.run(
        [sys.executable, __file__, "--token", size], check=True, capture_output=True, text=True, cwd=common.BASE_DIR
    )
    return done.stdout.strip().splitlines()[-1]


def measure(ports: dict[str, int], tokens: dict[str, str], rounds: int) -> dict:
    def ask(size: str, path: str) -> tuple[int, float]:
        headers = pages.headers_for("api", {"api": tokens[size]})
        status, _headers, _body, ms = common.request(ports[size], "GET", path, headers)
        return status, ms

    timings: dict[str, dict[str, list[float]]] = {name: {size: [] for size in GROWN} for name in PATHS}
    errors: dict[str, int] = dict.fromkeys(PATHS, 0)
    for size in GROWN:  # warm every worker and cache
        for path in PATHS.values():
            for _ in range(4):
                ask(size, path)
    for _round in range(rounds):
        for name, path in PATHS.items():
            for size in GROWN:
                status, ms = ask(size, path)
                timings[name][size].append(ms)
                errors[name] += status != 200
    results = {}
    for name, by_size in timings.items():
        found = {size: common.summary(values) for size, values in by_size.items()}
        large, x3 = found["large"]["p50_ms"], found["x3"]["p50_ms"]
        results[name] = {**found, "x3_over_large": round(x3 / large, 2) if large and x3 else None}
        results[name]["errors"] = errors[name]
    return results


def run(args: argparse.Namespace) -> dict:
    urls = {size: datasets.ensure(size, quiet=True) for size in GROWN}
    common.collect_static(urls["large"])
    tokens = {size: token_for(size) for size in GROWN}
    ports = {size: card_list.free_port() for size in GROWN}
    servers = []
    try:
        for size in GROWN:
            servers.append(
                card_list.start_gunicorn(
                    "config.wsgi:application", ports[size], args.workers, urls[size], extra_env=common.server_env()
                )
            )
        results = measure(ports, tokens, args.requests)
    finally:
        common.stop(servers)
    report = {
        "machine": card_list.machine(),
        "load_average": common.load_average(),
        "requests_per_path_and_size": args.requests,
        "paths": results,
    }
    common.write_json("growth.json", report)
    return report


def print_report(report: dict) -> None:
    print("\nGrowth, large and x3 served side by side (rounds alternate the sizes)")
    print(f"Load average: {report['load_average']}")
    print(f"  {'path':<36} {'large p50/p95 ms':>17} {'x3 p50/p95 ms':>15} {'x3/large':>9} {'errors':>6}")
    for name, r in report["paths"].items():
        large, x3 = r["large"], r["x3"]
        print(
            f"  {name:<36} {f'{large["p50_ms"]}/{large["p95_ms"]}':>17} {f'{x3["p50_ms"]}/{x3["p95_ms"]}':>15} "
            f"{r['x3_over_large']!s:>9} {r['errors']:>6}"
        )


def main() -> int:
    args = parse_args()
    if args.token:
        card_list.django_setup(datasets.size_url(args.token))  # the parent made it ready
        print(card_list.bench_token())
        return 0
    print_report(run(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
