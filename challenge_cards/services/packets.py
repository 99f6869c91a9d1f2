"""Briefing packets: asked for in a request, built by a Celery task after commit, safe to build twice."""

from __future__ import annotations

import datetime
import logging
import tempfile
from collections.abc import Iterator
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import BinaryField, F, Func, Value
from django.db.models.functions import Length
from django.urls import reverse
from django.utils import timezone

from .. import permissions
from ..models import Meeting

logger = logging.getLogger(__name__)


def _enqueue_build(packet_id: int) -> None:
    """Hand the build to the broker after commit; with the broker down the packet stays queued for the sweeper."""
    from ..tasks import build_briefing_packet

    try:
        build_briefing_packet.delay(packet_id)
    except Exception:
        logger.warning("Briefing packet %s not queued (broker unreachable); the sweeper will retry", packet_id)


def _stuck_before() -> datetime.datetime:
    return timezone.now() - datetime.timedelta(minutes=settings.BRIEFING_PACKET_STUCK_MINUTES)


def packet_is_stuck(packet) -> bool:
    """Queued or building for longer than BRIEFING_PACKET_STUCK_MINUTES: asking again queues it again."""
    return not packet.is_finished and packet.status_since < _stuck_before()


def _requeue(packet, note: str) -> None:
    """Back to queued, handed to the broker again after commit (the caller holds the row's lock)."""
    packet.status = type(packet).Status.QUEUED
    packet.status_since = timezone.now()
    packet.progress = 0
    packet.progress_note = note
    packet.error = ""
    packet.save(update_fields=["status", "status_since", "progress", "progress_note", "error"])
    packet_id = packet.pk
    transaction.on_commit(lambda: _enqueue_build(packet_id))


@transaction.atomic
def packet_request(*, actor, meeting: Meeting, email_admins: bool = False):
    """Ask for a meeting's briefing packet PDF; a Celery task builds it after commit (one at a time per meeting)."""
    from ..models import BriefingPacket

    if not permissions.can_build_packets(actor):
        raise PermissionDenied("Only OMB admins build briefing packets.")
    meeting = Meeting.objects.select_for_update().get(pk=meeting.pk)
    running = BriefingPacket.objects.filter(
        meeting=meeting, status__in=[BriefingPacket.Status.QUEUED, BriefingPacket.Status.BUILDING]
    ).first()
    if running is not None:
        if email_admins and not running.email_admins:
            running.email_admins = True
            running.save(update_fields=["email_admins"])
        if packet_is_stuck(running):
            # Lost on the way (broker down when it was asked for, worker gone): asked again, it is queued again.
            _requeue(running, "Queued again: the earlier request never finished")
        return running
    packet = BriefingPacket.objects.create(meeting=meeting, requested_by=actor, email_admins=email_admins)
    transaction.on_commit(lambda: _enqueue_build(packet.pk))
    return packet


def packet_requeue_stuck() -> list[int]:
    """Beat's sweeper: re-queue packets queued or building for longer than BRIEFING_PACKET_STUCK_MINUTES.

    Safe to run twice (and from two beats): each packet is locked and its clock restarted.
    """
    from ..models import BriefingPacket

    requeued = []
    with transaction.atomic():
        stuck = BriefingPacket.objects.select_for_update(skip_locked=True).filter(
            status__in=[BriefingPacket.Status.QUEUED, BriefingPacket.Status.BUILDING],
            status_since__lt=_stuck_before(),
        )
        for packet in stuck.order_by("pk"):
            _requeue(packet, "Queued again: it had not finished in time")
            requeued.append(packet.pk)
    if requeued:
        logger.warning("Re-queued stuck briefing packets: %s", requeued)
    return requeued


@transaction.atomic
def packet_reset(*, actor, packet):
    """An OMB admin re-queues a packet that is stuck or failed (the admin's action); a ready one is kept."""
    from ..models import BriefingPacket

    if not permissions.can_build_packets(actor):
        raise PermissionDenied("Only OMB admins build briefing packets.")
    packet = BriefingPacket.objects.select_for_update().get(pk=packet.pk)
    if packet.status == BriefingPacket.Status.READY:
        raise ValidationError("This packet is ready; ask for a new one from the meeting's packet page.")
    _requeue(packet, f"Queued again by {actor.get_username()}")
    return packet


def _packet_progress(packet, progress: int, note: str, *, rows: Any = None, **fields: Any) -> None:
    """Committed at once (no surrounding transaction), so the page shows it while the task runs.

    ``rows``: the packet's row only while it is still this build's (by default, the row whatever its state).
    """
    rows = type(packet).objects.filter(pk=packet.pk) if rows is None else rows
    rows.update(progress=progress, progress_note=note, **fields)


class _Append(Func):
    """``pdf || chunk``: bytes appended in the database (SQLite's || gives text: cast back to a blob)."""

    arg_joiner = " || "
    template = "(%(expressions)s)"
    output_field = BinaryField()

    def as_sqlite(self, compiler, connection, **extra):
        return self.as_sql(compiler, connection, template="CAST((%(expressions)s) AS BLOB)", **extra)


# Progress: the cards are read and laid out agency by agency between these two percentages.
_FIRST_AGENCY, _LAST_AGENCY = 5, 90
_STORE_CHUNK = 8 * 1024 * 1024


def _write_pdf(packet) -> int:
    """Build the PDF one agency at a time into a temporary file (briefings.write_packet_pdf) and store it."""
    from django.conf import settings

    from .. import briefings

    def progress(done: int, total: int, note: str) -> None:
        share = (_LAST_AGENCY - _FIRST_AGENCY) * done // total if total else 0
        _packet_progress(packet, _FIRST_AGENCY + share, note[:200])

    _packet_progress(packet, _FIRST_AGENCY, "Finding the agencies with cards on the agenda")
    with tempfile.TemporaryFile() as output:
        # The packet is OMB's: read as the OMB admin who asked (or as OMB when they are gone).
        user = packet.requested_by or _SystemOmb()
        card_count = briefings.write_packet_pdf(
            user, packet.meeting, output, base_url=settings.SITE_URL, progress=progress
        )
        _packet_progress(packet, 95, f"Storing the PDF ({card_count} cards)")
        output.seek(0)
        with transaction.atomic():
            # Only the build that started last stores, under the row's lock: a build queued again while an
            # older one still ran (stuck, or the broker's redelivery) must not interleave its pieces.
            mine = type(packet).objects.filter(
                pk=packet.pk, status=packet.Status.BUILDING, status_since=packet.status_since
            )
            if not mine.select_for_update().exists():
                raise _Superseded
            mine.update(pdf=b"", card_count=card_count)
            while chunk := output.read(_STORE_CHUNK):
                # Appended a piece at a time: the worker never holds the whole PDF, nor its escaped copy.
                mine.update(pdf=_Append(F("pdf"), Value(chunk)))
            _packet_progress(packet, 100, "Ready", rows=mine, status=packet.Status.READY, finished_at=timezone.now())
    return card_count


class _Slice(Func):
    """``substr(pdf, start, length)``: a piece of the stored bytes (bytea in PostgreSQL, a blob in SQLite)."""

    function = "substr"
    output_field = BinaryField()


def packet_pdf_pieces(packet, *, piece: int = _STORE_CHUNK) -> tuple[int, Iterator[bytes]]:
    """A ready packet's PDF as (its length, its pieces in order), read from the database ``piece`` bytes at a time.

    The download and build_sample_packet send it on as it comes, so neither holds the whole PDF (46 MB for the
    large data; read in one go, the escaped copy the driver receives made the process peak at ~550 MB). Each piece
    is read only while the packet is still the same ready build: a packet deleted meanwhile (a ready one is never
    rebuilt in place, but guard anyway) ends the pieces early, so a download is cut short (its Content-Length
    says so) rather than a mix of two builds. A packet gone before the length is read: BriefingPacket.DoesNotExist.
    """
    same = type(packet).objects.filter(pk=packet.pk, status=packet.Status.READY, finished_at=packet.finished_at)
    found = same.annotate(size=Length("pdf")).values_list("size", flat=True)
    if not found:
        raise type(packet).DoesNotExist("The packet is no longer ready.")
    length = found[0] or 0

    def pieces() -> Iterator[bytes]:
        for start in range(0, length, piece):
            found = same.annotate(part=_Slice(F("pdf"), Value(start + 1), Value(piece))).values_list("part", flat=True)
            part = found.first()
            if part is None:  # rebuilt or reset since the length was read
                return
            yield bytes(part)

    return length, pieces()


class _Superseded(Exception):
    """A newer build of the same packet started: this one stops and leaves the packet to it."""


def packet_build(*, packet_id: int) -> None:
    """Build the PDF and record progress; running it again for a ready packet does nothing twice."""
    from ..models import BriefingPacket

    with transaction.atomic():
        packet = (
            BriefingPacket.objects.select_for_update(of=("self",))
            .select_related("meeting", "requested_by")
            .defer("pdf")
            .get(pk=packet_id)
        )
        if packet.status == BriefingPacket.Status.FAILED:
            return
        if packet.status != BriefingPacket.Status.READY:
            packet.status = BriefingPacket.Status.BUILDING
            packet.status_since = timezone.now()
            packet.save(update_fields=["status", "status_since"])
    if packet.status == BriefingPacket.Status.BUILDING:
        try:
            _write_pdf(packet)
        except _Superseded:
            return
        except Exception as error:
            _packet_progress(
                packet, 0, "The packet could not be built", status=BriefingPacket.Status.FAILED, error=str(error)[:2000]
            )
            raise
    packet.refresh_from_db(fields=["status", "finished_at", "card_count", "email_admins", "emailed_at"])
    wanted = packet.email_admins and packet.emailed_at is None and packet.status == BriefingPacket.Status.READY
    if wanted and _email_packet(packet):
        BriefingPacket.objects.filter(pk=packet.pk).update(emailed_at=timezone.now())


def _email_size(length: int) -> int:
    """The bytes a PDF of `length` takes in an e-mail, as a mail server counts them: base64 in lines of 76."""
    encoded = -(-length // 3) * 4
    return encoded + -(-encoded // 76) * 2  # each line, the last too, ends in CRLF


def _email_packet(packet) -> bool:
    """E-mail a ready packet to the OMB admins; False if it went meanwhile (nothing sent: a new build e-mails).

    Attached when it takes at most BRIEFING_PACKET_EMAIL_MAX_MB in the e-mail, else only its page's link: the
    large data's packet is 46 MB, more than mail servers take (Postfix's default limit is 10,240,000 bytes),
    and attaching it would hold the whole PDF in the worker several times over."""
    admins = list(
        get_user_model()
        .objects.filter(omb_role__kind="admin", is_active=True)
        .exclude(email="")
        .values_list("email", flat=True)
    )
    if not admins:
        return True
    try:
        length, pieces = packet_pdf_pieces(packet)
    except type(packet).DoesNotExist:
        return False
    attached = _email_size(length) <= settings.BRIEFING_PACKET_EMAIL_MAX_MB * 1_000_000
    pdf = b"".join(pieces) if attached else b""
    if attached and len(pdf) != length:  # deleted while it was read
        return False
    title = packet.meeting.title
    link = settings.SITE_URL + reverse("challenge_cards:meeting_packet", args=[packet.meeting_id])
    opening = (
        f"The briefing packet for the {title} is attached ({packet.card_count} open cards)."
        if attached
        else f"The briefing packet for the {title} is ready ({packet.card_count} open cards, {length / 1e6:.1f} MB). "
        "It is too large to attach to an e-mail: download it from the packet page."
    )
    message = EmailMessage(
        subject=f"Briefing packet: {title}", body=f"{opening}\n\nThe packet page: {link}\n", to=admins
    )
    if attached:
        message.attach(f"briefing-packet-{packet.meeting.starts_at_eastern:%Y-%m-%d}.pdf", pdf, "application/pdf")
    message.send()
    return True


class _SystemOmb:
    """Reads as OMB for a packet whose requester's account is gone."""

    is_authenticated = True
    is_active = True
    pk = None

    def __init__(self) -> None:
        from agencies.roles import UserRoles

        self._challenge_cards_roles = UserRoles(omb_viewer=True)
