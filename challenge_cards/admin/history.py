"""The card history in the admin: append-only, nobody adds, changes or deletes it here."""

from __future__ import annotations

from django.contrib import admin

from ..models import CardUpdate
from ._common import ReadOnlyMixin


def summarize_changes(update: CardUpdate) -> str:
    """'status: not_started → in_progress; metric_value: 0 → 4.80' from the JSON of changes."""
    return "; ".join(
        f"{field}: {'—' if old in (None, '') else old} → {'—' if new in (None, '') else new}"
        for field, (old, new) in update.changes.items()
    )


@admin.register(CardUpdate)
class CardUpdateAdmin(ReadOnlyMixin, admin.ModelAdmin):
    """The append-only history: nobody adds, changes or deletes it here."""

    list_display = ("created_at", "card", "kind", "author", "on_behalf_of", "change_summary", "certification")
    list_filter = ("kind", "status_to", "certification", "created_at", "card__meeting", "card__agency")
    list_select_related = ("card__agency", "author", "on_behalf_of")
    search_fields = ("note", "card__title", "card__agency__abbreviation", "author__username")
    date_hierarchy = "created_at"

    @admin.display(description="changes")
    def change_summary(self, update: CardUpdate) -> str:
        return summarize_changes(update)
