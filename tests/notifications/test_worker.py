"""A real `celery -A config worker` subprocess, a real SMTP server on localhost, and faults.

Broker: CELERY_BROKER_URL from the environment (Redis in CI); when unset, a temporary
filesystem broker, so `make test` works without Redis. Database: see the shared_db
fixture (PostgreSQL test database by URL, or a temporary SQLite file). Each worker start
costs a few seconds, so these tests are few and each checks several things.
"""

from __future__ import annotations

import datetime
import os
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone

from challenge_cards import services as card_services
from config.celery import app as celery_app
from notifications import emails, services
from notifications.models import Notification, NotificationSettings, Rule
from notifications.testing import SmtpSink, Worker, filesystem_broker, point_app_at, wait_until, worker_env
from tests import factories

from .conftest import at

# shared_db first (usefixtures runs before arguments), so every row the test makes lands in the shared database.
pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("shared_db")]


@dataclass
class Broker:
    url: str | None  # None: the filesystem broker under var_dir
    options: dict
    var_dir: Path

    @property
    def app_url(self) -> str:
        return self.url or "filesystem://"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _purge_redis(url: str) -> None:
    import redis

    client = redis.Redis.from_url(url)
    client.delete("celery", "unacked", "unacked_index")
    client.close()


@pytest.fixture
def broker(tmp_path):
    var_dir = tmp_path / "var"
    url = os.environ.get("CELERY_BROKER_URL") or None
    if url:
        options = {"visibility_timeout": 3600}
        _purge_redis(url)
    else:
        _, options = filesystem_broker(var_dir)
    chosen = Broker(url=url, options=options, var_dir=var_dir)
    point_app_at(celery_app, chosen.app_url, options)
    yield chosen
    point_app_at(celery_app, settings.CELERY_BROKER_URL, settings.CELERY_BROKER_TRANSPORT_OPTIONS)


# A short claim lease for the worker and this process (the sweeper), so a killed worker's e-mails come back soon.
LEASE_SECONDS = 6


@pytest.fixture
def workers(shared_db, broker, tmp_path, settings):
    """Start workers on the test's database and broker; all are stopped at the end."""
    settings.NOTIFICATIONS_CLAIM_LEASE_SECONDS = LEASE_SECONDS
    started: list[Worker] = []

    def start(sink: SmtpSink, broker_url: str | None = None) -> Worker:
        env = worker_env(
            database_url=shared_db,
            smtp_port=sink.port,
            broker_url=broker_url or broker.url,
            var_dir=broker.var_dir,
            extra={"NOTIFICATIONS_CLAIM_LEASE_SECONDS": str(LEASE_SECONDS)},
        )
        worker = Worker(env, tmp_path / "worker.log").start()
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()


def statuses() -> dict[str, str]:
    return dict(Notification.objects.values_list("recipient__username", "status"))


def all_done() -> bool:
    return not Notification.objects.filter(status=Notification.Status.PENDING).exists()


def test_a_real_worker_delivers_reminders_by_smtp_and_retries_a_refusal_then_marks_it_failed(council, workers):
    NotificationSettings.objects.update_or_create(pk=1, defaults={"email_max_attempts": 3})
    with SmtpSink(refuse={"delegate.treas@example.gov"}) as sink:
        workers(sink)
        result = services.reminders_scan(now=at("2026-11-19"))
        assert len(result.created) == 2
        assert wait_until(all_done, 60), statuses()
        assert statuses() == {"deputy.treas": Notification.Status.SENT, "delegate.treas": Notification.Status.FAILED}
        refused = Notification.objects.get(recipient__username="delegate.treas")
        assert refused.attempts == 3 and "Mailbox unavailable" in refused.last_error
        [message] = sink.messages
    card = council["card"]
    assert message["Subject"] == "PMC meeting, December 1, 2026: 1 card for TREAS to update"
    assert "deputy.treas@example.gov" in message["To"]
    deputy_reminder = Notification.objects.get(recipient__username="deputy.treas")
    assert message["Message-ID"] == f"<notification-{deputy_reminder.pk}.meeting_reminder@challenge-cards.omb.gov>"
    text = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    link = f"{settings.SITE_URL}/cards/{card.pk}/"
    assert link in text and f'href="{link}"' in html
    [ics] = [part for part in message.walk() if part.get_content_type() == "text/calendar"]
    body = ics.get_content()
    assert "BEGIN:VEVENT" in body and "SUMMARY:PMC meeting\\, December 1\\, 2026" in body
    assert "DTSTART:20261201T150000Z" in body


def test_a_worker_killed_between_acceptance_and_record_loses_nothing_and_a_copy_keeps_its_message_id(
    council, other_agency, workers
):
    """Eight reminders in four batches of two. The worker is killed while the mail server holds the fourth
    message: the third was accepted but not recorded, the fourth never accepted. Its claim holds both until
    the lease is over; then the sweeper queues them again. Every reminder arrives; the only copy is the
    accepted-but-unrecorded one, with the same Message-ID."""
    for n in range(6):
        factories.delegate_of(council["card"].agency, user__username=f"pio{n}.treas")
    with SmtpSink(hold_at=4, hold_seconds=3) as sink:
        first = workers(sink)
        created = services.reminders_scan(now=at("2026-11-19")).created
        assert len(created) == 8
        assert sink.held.wait(60), first.log()
        first.kill()  # SIGKILL while the mail server holds the fourth message's DATA
        killed_at = time.monotonic()
        assert wait_until(lambda: sink.count() == 3, 10)
        accepted = set(sink.message_ids())
        in_flight = Notification.objects.filter(status=Notification.Status.PENDING, claimed_at__isnull=False)
        unrecorded = {emails.message_id(n) for n in in_flight}
        assert len(unrecorded) == 2 and len(accepted & unrecorded) == 1
        claimed_at = in_flight.first().claimed_at
        workers(sink)
        # Beat's sweeper, every half second here: nothing claimed is queued again before the lease is over.
        while not all_done():
            assert time.monotonic() - killed_at < LEASE_SECONDS + 30, statuses()
            notes, _ = services.undelivered_sweep(older_than=0)
            if timezone.now() < claimed_at + datetime.timedelta(seconds=LEASE_SECONDS):
                assert not set(notes) & {n.pk for n in in_flight}
            time.sleep(0.5)
        time.sleep(1)  # a late copy would arrive now
        ids = sink.message_ids()
        by_notification: dict[str, set[str]] = {}
        for message in sink.messages:
            by_notification.setdefault(message[emails.NOTIFICATION_HEADER], set()).add(message["Message-ID"])
    assert set(Notification.objects.values_list("status", flat=True)) == {Notification.Status.SENT}
    assert set(ids) == {emails.message_id(n) for n in Notification.objects.filter(pk__in=created)}  # no loss
    copies = {message_id for message_id, count in ids.items() if count > 1}
    assert copies == accepted & unrecorded and ids[copies.pop()] == 2  # the one copy: accepted, not recorded
    assert all(len(message_ids) == 1 for message_ids in by_notification.values())  # a copy keeps its Message-ID
    assert sink.data_started == 10  # eight, the held one, the copy


def _start_redis(port: int, tmp_path: Path) -> subprocess.Popen:
    process = subprocess.Popen(
        [shutil.which("redis-server"), "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    assert wait_until(lambda: _accepts(port), 10)
    return process


def _accepts(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
        return True
    except OSError:
        return False


def test_a_card_issued_while_the_broker_is_down_is_delivered_once_it_is_back(
    council, admin_user, priority, broker, workers, tmp_path
):
    """With Redis: a second redis-server (never the machine's 6379) stopped and started again.
    Without: the filesystem broker's folder is unreachable for this process while the card is issued."""
    with SmtpSink() as sink:
        redis_process = None
        if broker.url and shutil.which("redis-server"):
            port = _free_port()
            redis_process = _start_redis(port, tmp_path)
            url = f"redis://127.0.0.1:{port}/0"
            point_app_at(celery_app, url, {"visibility_timeout": 3600})
            workers(sink, broker_url=url)
            redis_process.terminate()
            redis_process.wait(10)
        else:
            workers(sink)
            url = None
            down = {**broker.options, "data_folder_out": str(tmp_path / "unreachable" / "queue")}
            point_app_at(celery_app, broker.app_url, down)
        try:
            card_services.card_issue(
                actor=admin_user,
                meeting=council["meeting"],
                agencies=[council["card"].agency],
                title="Ramp up CX capacity",
                ask="Name a CX lead.",
                priority=priority,
            )  # commits; queueing fails and is logged
            issued = Notification.objects.filter(rule=Rule.CARD_ISSUED)
            assert issued.count() == 2 and not issued.exclude(status=Notification.Status.PENDING).exists()
            assert not wait_until(lambda: sink.count() > 0, 2)
            if redis_process is not None:
                redis_process = _start_redis(port, tmp_path)  # Redis is back
            else:
                point_app_at(celery_app, broker.app_url, broker.options)  # the broker is reachable again
            services.undelivered_sweep(older_than=0)  # beat's sweeper
            assert wait_until(lambda: issued.filter(status=Notification.Status.SENT).count() == 2, 60)
            assert wait_until(lambda: sink.count() >= 2, 10)
            services.undelivered_sweep(older_than=0)  # a second sweep finds nothing left
            assert not wait_until(lambda: sink.count() > 2, 2)
        finally:
            if redis_process is not None:
                redis_process.terminate()
                redis_process.wait(10)
        recipients = sorted(message["To"].addresses[0].username for message in sink.messages)
    assert recipients == ["delegate.treas", "deputy.treas"]
    assert all(message["Subject"] == "New challenge card for TREAS: Ramp up CX capacity" for message in sink.messages)
