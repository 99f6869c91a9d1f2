"""API exports: cards and follow-up actions as CSV or XLSX, with the same filters as the API lists.

GET /api/v1/cards/export.csv, /cards/export.xlsx, /actions/export.csv, /actions/export.xlsx.
Scoped by visible_to(user) like the lists; not paginated (the file holds every matching row).
Included by config/api.py ahead of the router, whose cards/<pk> route would otherwise take
"export.csv" for an id.
"""

from __future__ import annotations

from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import filters, generics
from rest_framework.renderers import JSONRenderer

from challenge_cards import exports
from challenge_cards.models import ChallengeCard, FollowUpAction
from core.api.filtering import StrictFilterBackend
from core.api.schema import ProblemAutoSchema

from .filters import ActionFilter, CardFilter


class CsvRenderer(JSONRenderer):
    """Lets a client ask for text/csv; the file itself is written by exports, errors stay problem JSON."""

    media_type = "text/csv"
    format = "csv"


class XlsxRenderer(JSONRenderer):
    media_type = exports.XLSX_TYPE
    format = "xlsx"


class ExportSchema(ProblemAutoSchema):
    """An export is a list without pages: document the list's filter parameters, not pagination."""

    def get_filter_backends(self):
        return getattr(self.view, "filter_backends", [])


def _file_response(file_format: str) -> dict:
    media = "text/csv" if file_format == "csv" else exports.XLSX_TYPE
    kind = "CSV (UTF-8 with a byte order mark)" if file_format == "csv" else "An Excel workbook (XLSX)"
    return {
        (200, media): OpenApiResponse(
            OpenApiTypes.STR if file_format == "csv" else OpenApiTypes.BINARY,
            description=f"{kind}: a header row, then one row per match. Sent as an attachment.",
        )
    }


class _ExportView(generics.GenericAPIView):
    schema = ExportSchema()
    filter_backends = [StrictFilterBackend, filters.SearchFilter]
    pagination_class = None
    file_format = "csv"
    file_name = ""

    def get_renderers(self):
        preferred = CsvRenderer() if self.file_format == "csv" else XlsxRenderer()
        return [preferred, JSONRenderer()]

    def rows(self, queryset):
        raise NotImplementedError

    def get(self, request, *args, **kwargs):
        header, rows = self.rows(self.filter_queryset(self.get_queryset()))
        return exports.response(header, rows, file_format=self.file_format, name=self.file_name)


class CardExportView(_ExportView):
    """Challenge cards you may see, filtered like GET /api/v1/cards/."""

    filterset_class = CardFilter
    search_fields = ["title", "ask", "agency__abbreviation", "agency__name"]
    file_name = "challenge-cards"
    operation = "cards"

    def get_queryset(self):
        return ChallengeCard.objects.visible_to(self.request.user)

    def rows(self, queryset):
        return exports.card_rows(queryset)


class ActionExportView(_ExportView):
    """Follow-up actions you may see, filtered like GET /api/v1/actions/."""

    filterset_class = ActionFilter
    search_fields = ["description", "owner_name"]
    file_name = "follow-up-actions"
    operation = "actions"

    def get_queryset(self):
        return FollowUpAction.objects.visible_to(self.request.user)

    def rows(self, queryset):
        return exports.action_rows(queryset)


def _view(view_class, file_format: str, summary: str):
    """A view per file format, each with its own documented operation."""

    def get(self, request, *args, **kwargs):
        return view_class.get(self, request, *args, **kwargs)

    documented = extend_schema(
        summary=summary,
        responses=_file_response(file_format),
        operation_id=f"{view_class.operation}_export_{file_format}",
    )(get)
    subclass: type[_ExportView] = type(
        f"{view_class.__name__}{file_format.capitalize()}",
        (view_class,),
        {"file_format": file_format, "get": documented, "__doc__": view_class.__doc__},
    )
    return subclass.as_view()


urlpatterns = [
    path("cards/export.csv", _view(CardExportView, "csv", "Export cards as CSV"), name="api-card-export-csv"),
    path("cards/export.xlsx", _view(CardExportView, "xlsx", "Export cards as XLSX"), name="api-card-export-xlsx"),
    path(
        "actions/export.csv",
        _view(ActionExportView, "csv", "Export follow-up actions as CSV"),
        name="api-action-export-csv",
    ),
    path(
        "actions/export.xlsx",
        _view(ActionExportView, "xlsx", "Export follow-up actions as XLSX"),
        name="api-action-export-xlsx",
    ),
]
