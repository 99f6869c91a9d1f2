"""Filters for the agency list."""

from django_filters import rest_framework as filters

from agencies.models import Agency
from core.api.filtering import IdFilter, StrictBooleanFilter


class AgencyFilter(filters.FilterSet):
    active = StrictBooleanFilter()
    cfo_act = StrictBooleanFilter()
    hisp = StrictBooleanFilter()
    parent = IdFilter(field_name="parent_id")

    class Meta:
        model = Agency
        fields: list[str] = []
