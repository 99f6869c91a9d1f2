"""The API's card search from trigram indexes (pg_trgm) on UPPER(title) and UPPER(ask): the expression
Django's icontains compares (core.api.filtering.IndexedSearchFilter), so `?search=` reads the indexes
instead of every card.

PostgreSQL only, and outside the models' state (a GIN index exists nowhere else): on SQLite (`make run`
without DATABASE_URL) this migration does nothing. pg_trgm is a trusted extension (PostgreSQL 13+): the
database's owner may create it.
"""

from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations

TABLE = "challenge_cards_challengecard"
INDEXES = {"card_title_trgm": "title", "card_ask_trgm": "ask"}


def create_indexes(apps, schema_editor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, column in INDEXES.items():
        schema_editor.execute(
            f'CREATE INDEX IF NOT EXISTS "{name}" ON "{TABLE}" USING gin (UPPER("{column}") gin_trgm_ops)'
        )


def drop_indexes(apps, schema_editor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f'DROP INDEX IF EXISTS "{name}"')


class Migration(migrations.Migration):
    dependencies = [
        ("challenge_cards", "0006_briefingpacket_status_since"),
    ]

    operations = [
        TrigramExtension(),  # skipped on other databases
        migrations.RunPython(create_indexes, drop_indexes, elidable=False),
    ]
