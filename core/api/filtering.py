"""Query-string filtering for every API list: django-filter behind a NUL-safe, strict front door,
and the filter types the apps' FilterSets share (ids, true/false, UTC times)."""

from __future__ import annotations

import datetime
import operator
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Mapping
from functools import reduce
from typing import Any

from django import forms
from django.db import models
from django.http import QueryDict
from django_filters import filters
from django_filters import rest_framework as django_filters
from drf_spectacular.utils import extend_schema_field
from rest_framework import exceptions
from rest_framework import filters as drf_filters
from rest_framework.settings import api_settings

from core.limits import MAX_ID

from .pagination import CURSOR_PARAM
from .parsers import bad_text

BOOLEAN_WORDS = frozenset({"true", "false", "1", "0"})


# Query parameters that other backends read (pagination, search, ordering, format), never django-filter's.
PLAIN_LIST_PARAMS = frozenset(
    {
        "page",
        "page_size",
        CURSOR_PARAM,
        api_settings.SEARCH_PARAM,
        api_settings.ORDERING_PARAM,
        api_settings.URL_FORMAT_OVERRIDE,
    }
)


def is_plain_list(params: Mapping[str, Any]) -> bool:
    """Only pagination, search, ordering or format asked for (a request's query_params): nothing for
    django-filter to apply."""
    return set(params) <= PLAIN_LIST_PARAMS


def search_and_ordering(params: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """The values DRF's SearchFilter and OrderingFilter read (the last one given)."""
    return params.get(api_settings.SEARCH_PARAM), params.get(api_settings.ORDERING_PARAM)


def bad_parameters(params: QueryDict) -> dict[str, list[str]]:
    """Each query parameter whose name or any value holds a NUL (or other text no request may hold), with why."""
    return {
        name: [problem]
        for name, values in params.lists()
        for problem in {bad_text(name) or bad_text(value) for value in values}
        if problem is not None
    }


class KeptLists:
    """A plain list's queryset (is_plain_list: visible to who asks, searched and ordered, nothing filtered),
    built once per key, search and ordering in each thread and copied for each request. Building it cost
    the card list a tenth of its time; the SQL itself is kept too (challenge_cards.selectors.card_list_page).

    The caller promises that `key` (who asks: their roles) and the request's search and ordering
    determine what `build` gives; a request that `build` refuses (a 400) is never kept, and one with a bad
    parameter (bad_parameters: any value, not only the last one the key reads) is refused before the lookup.
    """

    def __init__(self, *, keep: int = 256) -> None:
        self.keep = keep
        self._here = threading.local()

    def queryset(self, key: Hashable, params: QueryDict, build: Callable[[], models.QuerySet]) -> models.QuerySet:
        if not is_plain_list(params):
            return build()
        if errors := bad_parameters(params):
            raise exceptions.ValidationError(errors)
        kept: OrderedDict[Hashable, models.QuerySet] | None = getattr(self._here, "kept", None)
        if kept is None:
            kept = self._here.kept = OrderedDict()
        full_key = (key, *search_and_ordering(params))
        queryset = kept.get(full_key)
        if queryset is None:
            queryset = kept[full_key] = build()
            if len(kept) > self.keep:
                kept.popitem(last=False)
        else:
            kept.move_to_end(full_key)
        return queryset.all()  # a copy: the kept one is never run nor changed


class StrictFilterBackend(django_filters.DjangoFilterBackend):
    """django-filter, after refusing query parameters with NUL characters (400, not a database error)."""

    def filter_queryset(self, request, queryset, view):
        errors = bad_parameters(request.query_params)
        filterset_class = self.get_filterset_class(view, queryset)
        declared = filterset_class.base_filters if filterset_class else {}
        for name, values in request.query_params.lists():
            # An empty ?due_before= would be ignored by django-filter; say it is not a date instead.
            if name in declared and "" in values and not isinstance(declared[name], filters.CharFilter):
                errors.setdefault(name, []).append("Give a value, or leave this parameter out.")
            # django-filter's boolean widget reads any unknown word as "no filter"; refuse it instead.
            elif isinstance(declared.get(name), filters.BooleanFilter) and any(
                value.strip().lower() not in BOOLEAN_WORDS for value in values
            ):
                errors.setdefault(name, []).append("Give true or false.")
        if errors:
            raise exceptions.ValidationError(errors)
        if is_plain_list(request.query_params):  # no FilterSet declares these names (tests/api/test_filters.py)
            # Nothing for django-filter to apply: building its FilterSet and form costs ~2 ms a request.
            return queryset
        return super().filter_queryset(request, queryset, view)


class InSubquery(models.Expression):
    """`column IN (subquery)`; on PostgreSQL `column = ANY(ARRAY(subquery))`: the sub-select then runs
    once, before the scan, and its ids are an index condition, so an OR of it with indexed conditions on
    the same table is a BitmapOr of index scans (an `IN (SELECT ...)` inside an OR is a filter checked on
    every row)."""

    conditional = True
    output_field = models.BooleanField()

    def __init__(self, column: str, queryset: models.QuerySet):
        super().__init__()
        self.column: Any = models.F(column)
        self.subquery: Any = models.Subquery(queryset.order_by().values("pk"))

    def get_source_expressions(self) -> list:
        return [self.column, self.subquery]

    def set_source_expressions(self, exprs) -> None:
        self.column, self.subquery = exprs

    def as_sql(self, compiler, connection, template: str = "{column} IN {subquery}"):
        column, column_params = compiler.compile(self.column)
        subquery, subquery_params = compiler.compile(self.subquery)  # "(SELECT ...)"
        return template.format(column=column, subquery=subquery), [*column_params, *subquery_params]

    def as_postgresql(self, compiler, connection):
        return self.as_sql(compiler, connection, template="{column} = ANY(ARRAY{subquery})")


class IndexedSearchFilter(drf_filters.SearchFilter):
    """DRF's SearchFilter (each term in one of the fields, case-insensitively, the same rows found), in a
    form PostgreSQL answers from indexes instead of reading every row:

    - a field across a relation (`agency__name`) is searched in its own table, all of one relation's
      fields at once: `agency_id = ANY(ARRAY(SELECT id FROM agency WHERE name ... OR abbreviation ...))`,
      so each term's OR is over the table's own columns: a BitmapOr of index scans (the trigram indexes on
      the searched text, the foreign key's index);
    - the matching ids are picked first, `id = ANY(ARRAY(SELECT id ... WHERE <the terms>))`: the list's
      own query (its visibility, order, page) then reads those few rows by primary key, where it would
      otherwise walk its order's index filtering every row (the planner cannot tell how few match).

    Fields with DRF's prefixes (^ = @ $) go through DRF as before.
    """

    def _term(self, model: type[models.Model], fields: list[str], term: str) -> Any:
        conditions: list[Any] = []
        related: dict[str, list[str]] = {}
        for field in fields:
            relation, _, rest = field.partition("__")
            link = model._meta.get_field(relation) if rest else None
            if link is not None and link.many_to_one and link.concrete and link.related_model:
                related.setdefault(relation, []).append(rest)
            else:
                conditions.append(models.Q(**{f"{field}__icontains": term}))
        for relation, paths in related.items():
            target = model._meta.get_field(relation).related_model._default_manager  # type: ignore[union-attr]
            found = target.filter(reduce(operator.or_, [models.Q(**{f"{path}__icontains": term}) for path in paths]))
            found = found.order_by()
            conditions.append(InSubquery(relation, found))
        return reduce(operator.or_, conditions)

    def filter_queryset(self, request, queryset, view):
        fields = self.get_search_fields(view, request)
        terms = self.get_search_terms(request)
        if not fields or not terms or any(field[0] in self.lookup_prefixes for field in fields):
            return super().filter_queryset(request, queryset, view)
        matching = queryset.model._default_manager.order_by()
        for term in terms:
            matching = matching.filter(self._term(queryset.model, list(fields), term))
        return queryset.filter(InSubquery("pk", matching))


class IdField(forms.IntegerField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(*args, **kwargs)


@extend_schema_field({"type": "integer", "format": "int64", "minimum": 1, "maximum": MAX_ID})
class IdFilter(django_filters.NumberFilter):
    """An id: a whole number from 1 to MAX_ID (not a decimal, as NumberFilter would take), so declared."""

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


class StrictBooleanFilter(django_filters.BooleanFilter):
    field_class = StrictBooleanField

    def __init__(self, *args, **kwargs):
        kwargs["widget"] = forms.TextInput  # the default widget turns any unknown value into "no filter"
        super().__init__(*args, **kwargs)


# The years a time may give, as written (before it is read as UTC), declared in the schema as a pattern.
FIRST_YEAR, LAST_YEAR = 1900, 2200
DATE_TIME_SCHEMA = {"type": "string", "format": "date-time", "pattern": "^(19[0-9]{2}|2[01][0-9]{2}|2200)-"}


class UtcDateTimeField(django_filters.IsoDateTimeFilter.field_class):
    """An ISO 8601 time, as UTC: PostgreSQL refuses offsets past 15:59 and years out of its range."""

    def clean(self, value):
        value = super().clean(value)
        if value is None:
            return None
        if not FIRST_YEAR <= value.year <= LAST_YEAR:
            raise forms.ValidationError(f"Give a time between the years {FIRST_YEAR} and {LAST_YEAR}.")
        return value.astimezone(datetime.UTC)


@extend_schema_field(DATE_TIME_SCHEMA)
class UtcDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = UtcDateTimeField
