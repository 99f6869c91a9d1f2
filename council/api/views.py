"""The council's API: initiatives with their rollup, the conversation on cards, meeting records."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from challenge_cards.api.views import ApiViewSet
from core.api.views import check_if_match
from core.limits import MAX_ID, whole_number

from .. import selectors, services
from ..models import Comment, Initiative, MeetingRecord
from . import serializers as s


@extend_schema_view(
    list=extend_schema(summary="List initiatives with their government-wide rollup"),
    retrieve=extend_schema(summary="One initiative with its rollup, agency shares and trend"),
)
class InitiativeViewSet(ApiViewSet):
    """Initiatives: the total against the target for everyone; agencies' cards as the agency table allows."""

    serializer_class = s.InitiativeSerializer
    filter_backends: list = []
    http_method_names = ["get", "head"]
    etag_kind = "initiative"

    def get_queryset(self):
        return Initiative.objects.visible_to(self.request.user).order_by("title", "id")

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(selectors.with_cards(self.get_queryset()))
        rollups = selectors.rollups_of(request.user, page or [])
        return self.get_paginated_response(s.InitiativeSerializer(rollups, many=True).data)

    def retrieve(self, request, *args, **kwargs):
        initiative = self.get_object()
        rollup = selectors.initiative_rollup(request.user, initiative.pk)
        return Response(s.InitiativeSerializer(rollup).data, headers={"ETag": self.etag(initiative)})


# What the server takes for ?card= (issue 16: the schema declares every limit): an id from 1 to MAX_ID.
CARD_ID_SCHEMA = {"type": "integer", "format": "int64", "minimum": 1, "maximum": MAX_ID}


@extend_schema_view(
    list=extend_schema(
        summary="Comments on the cards you may see (filter with ?card=)",
        parameters=[OpenApiParameter("card", CARD_ID_SCHEMA, description="Only this card's conversation.")],
    ),
    retrieve=extend_schema(summary="One comment"),
)
class CommentViewSet(ApiViewSet):
    """The conversation on a card: post, and edit your own within 15 minutes (If-Match); never delete."""

    serializer_class = s.CommentSerializer
    filter_backends: list = []
    etag_kind = "comment"
    if_match_actions = frozenset({"partial_update"})

    def get_queryset(self):
        comments = (
            Comment.objects.visible_to(self.request.user)
            .select_related("author")
            .prefetch_related("mentions")
            .order_by("created_at", "id")
        )
        card = self.request.query_params.get("card")
        if card is not None:
            card_id = whole_number(card)
            if card_id is None:
                raise ValidationError({"card": ["A card id is a whole number from 1 up."]})
            comments = comments.filter(card_id=card_id)
        return comments

    @extend_schema(summary="Comment on a card", request=s.CommentInputSerializer, responses={201: s.CommentSerializer})
    def create(self, request):
        data = self.validated(s.CommentInputSerializer)
        comment = services.comment_post(actor=request.user, card=data["card"], body=data["body"])
        return self.object_response(comment, status_code=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Edit your comment within 15 minutes",
        request=s.CommentEditSerializer,
        responses={200: s.CommentSerializer},
    )
    def partial_update(self, request, pk=None):
        comment = self.get_object()
        check_if_match(request, self.etag(comment))
        data = self.validated(s.CommentEditSerializer)
        comment = services.comment_edit(
            actor=request.user, comment=comment, body=data["body"], expected_version=comment.version
        )
        return self.object_response(comment)


@extend_schema_view(
    list=extend_schema(summary="Meeting records (published; OMB also sees drafts)"),
    retrieve=extend_schema(summary="One meeting's record, its latest version"),
)
class MeetingRecordViewSet(ApiViewSet):
    """What each meeting recorded: attendance, decisions on each card (those you may see), minutes, versions."""

    serializer_class = s.MeetingRecordSerializer
    filter_backends: list = []
    http_method_names = ["get", "head"]
    etag_kind = "record"

    def get_queryset(self):
        return (
            MeetingRecord.objects.visible_to(self.request.user)
            .select_related("meeting")
            .order_by("-meeting__starts_at")
        )

    def _view(self, record: MeetingRecord):
        return selectors.record_view(self.request.user, record.meeting, record)

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.get_queryset())
        data = s.MeetingRecordSerializer([self._view(record) for record in page or []], many=True).data
        return self.get_paginated_response(data)

    def retrieve(self, request, *args, **kwargs):
        record = self.get_object()
        return Response(s.MeetingRecordSerializer(self._view(record)).data, headers={"ETag": self.etag(record)})
