"""The briefing packet built by a real `celery -A config worker` process, and e-mailed over real SMTP.

Broker: CELERY_BROKER_URL from the environment (Redis in CI), else a temporary filesystem
broker. Database: the notifications tests' shared_db fixture (the worker opens it too).
"""

from __future__ import annotations

import io
import os

import pytest
from django.conf import settings
from pypdf import PdfReader

from challenge_cards import services
from challenge_cards.models import BriefingPacket
from config.celery import app as celery_app
from notifications.testing import SmtpSink, Worker, filesystem_broker, point_app_at, wait_until, worker_env
from tests.notifications.conftest import shared_db  # noqa: F401 - a fixture used below

from . import briefing_world

pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def broker(tmp_path):
    var_dir = tmp_path / "var"
    url = os.environ.get("CELERY_BROKER_URL") or None
    if url:
        import redis

        client = redis.Redis.from_url(url)
        client.delete("celery", "unacked", "unacked_index")
        client.close()
        options = {"visibility_timeout": 3600}
    else:
        _, options = filesystem_broker(var_dir)
    point_app_at(celery_app, url or "filesystem://", options)
    yield url, var_dir
    point_app_at(celery_app, settings.CELERY_BROKER_URL, settings.CELERY_BROKER_TRANSPORT_OPTIONS)


def test_a_real_worker_builds_the_packet_records_progress_and_emails_the_admins(
    shared_db,  # noqa: F811
    broker,
    tmp_path,
    agency,
    other_agency,
    deputy,
    other_deputy,
    admin_user,
    priority,
):
    world = briefing_world.build(
        agency=agency,
        other_agency=other_agency,
        deputy=deputy,
        other_deputy=other_deputy,
        admin_user=admin_user,
        priority=priority,
    )
    broker_url, var_dir = broker
    with SmtpSink() as sink:
        env = worker_env(database_url=shared_db, smtp_port=sink.port, broker_url=broker_url, var_dir=var_dir)
        worker = Worker(env, tmp_path / "worker.log").start()
        try:
            packet = services.packet_request(actor=admin_user, meeting=world["december"], email_admins=True)

            def finished() -> bool:
                packet.refresh_from_db(fields=["status", "emailed_at"])
                return packet.status != BriefingPacket.Status.QUEUED and (
                    packet.status == BriefingPacket.Status.FAILED or packet.emailed_at is not None
                )

            assert wait_until(finished, 120), worker.log()
        finally:
            worker.stop()
        packet.refresh_from_db()
        assert packet.status == BriefingPacket.Status.READY, packet.error
        assert (packet.progress, packet.progress_note, packet.card_count) == (100, "Ready", 3)
        text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(bytes(packet.pdf))).pages)
        assert "Cut phone wait times" in text and "Send the job analysis to OPM" in text
        # Other mail (the notifications of the cards issued above) may go through the same worker.
        [message] = [m for m in sink.messages if m["Subject"] == "Briefing packet: PMC meeting, December 8, 2026"]
    assert "omb.admin@example.gov" in message["To"]
    [attachment] = [part for part in message.walk() if part.get_content_type() == "application/pdf"]
    assert attachment.get_content() == bytes(packet.pdf)
    assert "succeeded" in worker.log() or "build_briefing_packet" in worker.log()
