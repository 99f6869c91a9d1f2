"""Two builds of one packet (one queued again while the other still ran): only the later one stores its PDF."""

from __future__ import annotations

import datetime

import pytest

from challenge_cards import briefings, services
from challenge_cards.models import BriefingPacket
from tests import factories

pytestmark = pytest.mark.django_db


def _writing(content: bytes, during=None):
    def write(user, meeting, output, *, base_url="", progress=None):
        output.write(content)
        if during:
            during()
        return 3

    return write


def test_a_build_that_a_newer_one_replaced_stores_nothing(monkeypatch):
    packet = BriefingPacket.objects.create(meeting=factories.MeetingFactory(), requested_by=factories.omb_admin())

    def a_newer_build_starts():
        later = datetime.datetime.now(datetime.UTC) + datetime.timedelta(seconds=1)
        BriefingPacket.objects.filter(pk=packet.pk).update(status_since=later)

    monkeypatch.setattr(briefings, "write_packet_pdf", _writing(b"%PDF-older build", during=a_newer_build_starts))
    services.packet_build(packet_id=packet.pk)
    packet.refresh_from_db()
    assert (packet.status, bytes(packet.pdf or b"")) == (BriefingPacket.Status.BUILDING, b"")

    monkeypatch.setattr(briefings, "write_packet_pdf", _writing(b"%PDF-newer build"))
    services.packet_build(packet_id=packet.pk)
    packet.refresh_from_db()
    assert (packet.status, bytes(packet.pdf)) == (BriefingPacket.Status.READY, b"%PDF-newer build")
    assert packet.card_count == 3
    assert (packet.progress, packet.progress_note) == (100, "Ready")
