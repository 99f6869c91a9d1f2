"""FilterSets for the API lists: what an agency tool needs to find things and to sync."""

from __future__ import annotations

from django.utils import timezone
from django_filters import rest_framework as filters

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
from core.api.filtering import IdFilter, StrictBooleanFilter, UtcDateTimeFilter

UPDATED_SINCE_HELP = "Only what changed at or after this time (ISO 8601 with time zone), for syncing."


class CardFilter(filters.FilterSet):
    status = filters.MultipleChoiceFilter(choices=CardStatus.choices)
    disposition = filters.MultipleChoiceFilter(
        choices=Disposition.choices,
        label=(
            "Without this filter (and without updated_since) the list leaves out carried-over cards: each is"
            " superseded by its successor, which continues it. Give disposition=carried_over to get them."
        ),
    )
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
