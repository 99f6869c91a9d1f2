"""django-filter FilterSets shared by the pages (and available to the API)."""

from __future__ import annotations

from collections.abc import Callable

import django_filters
from django import forms

from .forms import AGENCY_HINT
from .models import CardStatus, ChallengeCard, Disposition, Meeting, PmaPriority
from .querysets import agency_typed_q


def _read_once(load: Callable[[], list[tuple[int, str]]]) -> Callable[[], list[tuple[int, str]]]:
    """Choices read when first needed (the form, or checking a chosen value) and then kept."""
    rows: list[tuple[int, str]] | None = None

    def choices() -> list[tuple[int, str]]:
        nonlocal rows
        if rows is None:
            rows = load()
        return rows

    return choices


class CardFilter(django_filters.FilterSet):
    """The card list's filters. The meeting and priority pickers are plain choices read once (one query
    each), so checking a chosen value costs no query of its own. The agency is typed, not picked: a list
    of every agency grew with the council (1,500 options, most of the page) and was slow to use."""

    agency = django_filters.CharFilter(
        method="filter_agency",
        label="Agency",
        max_length=200,
        help_text=AGENCY_HINT,
    )
    meeting = django_filters.ChoiceFilter(empty_label="All meetings")
    status = django_filters.ChoiceFilter(choices=CardStatus.choices, empty_label="Any status")
    disposition = django_filters.ChoiceFilter(choices=Disposition.choices, empty_label="Any disposition")
    priority = django_filters.ChoiceFilter(empty_label="All PMA priorities")
    overdue = django_filters.BooleanFilter(method="filter_overdue", label="Overdue only", widget=forms.CheckboxInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        user = getattr(self.request, "user", None)
        meetings = Meeting.objects.visible_to(user).order_by("-starts_at")
        self.filters["meeting"].extra["choices"] = _read_once(lambda: [(m.pk, str(m)) for m in meetings])
        self.filters["priority"].extra["choices"] = _read_once(
            lambda: [(p.pk, str(p)) for p in PmaPriority.objects.order_by("number")]
        )

    class Meta:
        model = ChallengeCard
        fields = ["agency", "meeting", "status", "disposition", "priority"]

    def filter_agency(self, queryset, name, value):
        return queryset.filter(agency_typed_q(value)) if value.strip() else queryset

    def filter_overdue(self, queryset, name, value):
        return queryset.overdue() if value else queryset
