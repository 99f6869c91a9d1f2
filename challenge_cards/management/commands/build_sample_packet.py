"""Write a briefing packet PDF from the data in the database: `python manage.py build_sample_packet`.

With the demo data (`python manage.py seed_demo`), this makes docs/sample-briefing-packet.pdf.
It builds the packet the way the Celery task does (services.packet_build), synchronously.
"""

from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from challenge_cards import services
from challenge_cards.models import BriefingPacket, Meeting


class Command(BaseCommand):
    help = "Build the briefing packet PDF of a meeting (default: the next scheduled one) and write it to a file."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--meeting", type=int, help="Meeting id (default: the next scheduled meeting).")
        parser.add_argument("--output", default=str(Path(settings.BASE_DIR) / "docs" / "sample-briefing-packet.pdf"))
        parser.add_argument("--admin", default="omb.admin", help="The OMB admin the packet is built for.")

    def handle(self, *args, **options) -> None:
        admin = get_user_model().objects.filter(username=options["admin"]).first()
        if admin is None:
            raise CommandError(f"No user {options['admin']}: run `python manage.py seed_demo` first.")
        meetings = Meeting.objects.all()
        meeting = (
            meetings.filter(pk=options["meeting"]).first() if options["meeting"] else meetings.next_meeting()
        ) or meetings.exclude(status=Meeting.Status.CANCELLED).order_by("-starts_at").first()
        if meeting is None:
            raise CommandError("No meeting to build a packet for.")
        packet = BriefingPacket.objects.create(meeting=meeting, requested_by=admin)
        services.packet_build(packet_id=packet.pk)
        packet = BriefingPacket.objects.defer("pdf").get(pk=packet.pk)
        if packet.status != BriefingPacket.Status.READY:
            raise CommandError(f"The packet was not built: {packet.error}")
        output = Path(options["output"])
        output.parent.mkdir(parents=True, exist_ok=True)
        length, pieces = services.packet_pdf_pieces(packet)
        partial = output.with_name(output.name + ".partial")
        try:
            with partial.open("wb") as file:  # a piece at a time, as the download sends it
                written = sum(file.write(piece) for piece in pieces)
        except BaseException:
            partial.unlink(missing_ok=True)  # nothing half-written is left beside the output
            raise
        if written != length:
            partial.unlink()
            raise CommandError(f"The packet changed while it was written to {output}: run the command again.")
        partial.replace(output)  # whole, or not at all
        self.stdout.write(
            self.style.SUCCESS(f"Wrote {output} ({length:,} bytes, {packet.card_count} cards, {meeting.title}).")
        )
