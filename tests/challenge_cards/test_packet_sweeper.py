"""Briefing packets that never finish (broker down when asked for, worker gone) are queued again."""

from __future__ import annotations

import datetime
from unittest import mock

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone
from kombu.exceptions import OperationalError

from challenge_cards import services, tasks
from challenge_cards.models import BriefingPacket

pytestmark = pytest.mark.django_db

DELAY = "challenge_cards.tasks.build_briefing_packet.delay"


def _packet(meeting, admin_user, status: str, minutes_ago: int) -> BriefingPacket:
    return BriefingPacket.objects.create(
        meeting=meeting,
        requested_by=admin_user,
        status=status,
        progress=40 if status == "building" else 0,
        status_since=timezone.now() - datetime.timedelta(minutes=minutes_ago),
    )


def test_the_sweeper_requeues_packets_stuck_queued_or_building_beyond_the_limit(
    meeting, admin_user, settings, django_capture_on_commit_callbacks
):
    settings.BRIEFING_PACKET_STUCK_MINUTES = 30
    stuck_queued = _packet(meeting, admin_user, "queued", 31)
    stuck_building = _packet(meeting, admin_user, "building", 45)
    recent = _packet(meeting, admin_user, "queued", 5)
    ready = _packet(meeting, admin_user, "ready", 600)
    failed = _packet(meeting, admin_user, "failed", 600)
    with mock.patch(DELAY) as delay, django_capture_on_commit_callbacks(execute=True):
        assert tasks.sweep_stuck_packets() == [stuck_queued.pk, stuck_building.pk]
    assert sorted(call.args[0] for call in delay.call_args_list) == [stuck_queued.pk, stuck_building.pk]
    for packet in (stuck_queued, stuck_building):
        packet.refresh_from_db()
        assert packet.status == "queued" and packet.progress == 0
        assert timezone.now() - packet.status_since < datetime.timedelta(minutes=1)
    for packet, status in ((recent, "queued"), (ready, "ready"), (failed, "failed")):
        packet.refresh_from_db()
        assert packet.status == status
    # Run again at once (a second beat): the clock restarted, so nothing is queued twice.
    with mock.patch(DELAY) as delay, django_capture_on_commit_callbacks(execute=True):
        assert tasks.sweep_stuck_packets() == []
    delay.assert_not_called()
    assert "packets-sweep" in settings.CELERY_BEAT_SCHEDULE


def test_a_packet_asked_for_while_the_broker_is_down_is_queued_again_when_asked_again(
    meeting, admin_user, settings, django_capture_on_commit_callbacks
):
    settings.BRIEFING_PACKET_STUCK_MINUTES = 30
    with (
        mock.patch(DELAY, side_effect=OperationalError("Connection refused")) as delay,
        django_capture_on_commit_callbacks(execute=True),
    ):
        packet = services.packet_request(actor=admin_user, meeting=meeting)  # no error: it waits for the sweeper
    delay.assert_called_once_with(packet.pk)
    assert BriefingPacket.objects.get().status == "queued"
    # Asked again soon: the same packet, not queued a second time.
    with mock.patch(DELAY) as delay, django_capture_on_commit_callbacks(execute=True):
        assert services.packet_request(actor=admin_user, meeting=meeting) == packet
    delay.assert_not_called()
    # Asked again after the limit: the stuck packet is handed to the broker again, with its clock restarted.
    with (
        time_machine.travel(timezone.now() + datetime.timedelta(minutes=31)),
        mock.patch(DELAY) as delay,
        django_capture_on_commit_callbacks(execute=True),
    ):
        again = services.packet_request(actor=admin_user, meeting=meeting)
        assert timezone.now() - BriefingPacket.objects.get().status_since < datetime.timedelta(minutes=1)
    assert again.pk == packet.pk
    delay.assert_called_once_with(packet.pk)
    assert BriefingPacket.objects.count() == 1


def test_an_omb_admin_requeues_a_stuck_packet_from_the_admin(
    meeting, admin_user, client, django_capture_on_commit_callbacks
):
    stuck = _packet(meeting, admin_user, "building", 5)
    ready = _packet(meeting, admin_user, "ready", 5)
    client.force_login(admin_user)
    url = reverse("admin:challenge_cards_briefingpacket_changelist")
    assert client.get(url).status_code == 200
    with mock.patch(DELAY) as delay, django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"action": "reset_packets", "_selected_action": [stuck.pk, ready.pk]}, follow=True)
    assert response.status_code == 200
    delay.assert_called_once_with(stuck.pk)
    stuck.refresh_from_db()
    ready.refresh_from_db()
    assert stuck.status == "queued" and stuck.progress_note == f"Queued again by {admin_user.username}"
    assert ready.status == "ready"
    text = response.content.decode()
    assert "Queued again: 1 packet." in text and "This packet is ready" in text


def test_only_omb_admins_reset_a_packet(meeting, admin_user, omb_viewer_user):
    from django.core.exceptions import PermissionDenied

    packet = _packet(meeting, admin_user, "queued", 60)
    with pytest.raises(PermissionDenied):
        services.packet_reset(actor=omb_viewer_user, packet=packet)


def test_the_packet_page_offers_to_queue_a_stuck_packet_again(
    meeting, admin_user, client, settings, django_capture_on_commit_callbacks
):
    settings.BRIEFING_PACKET_STUCK_MINUTES = 30
    packet = _packet(meeting, admin_user, "queued", 5)
    client.force_login(admin_user)
    page = reverse("challenge_cards:meeting_packet", args=[meeting.pk])
    assert "Queue the PDF again" not in client.get(page).content.decode()  # still within the limit
    BriefingPacket.objects.filter(pk=packet.pk).update(status_since=timezone.now() - datetime.timedelta(minutes=40))
    html = client.get(page).content.decode()
    assert "Queue the PDF again" in html and "It has not moved for a while" in html
    with mock.patch(DELAY) as delay, django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("challenge_cards:packet_build", args=[meeting.pk]))
    assert response.status_code == 302
    delay.assert_called_once_with(packet.pk)
    assert BriefingPacket.objects.count() == 1
    assert "Queue the PDF again" not in client.get(page).content.decode()
