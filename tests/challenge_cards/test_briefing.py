"""The briefing packet: its data, its PDF (read back as text), its pages, e-mail and query cost."""

from __future__ import annotations

import io
from decimal import Decimal
from unittest import mock

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from pypdf import PdfReader

from challenge_cards import briefings, services
from challenge_cards.models import BriefingPacket
from challenge_cards.services import packets
from tests import factories

from . import briefing_world
from .briefing_world import NOW

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(agency, other_agency, deputy, other_deputy, admin_user, priority):
    return briefing_world.build(
        agency=agency,
        other_agency=other_agency,
        deputy=deputy,
        other_deputy=other_deputy,
        admin_user=admin_user,
        priority=priority,
    )


@pytest.fixture
def now():
    with time_machine.travel(NOW, tick=False):
        yield NOW


def pdf_text(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data))
    return "\n".join(page.extract_text() for page in reader.pages)


def test_packet_data_has_every_open_card_on_the_agenda_with_what_changed_since_the_last_meeting(world, admin_user, now):
    packet = briefings.packet_data(admin_user, world["december"])
    assert packet.last_meeting == world["november"]
    by_title = {brief.card.title: brief for brief in packet.cards}
    # Open cards issued before the meeting; the dropped card and the carried-over original are not on it.
    assert set(by_title) == {"Cut phone wait times", "Name a CX lead", "Run a pooled hiring action"}
    assert [section.agency.abbreviation for section in packet.sections] == ["DOL", "TREAS"]

    phones = by_title["Cut phone wait times"]
    assert phones.card.omb_rating == "red" and phones.card.agency_rating == "yellow"
    # Since November 10: the two agency updates and OMB's review; the issue itself is not a change.
    assert [update.kind for update in phones.changes] == ["update", "update", "omb_review"]
    assert [p.value for p in phones.trend.points] == [28, 20, 12]
    assert phones.trend.pace == "on_pace"  # 12 on Nov 25 against 28 → 3 over Nov 10 – Dec 8: expected ~14.6

    carried = by_title["Name a CX lead"]
    assert carried.card.carry_count == 1

    labor = by_title["Run a pooled hiring action"]
    assert [a.description for a in labor.overdue_actions] == ["Send the job analysis to OPM"]
    assert labor.is_overdue
    assert [u.kind for u in labor.changes] == ["action"]

    counts = packet.counts
    assert counts["cards"] == 3 and counts["overdue"] == 1 and counts["overdue_actions"] == 1
    assert counts["carried_over"] == 1 and counts["omb_red"] == 1


def test_an_agencys_brief_has_only_its_cards(world, admin_user, agency, now):
    packet = briefings.packet_data(admin_user, world["december"], agency=agency)
    assert {brief.card.title for brief in packet.cards} == {"Cut phone wait times", "Name a CX lead"}


def test_the_packet_costs_the_same_number_of_queries_at_small_and_large_sizes(
    world, admin_user, priority, now, django_assert_num_queries
):
    meeting = world["december"]
    briefings.packet_data(admin_user, meeting)  # roles cached on the user
    with django_assert_num_queries(5):
        small = briefings.packet_data(admin_user, meeting)
    briefing_world.add_noise(
        agencies=6, cards_per_agency=4, meeting=world["november"], admin_user=admin_user, priority=priority
    )
    with django_assert_num_queries(5):
        large = briefings.packet_data(admin_user, meeting)
    assert len(large.cards) == len(small.cards) + 24


def test_the_pdf_says_what_the_packet_holds_and_is_tagged(world, admin_user, now):
    packet = BriefingPacket.objects.create(meeting=world["december"], requested_by=admin_user)
    services.packet_build(packet_id=packet.pk)
    packet.refresh_from_db()
    assert packet.status == BriefingPacket.Status.READY and packet.progress == 100 and packet.card_count == 3
    text = pdf_text(bytes(packet.pdf))
    assert "Briefing packet: PMC meeting, December 8, 2026" in text
    for expected in [
        "Department of Labor (DOL)",
        "Department of the Treasury (TREAS)",
        "Cut phone wait times",
        "Run a pooled hiring action",
        "Carried over 1 time",
        "Send the job analysis to OPM",  # the overdue action
        "Value now: 20.00 → 12",  # what changed since the last meeting
        "Agency: Yellow",
        "OMB: Red",
        "On pace",
        "Status: Not started → In progress",
    ]:
        assert expected in text.replace("\n", " "), expected
    assert "A card that was dropped" not in text
    reader = PdfReader(io.BytesIO(bytes(packet.pdf)))
    root = reader.trailer["/Root"]
    assert "/StructTreeRoot" in root and root["/Lang"] == "en" and root["/MarkInfo"]["/Marked"]


def test_building_a_ready_packet_again_does_nothing_twice_and_emails_once(world, admin_user, now, settings):
    factories.omb_admin(user__username="second.admin")
    factories.omb_viewer(user__username="just.a.viewer")
    packet = BriefingPacket.objects.create(meeting=world["december"], requested_by=admin_user, email_admins=True)
    services.packet_build(packet_id=packet.pk)
    with mock.patch("core.pdf_render.render_tagged_pdf") as render:
        services.packet_build(packet_id=packet.pk)
    render.assert_not_called()
    [message] = mail.outbox
    assert sorted(message.to) == ["omb.admin@example.gov", "second.admin@example.gov"]
    assert message.subject == "Briefing packet: PMC meeting, December 8, 2026"
    [(name, content, kind)] = message.attachments
    assert name == "briefing-packet-2026-12-08.pdf" and kind == "application/pdf"
    assert "Cut phone wait times" in pdf_text(content)
    assert message.body.startswith("The briefing packet for the PMC meeting, December 8, 2026 is attached (")


@pytest.fixture
def ready_packet(world, admin_user, now):
    """A built packet, not yet e-mailed, that asks to be: building it again e-mails it and nothing more."""
    packet = BriefingPacket.objects.create(meeting=world["december"], requested_by=admin_user)
    services.packet_build(packet_id=packet.pk)
    BriefingPacket.objects.filter(pk=packet.pk).update(email_admins=True)
    packet.refresh_from_db()
    return packet


@pytest.mark.parametrize("length", [1, 56, 57, 58, 1000, 100_000])
def test_a_pdf_s_size_in_an_email_is_what_the_message_carries(length):
    message = mail.EmailMessage("Packet", "Attached.", to=["omb.admin@example.gov"])
    message.attach("packet.pdf", b"%" * length, "application/pdf")
    carried = message.message().get_payload()[1].get_payload()
    assert packets._email_size(length) == len(carried.replace("\n", "\r\n"))


def test_a_packet_that_fits_the_email_limit_exactly_is_attached_and_one_byte_more_is_a_link(ready_packet, settings):
    size = packets._email_size(len(bytes(ready_packet.pdf)))
    for limit, attachments in ((size, 1), (size - 1, 0)):
        settings.BRIEFING_PACKET_EMAIL_MAX_MB = Decimal(limit) / 1_000_000
        mail.outbox.clear()
        BriefingPacket.objects.filter(pk=ready_packet.pk).update(emailed_at=None)
        services.packet_build(packet_id=ready_packet.pk)
        [message] = mail.outbox
        assert len(message.attachments) == attachments


def test_a_packet_too_large_to_attach_is_sent_as_its_link_and_size_without_being_read(ready_packet, settings):
    def never_read():
        raise AssertionError("the PDF was read")
        yield b""

    with mock.patch.object(packets, "packet_pdf_pieces", return_value=(46_200_000, never_read())):
        services.packet_build(packet_id=ready_packet.pk)
    [message] = mail.outbox
    page = settings.SITE_URL + reverse("challenge_cards:meeting_packet", args=[ready_packet.meeting_id])
    assert message.attachments == []
    assert message.body == (
        "The briefing packet for the PMC meeting, December 8, 2026 is ready (3 open cards, 46.2 MB). It is too "
        f"large to attach to an e-mail: download it from the packet page.\n\nThe packet page: {page}\n"
    )
    ready_packet.refresh_from_db()
    assert ready_packet.emailed_at is not None


@pytest.mark.parametrize("gone", ["before its size is read", "while it is read"])
def test_a_packet_gone_before_it_is_e_mailed_sends_nothing_and_stays_to_be_e_mailed(ready_packet, gone):
    found = mock.patch.object(
        packets,
        "packet_pdf_pieces",
        **(
            {"side_effect": BriefingPacket.DoesNotExist}
            if gone == "before its size is read"
            else {"return_value": (1000, iter([b"only a part"]))}
        ),
    )
    with found:
        services.packet_build(packet_id=ready_packet.pk)
    assert mail.outbox == []
    ready_packet.refresh_from_db()
    assert ready_packet.emailed_at is None


def test_a_failed_build_is_recorded(world, admin_user, now):
    packet = BriefingPacket.objects.create(meeting=world["december"], requested_by=admin_user)
    with (
        mock.patch("core.pdf_render.render_tagged_pdf", side_effect=RuntimeError("no fonts")),
        pytest.raises(RuntimeError),
    ):
        services.packet_build(packet_id=packet.pk)
    packet.refresh_from_db()
    assert packet.status == BriefingPacket.Status.FAILED and "no fonts" in packet.error


def test_requesting_a_packet_queues_the_task_after_commit_and_only_omb_admins_may(
    world, admin_user, deputy, omb_viewer_user, django_capture_on_commit_callbacks
):
    with mock.patch("challenge_cards.tasks.build_briefing_packet.delay") as delay:
        with django_capture_on_commit_callbacks(execute=True):
            packet = services.packet_request(actor=admin_user, meeting=world["december"], email_admins=True)
        delay.assert_called_once_with(packet.pk)
        # A second request while it is queued returns the same packet, not a second build.
        assert services.packet_request(actor=admin_user, meeting=world["december"]) == packet
    for user in (deputy, omb_viewer_user):
        with pytest.raises(PermissionDenied):
            services.packet_request(actor=user, meeting=world["december"])


def test_the_packet_page_shows_progress_and_reloads_itself_until_the_pdf_is_ready(world, admin_user, client, now):
    packet = BriefingPacket.objects.create(
        meeting=world["december"], requested_by=admin_user, status="building", progress=40, progress_note="Laying out"
    )
    client.force_login(admin_user)
    url = reverse("challenge_cards:meeting_packet", args=[world["december"].pk])
    response = client.get(url)
    assert response.status_code == 200
    assert response["Refresh"] == "3"  # no JavaScript needed
    html = response.content.decode()
    assert "40% done" in html and "Laying out" in html and 'href="' + url + '#pdf"' in html
    assert "Cut phone wait times" in html and 'media="print"' in html
    BriefingPacket.objects.filter(pk=packet.pk).update(status="ready", progress=100, pdf=b"%PDF-1.7 test")
    response = client.get(url)
    assert "Refresh" not in response
    assert reverse("challenge_cards:packet_download", args=[packet.pk]) in response.content.decode()


def test_only_omb_sees_the_packet_and_downloads_its_pdf(world, admin_user, omb_viewer_user, deputy, client, now):
    packet = BriefingPacket.objects.create(
        meeting=world["december"], requested_by=admin_user, status="ready", progress=100, pdf=b"%PDF-1.7 test"
    )
    download = reverse("challenge_cards:packet_download", args=[packet.pk])
    page = reverse("challenge_cards:meeting_packet", args=[world["december"].pk])
    client.force_login(deputy)
    assert client.get(download).status_code == 403
    assert client.get(page).status_code == 403
    client.force_login(omb_viewer_user)
    response = client.get(download)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert b"".join(response.streaming_content) == b"%PDF-1.7 test"
    assert 'filename="briefing-packet-2026-12-08.pdf"' in response["Content-Disposition"]


def test_the_pdf_is_read_and_sent_a_piece_at_a_time(world, admin_user, client, now):
    pdf = b"%PDF-1.7 " + bytes(range(256)) * 3
    packet = BriefingPacket.objects.create(
        meeting=world["december"], requested_by=admin_user, status="ready", progress=100, pdf=pdf
    )
    packet = BriefingPacket.objects.defer("pdf").get(pk=packet.pk)
    length, pieces = services.packet_pdf_pieces(packet, piece=100)
    read = list(pieces)
    assert length == len(pdf) and b"".join(read) == pdf
    assert [len(part) for part in read] == [100] * 7 + [len(pdf) - 700]

    client.force_login(admin_user)
    response = client.get(reverse("challenge_cards:packet_download", args=[packet.pk]))
    assert response.streaming and response["Content-Length"] == str(len(pdf))
    assert b"".join(response.streaming_content) == pdf


def test_a_packet_rebuilt_while_it_is_sent_ends_the_pieces_early(world, admin_user):
    packet = BriefingPacket.objects.create(
        meeting=world["december"], requested_by=admin_user, status="ready", progress=100, pdf=b"x" * 300
    )
    length, pieces = services.packet_pdf_pieces(packet, piece=100)
    assert next(pieces) == b"x" * 100
    BriefingPacket.objects.filter(pk=packet.pk).update(status="building", pdf=b"y" * 300)
    assert length == 300 and list(pieces) == []  # a short download, never a mix of two builds


def test_a_packet_deleted_before_it_is_sent_is_not_found(world, admin_user):
    packet = BriefingPacket.objects.create(
        meeting=world["december"], requested_by=admin_user, status="ready", progress=100, pdf=b"x" * 300
    )
    BriefingPacket.objects.filter(pk=packet.pk).delete()
    with pytest.raises(BriefingPacket.DoesNotExist):
        services.packet_pdf_pieces(packet)


def test_the_sample_packet_command_writes_the_stored_pdf(world, admin_user, tmp_path, now):
    from django.core.management import call_command

    output = tmp_path / "packet.pdf"
    with mock.patch("challenge_cards.services.packets._write_pdf", side_effect=_store(b"%PDF-1.7 stored")):
        call_command(
            "build_sample_packet", "--output", str(output), "--admin", admin_user.username, stdout=io.StringIO()
        )
    assert output.read_bytes() == b"%PDF-1.7 stored"


@pytest.mark.parametrize("fault", ["shorter", "raises"])
def test_the_sample_packet_command_leaves_no_file_when_the_packet_is_not_written_whole(
    world, admin_user, tmp_path, now, fault
):
    """A packet rebuilt meanwhile (fewer bytes than its length) or a read that fails: neither file is left."""
    from django.core.management import CommandError, call_command

    def pieces(packet):
        if fault == "raises":
            yield b"%PDF"
            raise RuntimeError("the database went away")
        yield b"%PDF"  # of 15 bytes announced

    output = tmp_path / "packet.pdf"
    with (
        mock.patch("challenge_cards.services.packets._write_pdf", side_effect=_store(b"%PDF-1.7 stored")),
        mock.patch("challenge_cards.services.packet_pdf_pieces", side_effect=lambda packet: (15, pieces(packet))),
        pytest.raises(CommandError if fault == "shorter" else RuntimeError),
    ):
        call_command(
            "build_sample_packet", "--output", str(output), "--admin", admin_user.username, stdout=io.StringIO()
        )
    assert list(tmp_path.iterdir()) == []


def _store(pdf: bytes):
    def write(packet) -> int:
        BriefingPacket.objects.filter(pk=packet.pk).update(status="ready", pdf=pdf, finished_at=packet.status_since)
        return 0

    return write


def test_the_build_button_queues_a_packet(world, admin_user, client, django_capture_on_commit_callbacks):
    client.force_login(admin_user)
    url = reverse("challenge_cards:packet_build", args=[world["december"].pk])
    with (
        mock.patch("challenge_cards.tasks.build_briefing_packet.delay") as delay,
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = client.post(url, {"email": "1"})
    assert response.status_code == 302
    packet = BriefingPacket.objects.get()
    assert packet.email_admins and packet.status == "queued"
    delay.assert_called_once_with(packet.pk)


def test_the_agency_brief_is_for_that_agencys_people_and_omb(
    world, agency, deputy, other_deputy, omb_viewer_user, client, now
):
    url = reverse("challenge_cards:agency_brief", args=[world["december"].pk, agency.pk])
    client.force_login(other_deputy)
    assert client.get(url).status_code == 403
    for user in (deputy, omb_viewer_user):
        client.force_login(user)
        response = client.get(url)
        assert response.status_code == 200
        html = response.content.decode()
        assert "Cut phone wait times" in html and "Run a pooled hiring action" not in html
        assert "1 time" in html  # the carried-over card's count


def test_the_agency_brief_pdf_is_one_tagged_page_for_that_agency(world, agency, deputy, other_deputy, client, now):
    url = reverse("challenge_cards:agency_brief_pdf", args=[world["december"].pk, agency.pk])
    client.force_login(other_deputy)
    assert client.get(url).status_code == 403
    client.force_login(deputy)
    response = client.get(url)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert 'filename="treas-brief-2026-12-08.pdf"' in response["Content-Disposition"]
    reader = PdfReader(io.BytesIO(response.content))
    assert len(reader.pages) == 1 and "/StructTreeRoot" in reader.trailer["/Root"]
    text = reader.pages[0].extract_text().replace("\n", " ")
    assert "Department of the Treasury: brief for the PMC meeting, December 8, 2026" in text
    assert "Cut phone wait times" in text and "Name a CX lead" in text and "Run a pooled hiring action" not in text
