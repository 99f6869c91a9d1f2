"""API pagination: pages of 50, strict page and page_size numbers (a bad one is a 400), and cursors.

A list is walked by its `next` links, which carry an opaque, signed `cursor`: the order key of the
page's last row (first row, going back). A cursor page reads `WHERE (order key) > (that key) ...
LIMIT n` on an index, so page 1,500 costs what page 2 costs, and carries no `count` (the exact
total grows with the data; a tool walking the list does not need it). `?page=N` still answers as
before, with the total (v1 clients), and costs more the deeper it goes (OFFSET).
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from django.core.paginator import InvalidPage, Paginator
from django.db import models
from rest_framework import exceptions
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param

from core.pagination import (
    MAX_CURSOR,
    PAGE_NUMBER,
    BadCursor,
    Position,
    TotalInPagePaginator,
    key_of,
    keyset_fields,
    keyset_slice,
    total_order,
)

MAX_PAGE_SIZE = 200
CURSOR_PARAM = "cursor"


def _bad_cursor(message: str) -> Exception:
    """A 404, as for a page past the end: a cursor is opaque, so the schema cannot tell a good one from a
    bad one, and a request the schema allows is never a 400 (docs/api.md, tests/api/test_schemathesis.py)."""
    return exceptions.NotFound(message)


def position_of(token: str, model: type[models.Model], order: tuple[str, ...]) -> Position:
    """The position a cursor names (core.pagination.Position.of); a 404 for a bad one."""
    try:
        return Position.of(token, model, order)
    except BadCursor as exc:
        raise _bad_cursor(str(exc)) from exc


class ApiPagination(PageNumberPagination):
    """Pages of 50 by default; page_size up to 200. A bad page_size is a 400, never silently clamped.

    Lists whose order is over fields that are never NULL are walked by cursors (see the module doc);
    the order is made total (the id breaks ties), for page numbers too. Other lists keep page links.
    """

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE
    cursor_query_param = CURSOR_PARAM

    # Set for each response: the position of a cursor page (None: a page number), the links' keys.
    position: Position | None = None
    order: tuple[str, ...] | None = None
    model: type[models.Model] | None = None
    next_key: tuple[Any, ...] | None = None
    previous_key: tuple[Any, ...] | None = None

    def get_page_size(self, request) -> int:
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        if not PAGE_NUMBER.fullmatch(raw) or not 1 <= int(raw) <= MAX_PAGE_SIZE:
            raise exceptions.ValidationError({"page_size": [f"Give a whole number from 1 to {MAX_PAGE_SIZE}."]})
        return int(raw)

    def page_number(self, request) -> int:
        """The ?page= number: a whole number of 1 or more (not DRF's "last"), else a 400."""
        raw = request.query_params.get(self.page_query_param)
        if raw is None:
            return 1
        if not PAGE_NUMBER.fullmatch(raw) or int(raw) < 1:
            raise exceptions.ValidationError({"page": ["Give a page number of 1 or more."]})
        return int(raw)

    def keyset(self, request, queryset: models.QuerySet) -> tuple[models.QuerySet, Position | None]:
        """The queryset in its total order, and the cursor's position (None: a page number is asked for).

        A cursor comes before a page number (`page` is then ignored); a bad cursor, or one on a list
        without cursors, is a 404.
        """
        self.request, self.position, self.next_key, self.previous_key = request, None, None, None
        self.from_start = False
        self.model = queryset.model if isinstance(queryset, models.QuerySet) else None
        order = total_order(queryset.query.order_by or self.model._meta.ordering) if self.model else None
        self.order = order if order and self.model and keyset_fields(self.model, order) else None
        if self.order:
            queryset = queryset.order_by(*self.order)
        token = request.query_params.get(self.cursor_query_param)
        if not token:  # no cursor, or an empty one: the page by number
            self.page_number(request)
            return queryset, None
        if self.order is None:
            raise _bad_cursor("This list is paged by page number only.")
        self.position = position_of(token, queryset.model, self.order)
        return queryset, self.position

    def cursor_page(self, items: list, keys: list[tuple[Any, ...]], size: int) -> list:
        """A cursor page from the `size` + 1 rows read in the way walked, and their keys: the page in
        order, and the keys its links start from."""
        assert self.position is not None
        more = len(items) > size
        items, keys = items[:size], keys[:size]
        if self.position.backwards:
            items.reverse()
            keys.reverse()
        if items:
            # Going forward there is a row before the first (the cursor's); going back, after the last.
            self.previous_key = keys[0] if more or not self.position.backwards else None
            self.next_key = keys[-1] if more or self.position.backwards else None
        self.from_start = not items and self.position.backwards  # nothing before the cursor's row
        return items

    def paginate_queryset(self, queryset, request, view=None):
        queryset, position = self.keyset(request, queryset)
        if position is None:
            page: list | None = super().paginate_queryset(queryset, request, view)
            if page and self.order and self.page and self.page.has_next():
                self.next_key = key_of(page[-1], self.order)
            return page
        assert self.order is not None
        size = self.get_page_size(request)
        rows = list(keyset_slice(queryset, self.order, position.values, backwards=position.backwards, size=size))
        return self.cursor_page(rows, [key_of(row, self.order) for row in rows], size)

    def _cursor_link(self, key: tuple[Any, ...] | None, *, backwards: bool) -> str | None:
        if key is None or self.order is None or self.model is None or self.request is None:
            return None
        url = remove_query_param(self.request.build_absolute_uri(), self.page_query_param)
        token = Position(self.order, key, backwards).token(self.model)
        return replace_query_param(url, self.cursor_query_param, token)

    def get_next_link(self) -> str | None:
        if self.position is None and self.order is None:
            return super().get_next_link()  # a list without a keyset keeps page links
        if self.from_start and self.request is not None:
            # Walked back past the first row: the way on is the first page (the cursor's row is on it).
            url = remove_query_param(self.request.build_absolute_uri(), self.cursor_query_param)
            return remove_query_param(url, self.page_query_param)
        return self._cursor_link(self.next_key, backwards=False)

    def get_previous_link(self) -> str | None:
        if self.position is None:
            return super().get_previous_link()  # from a page number, the page before it
        return self._cursor_link(self.previous_key, backwards=True)

    def get_paginated_response(self, data) -> Response:
        if self.position is None:
            return super().get_paginated_response(data)
        return Response(
            OrderedDict([("next", self.get_next_link()), ("previous", self.get_previous_link()), ("results", data)])
        )

    def get_paginated_response_schema(self, schema: dict) -> dict:
        described = super().get_paginated_response_schema(schema)
        described["required"] = ["next", "previous", "results"]
        described["properties"]["count"]["description"] = (
            "The total, on pages asked for by number (and the first page); cursor pages leave it out."
        )
        described["properties"]["next"]["description"] = "The next page: a cursor link (null on the last page)."
        return described

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"] = {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE}
                parameter["description"] = f"Results per page, 1 to {MAX_PAGE_SIZE} (default {self.page_size})."
            elif parameter["name"] == self.page_query_param:
                parameter["schema"] = {"type": "integer", "minimum": 1, "maximum": 999_999_999}
                parameter["description"] = (
                    "A page number (with the total in count). Deep pages cost more: follow the next links "
                    "(cursors) to walk a list. Ignored with a cursor."
                )
        parameters.append(
            {
                "name": self.cursor_query_param,
                "required": False,
                "in": "query",
                "description": "Opaque: where a page starts, from a next or previous link (a bad one is a 404).",
                "schema": {"type": "string", "maxLength": MAX_CURSOR},
            }
        )
        return parameters


class TotalInPagePagination(ApiPagination):
    """ApiPagination reading the count with the page (TotalInPagePaginator): a card's history."""

    django_paginator_class = TotalInPagePaginator


class RowPagePagination(TotalInPagePagination):
    """For a view whose list reads its page itself (a selector's rows with their count); its other
    lists (a card's history) read their count with the page, as TotalInPagePagination.

    The view asks `requested(request, queryset)` for the queryset in its total order, the position
    (a cursor) or page number, and the size; reads that page; and gives it to `take_page` or
    `take_cursor_page`: the page rules, errors and links stay ApiPagination's.
    """

    def requested(self, request, queryset: models.QuerySet) -> tuple[models.QuerySet, Position | None, int, int]:
        """The queryset in total order, the cursor's position (None: by number), the ?page= number and
        the page size, each checked (400 when bad)."""
        queryset, position = self.keyset(request, queryset)
        return queryset, position, self.page_number(request) if position is None else 1, self.get_page_size(request)

    def take_page(self, request, total: int, number: int, size: int, last_key: tuple[Any, ...] | None) -> None:
        """Django's page arithmetic and errors over the count (an empty page past the first is a 404,
        whatever the count), as PageNumberPagination.paginate_queryset would give them."""
        paginator = Paginator(range(total), size)
        try:
            self.page = paginator.page(number)
        except InvalidPage as exc:
            raise exceptions.NotFound(self.invalid_page_message.format(page_number=number, message=str(exc))) from exc
        self.request = request
        if self.order and self.page.has_next():
            self.next_key = last_key
