"""Fill the database with demo data: `python manage.py seed_demo [--password P] [--scale small|large]`."""

import argparse
import time

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from challenge_cards import demo
from challenge_cards.management import bulk_demo


class Command(BaseCommand):
    help = (
        "Create the demo: the 2021 PMA, the 24 CFO Act agencies and sub-agencies, OMB and agency users, "
        "four monthly meetings and challenge cards with history. --scale large adds benchmark volume "
        "(500 agencies, 30,000 cards, 150,000 follow-up actions). Safe to run again."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--password", default=demo.DEFAULT_PASSWORD, help="Password of every demo account.")
        parser.add_argument("--scale", choices=["small", "large"], default="small")
        parser.add_argument(
            "--i-know-this-is-production",
            action="store_true",
            dest="production_confirmed",
            help="Seed even under production settings (it creates an OMB admin account with a known password).",
        )
        # Benchmark sizes; tests shrink them.
        parser.add_argument("--agencies", type=int, default=500, help=argparse.SUPPRESS)
        parser.add_argument("--cards-per-agency", type=int, default=60, help=argparse.SUPPRESS)
        parser.add_argument("--actions-per-card", type=int, default=5, help=argparse.SUPPRESS)

    def handle(self, *args, **options) -> None:
        if getattr(settings, "PRODUCTION", False) and not options["production_confirmed"]:
            raise CommandError(
                "These are production settings: seed_demo would create demo accounts, an OMB admin among them, "
                "with a known password. Run it with --i-know-this-is-production if that is really meant."
            )
        started = time.monotonic()
        counts = demo.seed(password=options["password"])
        if options["scale"] == "large":
            admin = get_user_model().objects.get(username=demo.ADMIN_USERNAME)
            added = bulk_demo.build(
                admin=admin,
                agencies=options["agencies"],
                cards_per_agency=options["cards_per_agency"],
                actions_per_card=options["actions_per_card"],
                progress=options["verbosity"] > 0,
            )
            if not added:
                self.stdout.write("The benchmark data was already there; nothing added.")
            counts = demo.counts()
        self.stdout.write(self.style.SUCCESS(f"Demo data ready in {time.monotonic() - started:.1f} s."))
        for name, count in counts.items():
            self.stdout.write(f"  {name}: {count:,}")
        self.stdout.write(
            "Sign in as omb.admin (OMB admin; the admin is at /admin/), omb.viewer (OMB viewer), "
            "deputy.<agency> or delegate.<agency> (for example deputy.usda, delegate.treasury), "
            f"password: {options['password']}"
        )
