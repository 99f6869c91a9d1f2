"""The benchmark databases at three sizes, built once with seed_demo and reused.

    .venv/bin/python benchmarks/datasets.py [small large x3] [--rebuild]

- ``small``: ``seed_demo`` (the demo: 24 CFO Act agencies, ~90 cards), database ``cc_bench_suite_small``;
- ``large``: ``seed_demo --scale large`` (500 agencies, ~30,000 cards, ~150,000 actions), ``cc_bench_suite_large``;
- ``x3``: three times large, ``seed_demo --scale large --agencies 1500`` (the command's own benchmark
  size option: 1,500 agencies, ~90,000 cards, ~450,000 actions), ``cc_bench_suite_x3``.

Each database is created on the server of DATABASE_URL, migrated on every use, seeded when it holds
fewer cards than its size needs, and VACUUMed and ANALYZEd as autovacuum would after the bulk load (the
planner's statistics; the visibility map, without which an index-only scan reads the table's rows too).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

BASE_DIR = Path(__file__).resolve().parent.parent
PREFIX = "cc_bench_suite_"
# name -> (seed_demo arguments, the fewest cards a finished seed holds)
SIZES: dict[str, tuple[list[str], int]] = {
    "small": ([], 1),
    "large": (["--scale", "large"], 30_000),
    "x3": (["--scale", "large", "--agencies", "1500"], 90_000),
}


def server_url() -> str:
    base = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    if not base.startswith(("postgres://", "postgresql://")):
        sys.exit("The benchmarks need PostgreSQL: set DATABASE_URL to a postgres:// URL (any database name).")
    return base


def size_url(size: str) -> str:
    return urlunsplit(urlsplit(server_url())._replace(path=f"/{PREFIX}{size}"))


def ensure(size: str, rebuild: bool = False, quiet: bool = False) -> str:
    """The URL of the database for ``size``, created, migrated, seeded and analysed as needed.

    With BENCH_DATASETS_READY=1 in the environment (benchmarks/suite.py sets it once it has prepared
    every size) only the URL: the parts of one run do not migrate and analyse again.
    """
    import psycopg

    if os.environ.get("BENCH_DATASETS_READY") == "1" and not rebuild:
        return size_url(size)

    seed_args, min_cards = SIZES[size]
    url = size_url(size)
    name = f"{PREFIX}{size}"
    admin_url = urlunsplit(urlsplit(url)._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as conn:
        if rebuild:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f"CREATE DATABASE {name}")
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "config.settings.local"}
    manage = [sys.executable, str(BASE_DIR / "manage.py")]
    subprocess.run([*manage, "migrate", "-v0"], env=env, check=True, cwd=BASE_DIR)
    with psycopg.connect(url) as conn:
        cards = conn.execute("SELECT count(*) FROM challenge_cards_challengecard").fetchone()[0]
    if cards < min_cards:
        started = time.monotonic()
        if not quiet:
            print(
                f"==> Seeding {name}: seed_demo {' '.join(seed_args)} (once; minutes for the large sizes)", flush=True
            )
        subprocess.run([*manage, "seed_demo", *seed_args, "-v0"], env=env, check=True, cwd=BASE_DIR)
        if not quiet:
            print(f"    {name} seeded in {time.monotonic() - started:.0f} s", flush=True)
    with psycopg.connect(url, autocommit=True) as conn:
        # What autovacuum does after a bulk load in a deployment (PostgreSQL 13+ vacuums a table after
        # inserts too): statistics, and the visibility map that lets an index-only scan skip the table.
        conn.execute("VACUUM (ANALYZE)")
    return url


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    # No default list here: argparse checks a list default against `choices` as one value and refuses it.
    parser.add_argument("sizes", nargs="*", choices=list(SIZES), help="default: every size")
    parser.add_argument("--rebuild", action="store_true", help="drop and seed again")
    args = parser.parse_args()
    for size in args.sizes or list(SIZES):
        print(ensure(size, args.rebuild))
    return 0


if __name__ == "__main__":
    sys.exit(main())
