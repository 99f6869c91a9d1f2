"""FilterSets for the API lists: what an agency tool needs to find things and to sync."""

from __future__ import annotations

import datetime

from django import forms
from django.utils import timezone
from django_filters import rest_framework as filters

from challenge_cards.forms import MAX_ID  # one bound for ids in pages and API
from challenge_cards.models import (
    ActionOwnerSide,
    ActionStatus,
    CardStatus,
    ChallengeCard,
    Disposition,
    FollowUpAction,
    Horizon,
    Meeting,
)
from challenge_cards.querysets import overdue_action_q, overdue_card_q


class IdField(forms.IntegerField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(*args, **kwargs)


class IdFilter(filters.NumberFilter):
    """An id: a whole number (not a decimal, as NumberFilter would take)."""

    field_class = IdField


class StrictBooleanField(forms.Field):
    """true/false (or 1/0); anything else is a 400 instead of being ignored."""

    def to_python(self, value):
        if value in (None, ""):
            return None
        text = str(value).strip().lower()
        if text in ("true", "1"):
            return True
        if text in ("false", "0"):
            return False
        raise forms.ValidationError("Give true or false.")


class StrictBooleanFilter(filters.BooleanFilter):
    field_class = StrictBooleanField

    def __init__(self, *args, **kwargs):
        kwargs["widget"] = forms.TextInput  # the default widget turns any unknown value into "no filter"
        super().__init__(*args, **kwargs)


class UtcDateTimeField(filters.IsoDateTimeFilter.field_class):
    """An ISO 8601 time, as UTC: PostgreSQL refuses offsets past 15:59 and years out of its range."""

    def clean(self, value):
        value = super().clean(value)
        if value is None:
            return None
        if not 1900 <= value.year <= 2200:
            raise forms.ValidationError("Give a time between the years 1900 and 2200.")
        return value.astimezone(datetime.UTC)


class UtcDateTimeFilter(filters.IsoDateTimeFilter):
    field_class = UtcDateTimeField


UPDATED_SINCE_HELP = "Only what changed at or after this time (ISO 8601 with time zone), for syncing."


class CardFilter(filters.FilterSet):
    status = filters.MultipleChoiceFilter(choices=CardStatus.choices)
    disposition = filters.MultipleChoiceFilter(choices=Disposition.choices)
    horizon = filters.ChoiceFilter(choices=Horizon.choices)
    agency = IdFilter(field_name="agency_id")
    meeting = IdFilter(field_name="meeting_id")
    priority = IdFilter(field_name="priority_id")
    due_before = filters.DateFilter(field_name="due_date", lookup_expr="lte", label="Due on or before this date.")
    due_after = filters.DateFilter(field_name="due_date", lookup_expr="gte", label="Due on or after this date.")
    overdue = StrictBooleanFilter(method="filter_overdue", label="Open, not done, and past its due date.")
    updated_since = UtcDateTimeFilter(field_name="updated_at", lookup_expr="gte", label=UPDATED_SINCE_HELP)

    class Meta:
        model = ChallengeCard
        fields: list[str] = []

    def filter_overdue(self, queryset, name, value):
        condition = overdue_card_q(timezone.localdate())
        return queryset.filter(condition) if value else queryset.exclude(condition)


class ActionFilter(filters.FilterSet):
    status = filters.MultipleChoiceFilter(choices=ActionStatus.choices)
    owned_by = filters.ChoiceFilter(choices=ActionOwnerSide.choices)
    card = IdFilter(field_name="card_id")
    agency = IdFilter(field_name="card__agency_id")
    meeting = IdFilter(field_name="card__meeting_id")
    due_before = filters.DateFilter(field_name="due_date", lookup_expr="lte", label="Due on or before this date.")
    due_after = filters.DateFilter(field_name="due_date", lookup_expr="gte", label="Due on or after this date.")
    overdue = StrictBooleanFilter(method="filter_overdue", label="Open and past its due date.")
    updated_since = UtcDateTimeFilter(field_name="updated_at", lookup_expr="gte", label=UPDATED_SINCE_HELP)

    class Meta:
        model = FollowUpAction
        fields: list[str] = []

    def filter_overdue(self, queryset, name, value):
        condition = overdue_action_q(timezone.localdate())
        return queryset.filter(condition) if value else queryset.exclude(condition)


class MeetingFilter(filters.FilterSet):
    status = filters.MultipleChoiceFilter(choices=Meeting.Status.choices)
    starts_after = UtcDateTimeFilter(field_name="starts_at", lookup_expr="gte")
    starts_before = UtcDateTimeFilter(field_name="starts_at", lookup_expr="lte")
    updated_since = UtcDateTimeFilter(field_name="updated_at", lookup_expr="gte", label=UPDATED_SINCE_HELP)

    class Meta:
        model = Meeting
        fields: list[str] = []
