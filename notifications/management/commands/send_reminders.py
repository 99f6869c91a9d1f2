"""Run the reminder scan now: the same code beat runs every few minutes."""

from django.core.management.base import BaseCommand

from notifications import services


class Command(BaseCommand):
    help = "Create and queue every reminder and notification due now, and print what was queued."

    def add_arguments(self, parser):
        parser.add_argument("--sweep", action="store_true", help="Also queue again what is still undelivered.")

    def handle(self, *args, **options):
        result = services.reminders_scan()
        self.stdout.write(f"Queued {len(result.created)} notifications.")
        for line in result.lines():
            self.stdout.write(line)
        if options["sweep"]:
            notes, hooks = services.undelivered_sweep()
            self.stdout.write(f"Queued again {len(notes)} notifications and {len(hooks)} webhook deliveries.")
