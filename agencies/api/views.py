"""Agencies (read) and /me/: who the caller is, with OMB role and memberships."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import filters, viewsets
from rest_framework.response import Response
from rest_framework.views import APIView

from agencies.models import Agency, ApiToken
from core.api.filtering import StrictFilterBackend
from core.api.views import ApiViewMixin

from .filters import AgencyFilter
from .serializers import AgencySerializer, MeSerializer


class AgencyViewSet(ApiViewMixin, viewsets.ReadOnlyModelViewSet):
    """The agencies cards are issued to (CFO Act agencies and sub-agencies such as IRS)."""

    serializer_class = AgencySerializer
    filterset_class = AgencyFilter
    filter_backends = [
        StrictFilterBackend,
        filters.SearchFilter,
        filters.OrderingFilter,
    ]
    search_fields = ["name", "abbreviation"]
    ordering_fields = ["name", "abbreviation", "updated_at", "id"]
    ordering = ["name"]
    etag_kind = "agency"

    def get_queryset(self):
        return Agency.objects.visible_to(self.request.user).order_by("name", "id")

    def retrieve(self, request, *args, **kwargs):
        agency = self.get_object()
        return Response(self.get_serializer(agency).data, headers={"ETag": self.etag(agency)})


class MeView(APIView):
    """The signed-in user: name, OMB role, current agency memberships, and the token in use."""

    @extend_schema(responses={200: MeSerializer}, operation_id="me_retrieve")
    def get(self, request):
        token = request.auth if isinstance(request.auth, ApiToken) else None
        return Response(MeSerializer(request.user, context={"token": token}).data)
