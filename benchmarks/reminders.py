"""Send N reminder e-mails through a real Celery worker to a local SMTP sink; print throughput, duplicates, losses.

    .venv/bin/python benchmarks/reminders.py --count 10000 [--concurrency 2] [--pool prefork]

Database: with DATABASE_URL set (PostgreSQL), a throwaway database `cc_bench_reminders` on the
same server, dropped at the end; otherwise a temporary SQLite file (use --concurrency 1 there).
Broker: CELERY_BROKER_URL (Redis) when set, otherwise a temporary filesystem broker.
It runs the real scan (`services.reminders_scan`, as beat does), which writes one row per
reminder and queues one task per batch of rows after commit (notifications.tasks.BATCH_SIZE); the
worker claims each batch, builds it from data read once for the batch and sends it on one SMTP
session, then records it (notifications.services.notifications_deliver).

In the same run, after the worker (--no-baseline to skip), the same reminders again, as baselines:

- read + build + send + record in one process: the same rows put back to pending, then read in
  batches of the app's batch size (locked), each batch's messages built by the app's own
  notifications.emails.Reads (the batch's data read once, as the worker does), all of a batch sent
  over one SMTP session, the batch marked sent in one UPDATE, one transaction per batch; the sink
  must receive the same Message-IDs, once each;
- plain SMTP: the messages the baseline built, sent again over one smtplib session, nothing else.

Also counts the SQL statements of one batch (notifications.services.notifications_deliver, what
the task calls) in-process, and per message. Writes the figures to --json (default
var/bench/reminders.json).
"""

from __future__ import annotations

import argparse
import datetime
import email.policy
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))
BENCH_DB = "cc_bench_reminders"
PER_AGENCY = 100  # one deputy secretary and 99 delegates per agency


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=10_000, help="reminder e-mails to send (default 10000)")
    parser.add_argument("--concurrency", type=int, default=2, help="worker processes (default 2)")
    parser.add_argument("--pool", default="prefork", choices=["prefork", "solo", "threads"])
    parser.add_argument("--timeout", type=float, default=1800, help="give up after this many seconds")
    parser.add_argument("--database", default=BENCH_DB, help=f"throwaway database name (default {BENCH_DB})")
    parser.add_argument("--no-baseline", dest="baseline", action="store_false", help="the worker only")
    parser.add_argument("--json", default=str(BASE_DIR / "var" / "bench" / "reminders.json"))
    return parser.parse_args()


def prepare_database(tmp: Path, name: str = BENCH_DB) -> tuple[str, callable]:
    """A fresh database URL for the run and a function that removes it afterwards."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        path = tmp / "bench.sqlite3"
        return f"sqlite:///{path}", lambda: None
    import psycopg

    parts = urlsplit(url)
    admin_url = urlunsplit(parts._replace(path="/postgres"))

    def run(sql: str) -> None:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(sql)

    run(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    run(f"CREATE DATABASE {name}")
    return urlunsplit(parts._replace(path=f"/{name}")), lambda: run(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def seed(count: int):
    """Agencies of 100 people (deputy + 99 delegates), each with one open card, and the next meeting."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password

    from agencies.models import Agency, Membership, Role
    from challenge_cards.models import EASTERN, ChallengeCard, Meeting, PmaPriority

    User = get_user_model()
    agencies_needed = -(-count // PER_AGENCY)
    agencies = Agency.objects.bulk_create(
        [Agency(name=f"Benchmark Agency {n}", abbreviation=f"BA{n}") for n in range(agencies_needed)]
    )
    password = make_password(None)
    users = User.objects.bulk_create(
        [User(username=f"bench{n}", email=f"bench{n}@example.gov", password=password) for n in range(count)],
        batch_size=2000,
    )
    Membership.objects.bulk_create(
        [
            Membership(
                user=user,
                agency=agencies[n // PER_AGENCY],
                role=Role.DEPUTY_SECRETARY if n % PER_AGENCY == 0 else Role.DELEGATE,
            )
            for n, user in enumerate(users)
        ],
        batch_size=2000,
    )
    meeting_at = datetime.datetime(2030, 12, 3, 10, 0, tzinfo=EASTERN)
    last = Meeting.objects.create(starts_at=meeting_at - datetime.timedelta(days=28), status=Meeting.Status.HELD)
    meeting = Meeting.objects.create(starts_at=meeting_at)
    priority = PmaPriority.objects.create(number=1, title="Workforce", short_title="Workforce")
    ChallengeCard.objects.bulk_create(
        [
            ChallengeCard(
                meeting=last,
                agency=agency,
                issued_at=last.starts_at,
                title="Run a pooled hiring action",
                ask="Join an OPM pooled hiring action and report the hires.",
                priority=priority,
                due_date=meeting_at.date(),
            )
            for agency in agencies
        ]
    )
    return meeting


def main() -> int:
    args = parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="cc-bench-"))
    database_url, drop_database = prepare_database(tmp, args.database)
    broker_url = os.environ.get("CELERY_BROKER_URL") or None
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings.test",
            "DATABASE_URL": database_url,
            "CC_VAR_DIR": str(tmp / "var"),
        }
    )
    import django

    django.setup()
    from django.core.management import call_command
    from django.db.models import Count

    from config.celery import app as celery_app
    from notifications import rules, services
    from notifications.models import Notification
    from notifications.testing import SmtpSink, Worker, filesystem_broker, point_app_at, wait_until, worker_env

    if broker_url:
        import redis

        redis.Redis.from_url(broker_url).delete("celery", "unacked", "unacked_index")
        point_app_at(celery_app, broker_url, {"visibility_timeout": 3600})
    else:
        url, options = filesystem_broker(tmp / "var")
        point_app_at(celery_app, url, options)

    print(f"Database: {database_url.split('@')[-1]}   broker: {broker_url or 'filesystem (temporary)'}")
    call_command("migrate", verbosity=0, interactive=False)
    started = time.perf_counter()
    meeting = seed(args.count)
    print(f"Seeded {args.count} recipients in {time.perf_counter() - started:.1f} s")

    sink = SmtpSink().start()
    env = worker_env(
        database_url=database_url,
        smtp_port=sink.port,
        broker_url=broker_url,
        var_dir=tmp / "var",
        extra={"DATABASE_CONN_MAX_AGE": "600"},
    )
    worker = Worker(env, tmp / "worker.log", pool=args.pool, concurrency=args.concurrency).start()
    try:
        send_day = rules.business_days_before(rules.meeting_date(meeting), 7)
        scan_at = datetime.datetime.combine(send_day, datetime.time(9), tzinfo=meeting.starts_at_eastern.tzinfo)
        t0, cpu0, worker_cpu0 = time.perf_counter(), time.process_time(), worker.cpu_seconds()
        result = services.reminders_scan(now=scan_at)
        t_queued = time.perf_counter()
        expected = len(result.created)
        last_seen, last_change = -1, time.perf_counter()
        while time.perf_counter() - t0 < args.timeout:
            seen = sink.count()
            if seen >= expected:
                break
            if seen != last_seen:
                last_seen, last_change = seen, time.perf_counter()
            elif time.perf_counter() - last_change > 120:
                print("No progress for 120 s; stopping.")
                break
            time.sleep(0.2)
        t_done = time.perf_counter()
        worker_cpu, own_cpu = worker.cpu_seconds() - worker_cpu0, time.process_time() - cpu0
        wait_until(lambda: not Notification.objects.filter(status=Notification.Status.PENDING).exists(), 30)
        time.sleep(3)  # let any late duplicate arrive before counting
        ids = sink.message_ids()
        duplicates = sum(n - 1 for n in ids.values())
        expected_ids = {f"<notification-{pk}.meeting_reminder@challenge-cards.omb.gov>" for pk in result.created}
        losses = len(expected_ids - set(ids))
        statuses = dict(Notification.objects.values("status").annotate(n=Count("pk")).values_list("status", "n"))
        elapsed = t_done - t0
        print(f"Reminders queued by the scan: {expected} in {t_queued - t0:.1f} s")
        print(f"E-mails received by the SMTP sink: {sum(ids.values())} in {elapsed:.1f} s")
        rate = sum(ids.values()) / elapsed
        print(f"Throughput: {rate:.0f} e-mails/s (worker pool {args.pool}, concurrency {args.concurrency})")
        print(f"Duplicates: {duplicates}")
        print(f"Losses: {losses}")
        print(f"Rows by status: {statuses}")
        per_message = 1000 / max(sum(ids.values()), 1)
        print(
            f"CPU: the worker {worker_cpu:.1f} s ({worker_cpu * per_message:.1f} ms a message, its pool and main"
            f" process); this process (the scan, the SMTP sink) {own_cpu:.1f} s ({own_cpu * per_message:.1f} ms)"
        )
        ok = expected == args.count and duplicates == 0 and losses == 0
        worker.stop()
        report = {
            "count": args.count,
            "pool": args.pool,
            "concurrency": args.concurrency,
            "broker": "redis" if broker_url else "filesystem",
            "worker": {
                "queued": expected,
                "received": sum(ids.values()),
                "seconds": round(elapsed, 1),
                "per_second": round(rate, 1),
                "duplicates": duplicates,
                "lost": losses,
                "statuses": statuses,
                "worker_cpu_seconds": round(worker_cpu, 2),
                "own_cpu_seconds": round(own_cpu, 2),
            },
        }
        if args.baseline:
            report.update(baselines(result.created, expected_ids))
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(report, indent=2))
    finally:
        worker.stop()
        sink.stop()
        from django.db import connections

        connections.close_all()
        drop_database()
    return 0 if ok else 1


def _pending_again(ids: list[int]) -> None:
    from notifications.models import Notification

    Notification.objects.filter(pk__in=ids).update(
        status=Notification.Status.PENDING, delivered_at=None, attempts=0, last_error="", claimed_at=None
    )


def batch_statements(ids: list[int]) -> int:
    """SQL statements of one batch as the task delivers it (the in-process mailer: no network)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from notifications.services import delivery

    with CaptureQueriesContext(connection) as captured:
        delivery.notifications_deliver(ids=ids)
    return len(captured)


def sink_mailers(port: int) -> dict:
    return {
        "default": {"BACKEND": "core.mail.SMTPBackend", "OPTIONS": {"host": "127.0.0.1", "port": port, "timeout": 30}}
    }


def one_process(ids: list[int], port: int, size: int) -> tuple[float, list[tuple[str, list[str], bytes]]]:
    """Read + build + send + record: batches locked and read, built by the app, sent on one SMTP session."""
    from django.core.mail import mailers
    from django.db import transaction
    from django.db.models import F
    from django.test.utils import override_settings
    from django.utils import timezone

    from notifications import emails
    from notifications.models import Notification

    with override_settings(MAILERS=sink_mailers(port)):
        smtp = mailers.default  # the app's SMTP backend (core.mail.SMTPBackend), as its settings make it
    sent: list[tuple[str, list[str], bytes]] = []
    started = time.perf_counter()
    smtp.open()
    for start in range(0, len(ids), size):
        with transaction.atomic():
            rows = list(
                Notification.objects.select_for_update(of=("self",))
                .select_related("recipient", "meeting", "card__agency", "agency", "action")
                .filter(pk__in=ids[start : start + size], status=Notification.Status.PENDING)
                .order_by("pk")
            )
            reads = emails.Reads(rows)
            messages = [reads.build(row) for row in rows if not reads.reason_not_to_send(row)]
            if smtp.send_messages(messages) != len(messages):
                raise RuntimeError("The sink refused messages")
            Notification.objects.filter(pk__in=[row.pk for row in rows]).update(
                status=Notification.Status.SENT, delivered_at=timezone.now(), attempts=F("attempts") + 1
            )
        sent.extend((m.from_email, m.recipients(), m.message(policy=email.policy.SMTP).as_bytes()) for m in messages)
    smtp.close()
    return time.perf_counter() - started, sent


def plain_smtp(messages: list[tuple[str, list[str], bytes]], port: int) -> float:
    import smtplib

    started = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", port) as smtp:
        for sender, recipients, data in messages:
            smtp.sendmail(sender, recipients, data)
    return time.perf_counter() - started


def baselines(ids: list[int], expected_ids: set[str]) -> dict:
    from django.test.utils import override_settings

    from notifications.tasks import BATCH_SIZE
    from notifications.testing import SmtpSink

    ids = sorted(ids)
    batch = ids[:BATCH_SIZE]
    # The worker's mailer: SMTP to a sink (core.mail.SMTPBackend). The first batch opens the session.
    with SmtpSink() as sink, override_settings(MAILERS=sink_mailers(sink.port)):
        _pending_again(batch)
        batch_statements(batch)
        _pending_again(batch)
        statements = batch_statements(batch)
    _pending_again(ids)
    with SmtpSink() as sink:
        seconds, messages = one_process(ids, sink.port, BATCH_SIZE)
        received = sink.message_ids()
    same = set(received) == expected_ids and all(n == 1 for n in received.values())
    with SmtpSink() as sink:
        smtp_seconds = plain_smtp(messages, sink.port)
        smtp_received = sink.count()
    size = sum(len(data) for _, _, data in messages) / max(len(messages), 1)
    print(f"Baseline, read + build + send + record in one process: {len(messages) / seconds:.0f} e-mails/s", end="")
    print(f" ({len(messages)} in {seconds:.1f} s; the same Message-IDs, once each: {same})")
    print(
        f"Baseline, plain SMTP: {smtp_received / smtp_seconds:.0f} e-mails/s ({smtp_received} in {smtp_seconds:.1f} s;"
        f" {size / 1024:.0f} KB a message)"
    )
    per_message = round(statements / len(batch), 2)
    print(f"SQL statements of one batch of {len(batch)} (notifications_deliver, in-process): {statements}", end="")
    print(f" ({per_message} a message)")
    return {
        "deliver_statements": per_message,
        "batch_statements": statements,
        "batch_size": len(batch),
        "one_process": {
            "sent": len(messages),
            "seconds": round(seconds, 1),
            "per_second": round(len(messages) / seconds, 1),
            "same_messages": same,
            "batch": BATCH_SIZE,
        },
        "plain_smtp": {
            "sent": smtp_received,
            "seconds": round(smtp_seconds, 1),
            "per_second": round(smtp_received / smtp_seconds, 1),
            "bytes_per_message": round(size),
        },
    }


if __name__ == "__main__":
    sys.exit(main())
