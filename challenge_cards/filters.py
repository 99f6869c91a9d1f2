"""django-filter FilterSets shared by the pages (and available to the API)."""

from __future__ import annotations

import django_filters
from django import forms

from agencies.models import Agency

from .models import CardStatus, ChallengeCard, Disposition, Meeting, PmaPriority


def _agencies(request):
    return Agency.objects.visible_to(getattr(request, "user", None)).order_by("name")


def _meetings(request):
    return Meeting.objects.visible_to(getattr(request, "user", None)).order_by("-starts_at")


class CardFilter(django_filters.FilterSet):
    agency = django_filters.ModelChoiceFilter(queryset=_agencies, empty_label="All agencies")
    meeting = django_filters.ModelChoiceFilter(queryset=_meetings, empty_label="All meetings")
    status = django_filters.ChoiceFilter(choices=CardStatus.choices, empty_label="Any status")
    disposition = django_filters.ChoiceFilter(choices=Disposition.choices, empty_label="Any disposition")
    priority = django_filters.ModelChoiceFilter(queryset=PmaPriority.objects.all(), empty_label="All PMA priorities")
    overdue = django_filters.BooleanFilter(method="filter_overdue", label="Overdue only", widget=forms.CheckboxInput)

    class Meta:
        model = ChallengeCard
        fields = ["agency", "meeting", "status", "disposition", "priority"]

    def filter_overdue(self, queryset, name, value):
        return queryset.overdue() if value else queryset
