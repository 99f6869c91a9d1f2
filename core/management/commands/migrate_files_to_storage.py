"""Copy the files the database refers to from a local folder into the configured storage (object storage).

`python manage.py migrate_files_to_storage [--source MEDIA_FOLDER] [--dry-run]`: for every file field of
every model, each stored name is copied from the folder to STORAGES["default"] under the same name.
Idempotent: a file already there with the same size is left alone, so it can be run again after an
interruption, or while the site runs (then once more after the switch, for files uploaded meanwhile).
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.core.management.base import BaseCommand, CommandError
from django.db import models
from tqdm import tqdm


def stored_names() -> list[str]:
    """Every file name a file field of any model refers to (core knows no app: it asks the registry)."""
    names: set[str] = set()
    for model in apps.get_models():
        for field in model._meta.get_fields():
            if isinstance(field, models.FileField):
                values = model._base_manager.exclude(**{field.name: ""}).exclude(**{f"{field.name}__isnull": True})
                names.update(values.values_list(field.name, flat=True))
    return sorted(names)


class Command(BaseCommand):
    help = "Copy the files the database refers to from the local media folder into the configured storage."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--source", default=str(settings.MEDIA_ROOT), help="Local folder (default: MEDIA_ROOT).")
        parser.add_argument("--dry-run", action="store_true", help="Say what would be copied; copy nothing.")

    def handle(self, *args, source: str, dry_run: bool, **options) -> None:
        folder = Path(source)
        if not folder.is_dir():
            raise CommandError(f"No folder {folder}.")
        names = stored_names()
        counts: Counter = Counter()
        backend = settings.STORAGES["default"]["BACKEND"]
        self.stdout.write(f"{len(names)} files to check, from {folder} to {backend}.")
        for name in tqdm(names, unit="file", disable=options["verbosity"] < 1 or not names):
            counts[self._copy(folder, name, dry_run=dry_run)] += 1
        summary = ", ".join(f"{what}: {counts[what]}" for what in ("copied", "already there", "missing locally"))
        self.stdout.write(self.style.SUCCESS(("Dry run. " if dry_run else "") + summary))
        if counts["missing locally"]:
            self.stderr.write(f"{counts['missing locally']} files the database names are not under {folder}.")

    def _copy(self, folder: Path, name: str, *, dry_run: bool) -> str:
        local = folder / name
        if not local.is_file():
            return "missing locally"
        if default_storage.exists(name) and default_storage.size(name) == local.stat().st_size:
            return "already there"
        if dry_run:
            return "copied"
        if default_storage.exists(name):  # a copy cut short: replace it
            default_storage.delete(name)
        with local.open("rb") as content:
            saved = default_storage.save(name, File(content, name=name))
        if saved != name:
            raise CommandError(f"{name} was stored as {saved}; the database would no longer find it.")
        return "copied"
