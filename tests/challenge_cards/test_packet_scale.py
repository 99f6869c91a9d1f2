"""The briefing packet at a few hundred agencies: built one agency at a time, in bounded memory, with progress.

The build runs in a child process (``services.packet_build`` on the test database, committed rows),
which reports its own peak resident memory (VmHWM from /proc/self/status: its own memory since exec;
``ru_maxrss`` would not do, Linux carries it over exec from the forking pytest process) when it is done, and
its resident memory at each step of progress (the growth from the 31st agency to the last is bounded):
the limit is asserted on that peak, not enforced with RLIMIT_AS (WeasyPrint's libraries map far more
address space than they touch, so an address-space cap measures the wrong thing).
"""

from __future__ import annotations

import datetime
import io
import json
import os
import subprocess
import sys
from pathlib import Path
from unittest import mock

import pytest
from django.conf import settings
from django.db import connection
from pypdf import PdfReader

from agencies.models import Agency
from challenge_cards import briefings, services
from challenge_cards.models import BriefingPacket, ChallengeCard, Meeting
from core import pdf_render
from tests import factories

BASE_DIR = Path(__file__).resolve().parents[2]
PEAK_LIMIT_MB = 500
GROWTH_LIMIT_MB = 50

CHILD = """
import json, resource, sys
from pathlib import Path
import django
django.setup()
from challenge_cards import services
record, rss = services.packets._packet_progress, {}

def progress(packet, percent, note, **fields):
    rss[note.split(":")[0]] = int(Path("/proc/self/status").read_text().split("VmRSS:")[1].split()[0]) / 1024
    record(packet, percent, note, **fields)

services.packets._packet_progress = progress
services.packet_build(packet_id=int(sys.argv[1]))
peak_kb = int(Path("/proc/self/status").read_text().split("VmHWM:")[1].split()[0])
children_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # the largest renderer child, ended and waited for
print(json.dumps({"peak_mb": peak_kb / 1024, "children_peak_mb": children_kb / 1024, "rss_mb": rss}))
"""


def _agencies_with_cards(count: int, *, cards_each: int) -> tuple[Meeting, list[Agency]]:
    """``count`` agencies with ``cards_each`` open cards on the next meeting's agenda, in a few bulk inserts."""
    held = factories.MeetingFactory(starts_at=datetime.datetime(2026, 11, 10, 15, tzinfo=datetime.UTC), status="held")
    upcoming = factories.MeetingFactory(starts_at=datetime.datetime(2026, 12, 8, 15, tzinfo=datetime.UTC))
    priority = factories.PmaPriorityFactory()
    agencies = Agency.objects.bulk_create(factories.AgencyFactory.build_batch(count))
    ChallengeCard.objects.bulk_create(
        factories.ChallengeCardFactory.build(agency=agency, meeting=held, priority=priority, issued_at=held.starts_at)
        for agency in agencies
        for _ in range(cards_each)
    )
    return upcoming, sorted(agencies, key=lambda agency: (agency.name, agency.pk))


@pytest.mark.celery_worker  # a child process, ~1 minute: outside `make test-fast`
@pytest.mark.django_db(transaction=True)
def test_a_packet_for_300_agencies_is_built_in_bounded_memory_with_a_bookmark_per_agency():
    meeting, agencies = _agencies_with_cards(300, cards_each=1)
    packet = BriefingPacket.objects.create(meeting=meeting, requested_by=factories.omb_admin())
    settings_dict = connection.settings_dict
    url = f"postgres://{settings_dict['USER']}@{settings_dict['HOST']}:{settings_dict['PORT']}/{settings_dict['NAME']}"
    child = subprocess.run(
        [sys.executable, "-c", CHILD, str(packet.pk)],
        env={**os.environ, "DATABASE_URL": url},
        cwd=BASE_DIR,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert child.returncode == 0, child.stderr[-3000:]
    report = json.loads(child.stdout.strip().splitlines()[-1])
    stages = {note: mb for note, mb in report["rss_mb"].items() if not note.startswith("Agency ")}
    assert report["peak_mb"] <= PEAK_LIMIT_MB, (report["peak_mb"], stages, child.stderr[-2000:])
    # The agencies are laid out in renderer children (core.pdf_render): the build and all of them at their peaks.
    assert settings.BRIEFING_PACKET_PROCESSES >= 1 and report["children_peak_mb"] > 50, report
    total = report["peak_mb"] + settings.BRIEFING_PACKET_PROCESSES * report["children_peak_mb"]
    assert total <= PEAK_LIMIT_MB, report
    # Bounded, not only small: the 270 agencies after the 30th add little (a whole-document build grows with each).
    rss = report["rss_mb"]
    assert rss["The cover, the overall figures and the initiatives"] - rss["Agency 31 of 300"] <= GROWTH_LIMIT_MB, (
        report
    )

    packet.refresh_from_db()
    assert packet.status == BriefingPacket.Status.READY and packet.card_count == 300
    reader = PdfReader(io.BytesIO(bytes(packet.pdf)))
    top = [item for item in reader.outline if not isinstance(item, list)]
    assert [item.title for item in top] == [
        f"Briefing packet: {meeting.title}",
        *(f"{agency.name} ({agency.abbreviation})" for agency in agencies),
    ]
    # The cover, then each agency from a page of its own, in order.
    pages = [reader.get_destination_page_number(item) for item in top]
    assert pages[0] == 0 and pages == sorted(set(pages)) and len(reader.pages) >= 301
    root = reader.trailer["/Root"]
    assert root["/Lang"] == "en" and root["/MarkInfo"]["/Marked"] and "/StructTreeRoot" in root
    assert len(root["/StructTreeRoot"]["/K"][0].get_object()["/K"]) == 301  # the cover and a part per agency


@pytest.mark.django_db
def test_the_progress_moves_agency_by_agency_up_to_ready():
    meeting, agencies = _agencies_with_cards(4, cards_each=1)
    packet = BriefingPacket.objects.create(meeting=meeting, requested_by=factories.omb_admin())
    seen: list[tuple[int, str]] = []
    record = services.packets._packet_progress

    def spy(packet, progress, note, **fields):
        seen.append((progress, note))
        record(packet, progress, note, **fields)

    # Stored in the row a few kilobytes at a time (8 MB in production), and read back whole.
    with (
        mock.patch.object(services.packets, "_packet_progress", spy),
        mock.patch.object(services.packets, "_STORE_CHUNK", 4096),
    ):
        services.packet_build(packet_id=packet.pk)
    notes = [note for _progress, note in seen]
    for number, agency in enumerate(agencies, 1):
        assert f"Agency {number} of 4: {agency.name}" in notes
    assert notes.index("Agency 1 of 4: " + agencies[0].name) < notes.index("Agency 4 of 4: " + agencies[3].name)
    percents = [progress for progress, _note in seen]
    assert percents == sorted(percents) and len(set(percents)) >= 6 and percents[-1] == 100
    assert notes[-2] == "Storing the PDF (4 cards)"
    packet.refresh_from_db()
    assert packet.status == BriefingPacket.Status.READY and packet.progress == 100 and packet.card_count == 4
    pdf = bytes(packet.pdf)
    assert len(pdf) > 3 * 4096 and pdf.rstrip().endswith(b"%%EOF")
    assert len(PdfReader(io.BytesIO(pdf), strict=True).outline) >= 5


@pytest.mark.django_db
def test_agencies_laid_out_in_children_make_the_packet_made_in_one_process():
    """Parts come back from the renderer children in order: the same pages, bookmarks and structure."""
    meeting, agencies = _agencies_with_cards(6, cards_each=2)
    admin = factories.omb_admin()
    built = {}
    for processes in (0, 2):
        output = io.BytesIO()
        with mock.patch("core.pdf_render.Renderers", wraps=pdf_render.Renderers) as renderers:
            assert briefings.write_packet_pdf(admin, meeting, output, processes=processes) == 12
        renderers.assert_called_once_with(processes)
        built[processes] = PdfReader(io.BytesIO(output.getvalue()), strict=True)
    in_one, in_children = built[0], built[2]
    titles = [item.title for item in in_children.outline if not isinstance(item, list)]
    assert titles == [
        f"Briefing packet: {meeting.title}",
        *(f"{agency.name} ({agency.abbreviation})" for agency in agencies),
    ]
    assert titles == [item.title for item in in_one.outline if not isinstance(item, list)]
    texts = [[page.extract_text() for page in reader.pages] for reader in (in_one, in_children)]
    assert texts[0] == texts[1] and len(texts[1]) >= 7
    root = in_children.trailer["/Root"]
    assert root["/Lang"] == "en" and root["/MarkInfo"]["/Marked"]
    parts = root["/StructTreeRoot"]["/K"][0].get_object()["/K"]
    assert len(parts) == 7 and all(part.get_object()["/S"] == "/Part" for part in parts)
