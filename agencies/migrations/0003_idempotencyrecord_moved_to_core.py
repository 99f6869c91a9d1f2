"""IdempotencyRecord is API plumbing: it moved to the core app. The table and its rows stay."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("agencies", "0002_api_tokens"),
        ("core", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="IdempotencyRecord")],
            database_operations=[],
        ),
    ]
