"""API pagination: pages of 50, strict page and page_size numbers (a bad one is a 400)."""

from __future__ import annotations

from django.core.paginator import InvalidPage, Paginator
from rest_framework import exceptions
from rest_framework.pagination import PageNumberPagination

from core.pagination import PAGE_NUMBER, TotalInPagePaginator

MAX_PAGE_SIZE = 200


class ApiPagination(PageNumberPagination):
    """Pages of 50 by default; page_size up to 200. A bad page_size is a 400, never silently clamped."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE

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

    def paginate_queryset(self, queryset, request, view=None):
        self.page_number(request)
        return super().paginate_queryset(queryset, request, view)

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"] = {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE}
                parameter["description"] = f"Results per page, 1 to {MAX_PAGE_SIZE} (default {self.page_size})."
            elif parameter["name"] == self.page_query_param:
                parameter["schema"] = {"type": "integer", "minimum": 1, "maximum": 999_999_999}
        return parameters


class TotalInPagePagination(ApiPagination):
    """ApiPagination reading the count with the page (TotalInPagePaginator): a card's history."""

    django_paginator_class = TotalInPagePaginator


class RowPagePagination(TotalInPagePagination):
    """For a view whose list reads its page itself (a selector's rows with their count); its other
    lists (a card's history) read their count with the page, as TotalInPagePagination.

    The view asks `requested(request)` for the page number and size, reads that page, and gives its
    total to `take(request, total, number)`: the page rules, errors and links stay ApiPagination's.
    """

    def requested(self, request) -> tuple[int, int]:
        """The ?page= number and the page size, each checked (400 when bad)."""
        return self.page_number(request), self.get_page_size(request)

    def take(self, request, total: int, number: int, size: int) -> None:
        """Django's page arithmetic and errors over the count (an empty page past the first is a 404,
        whatever the count), as PageNumberPagination.paginate_queryset would give them."""
        paginator = Paginator(range(total), size)
        try:
            self.page = paginator.page(number)
        except InvalidPage as exc:
            raise exceptions.NotFound(self.invalid_page_message.format(page_number=number, message=str(exc))) from exc
        self.request = request
