"""The reminder e-mail's per-message CPU in-process: a batch built by emails.Reads and serialised, no worker.

    DATABASE_URL=postgres://... CELERY_BROKER_URL=redis://... \\
        .venv/bin/python benchmarks/profile_reminders.py [--count 1000] [--rounds 3] [--profile]

The same data as benchmarks/reminders.py (its seed and the real scan, in a throwaway database, dropped at
the end; the scan's tasks are queued on CELERY_BROKER_URL and removed from it). Each round reads the rows in
batches of the app's batch size as the worker claims them, builds every message with the app's own
emails.Reads and serialises it to the bytes the SMTP backend sends (policy SMTP), without sending. It prints
this process's CPU time per message (median round; steadier than wall time on a loaded machine). Sending
is left out: smtplib's cost is the plain-SMTP baseline's. `--profile` runs one round under cProfile and
prints the top functions by cumulative and own time. `--root DIR` runs another checkout's code (an A/B
against a worktree at main).
"""

from __future__ import annotations

import argparse
import cProfile
import email.policy
import io
import os
import pstats
import statistics
import sys
import tempfile
import time
from pathlib import Path


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", default=str(Path(__file__).resolve().parent.parent), help="the code to run")
    parser.add_argument("--count", type=int, default=1000, help="reminders (default 1000)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds over every batch (default 3)")
    parser.add_argument("--database", default="cc_bench_profile_reminders", help="throwaway database name")
    parser.add_argument("--profile", action="store_true", help="one round under cProfile instead of timing")
    parser.add_argument("--top", type=int, default=40, help="functions to print when profiling")
    return parser.parse_args()


def one_round(ids: list[int], size: int) -> tuple[float, int, int]:
    """Every batch read, built and serialised; returns (CPU seconds, messages, bytes)."""
    from notifications import emails
    from notifications.models import Notification

    cpu, messages, size_bytes = 0.0, 0, 0
    for start in range(0, len(ids), size):
        started = time.process_time()
        rows = list(
            Notification.objects.select_related("recipient", "meeting", "card__agency", "agency", "action")
            .filter(pk__in=ids[start : start + size])
            .order_by("pk")
        )
        reads = emails.Reads(rows)
        for row in rows:
            if reads.reason_not_to_send(row):
                continue
            message = reads.build(row)
            size_bytes += len(message.message(policy=email.policy.SMTP).as_bytes())
            messages += 1
        cpu += time.process_time() - started
    return cpu, messages, size_bytes


def main() -> int:
    args = parse_args()
    sys.path.insert(0, args.root)
    os.chdir(args.root)
    sys.path.insert(1, str(Path(__file__).resolve().parent))
    import reminders as bench  # benchmarks/reminders.py: the same database and data

    tmp = Path(tempfile.mkdtemp(prefix="cc-profile-"))
    database_url, drop_database = bench.prepare_database(tmp, args.database)
    broker_url = os.environ.get("CELERY_BROKER_URL", "")
    if not broker_url.startswith("redis://"):
        sys.exit("Set CELERY_BROKER_URL to a Redis database of your own: the scan queues its tasks there.")
    os.environ.update(
        {"DJANGO_SETTINGS_MODULE": "config.settings.test", "DATABASE_URL": database_url, "CC_VAR_DIR": str(tmp)}
    )
    import django

    django.setup()
    import datetime

    import redis
    from django.core.management import call_command
    from django.db import connections

    from config.celery import app as celery_app
    from notifications import rules, services
    from notifications.tasks import BATCH_SIZE
    from notifications.testing import point_app_at

    try:
        point_app_at(celery_app, broker_url, {"visibility_timeout": 3600})
        call_command("migrate", verbosity=0, interactive=False)
        meeting = bench.seed(args.count)
        send_day = rules.business_days_before(rules.meeting_date(meeting), 7)
        scan_at = datetime.datetime.combine(send_day, datetime.time(9), tzinfo=meeting.starts_at_eastern.tzinfo)
        ids = sorted(services.reminders_scan(now=scan_at).created)
        redis.Redis.from_url(broker_url).delete("celery")
        one_round(ids[:BATCH_SIZE], BATCH_SIZE)  # warm: templates, imports
        if args.profile:
            profiler = cProfile.Profile(time.process_time)
            profiler.enable()
            cpu, messages, size = one_round(ids, BATCH_SIZE)
            profiler.disable()
            for order in ("cumulative", "tottime"):
                out = io.StringIO()
                pstats.Stats(profiler, stream=out).sort_stats(order).print_stats(args.top)
                print(out.getvalue())
            return 0
        rounds = [one_round(ids, BATCH_SIZE) for _ in range(args.rounds)]
        cpu = statistics.median(r[0] for r in rounds)
        messages, size = rounds[0][1], rounds[0][2]
        print(f"{messages} messages in batches of {BATCH_SIZE}, {size / max(messages, 1) / 1024:.1f} KB each")
        print(
            f"CPU per message (read, build, serialise; median of {args.rounds} rounds): {cpu / messages * 1000:.2f} ms"
        )
        print("rounds (ms/message): " + ", ".join(f"{r[0] / r[1] * 1000:.2f}" for r in rounds))
    finally:
        connections.close_all()
        drop_database()
    return 0


if __name__ == "__main__":
    sys.exit(main())
