"""API endpoints for meetings, challenge cards, their history and follow-up actions.

Thin on purpose: every read starts from visible_to(user) (another agency's object is a
404), every write is one call to a services function, and every change to an existing
object needs the If-Match the caller last read (428 without it, 412 when stale).
"""

from __future__ import annotations

from typing import cast

from django.db import transaction
from django.db.models import Prefetch
from django.urls import reverse
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import filters, mixins, permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.response import Response

from agencies.roles import roles_of
from challenge_cards import permissions as rules
from challenge_cards import selectors, services
from challenge_cards.models import ChallengeCard, Disposition, FollowUpAction, Meeting
from core.api.filtering import IndexedSearchFilter, KeptLists, StrictFilterBackend
from core.api.pagination import RowPagePagination
from core.api.renderers import native_dates
from core.api.rows import Clock
from core.api.serializers import StrictSerializer
from core.api.views import ApiViewMixin, check_if_match

from . import serializers as s
from .filters import ActionFilter, CardFilter, MeetingFilter

OMB_ONLY_FIELDS = ("omb_rating", "disposition", "disposition_reason")


class WritesNeedAnEditingRole(permissions.BasePermission):
    """Viewers (OMB or agency) read everything they may see and change nothing: 403 on any write."""

    message = "You have read-only access."

    def has_permission(self, request, view) -> bool:
        return request.method in permissions.SAFE_METHODS or not rules.is_read_only(request.user)


class EmptyInputSerializer(StrictSerializer):
    """No fields: the request's path says it all."""


class ApiViewSet(ApiViewMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    permission_classes = [permissions.IsAuthenticated, WritesNeedAnEditingRole]
    filter_backends = [
        StrictFilterBackend,
        IndexedSearchFilter,  # the cards' search reads the trigram indexes (migration 0007)
        filters.OrderingFilter,
    ]
    http_method_names = ["get", "post", "patch", "head"]

    def retrieve(self, request, *args, **kwargs):
        obj = self.get_object()
        return self.object_response(obj)

    def object_response(self, obj, *, status_code: int = status.HTTP_200_OK, serializer_class=None) -> Response:
        data = (serializer_class or self.get_serializer_class())(obj, context=self.get_serializer_context()).data
        headers = {"ETag": self.etag(obj)}
        if status_code == status.HTTP_201_CREATED:
            headers["Location"] = reverse(f"{self.basename}-detail", args=[obj.pk])
        return Response(data, status=status_code, headers=headers)

    def validated(self, serializer_class, **kwargs) -> dict:
        serializer = serializer_class(data=self.request.data, context=self.get_serializer_context(), **kwargs)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data


# --- meetings -------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(summary="List PMC meetings"),
    retrieve=extend_schema(summary="One meeting"),
)
class MeetingViewSet(ApiViewSet):
    """PMC meetings: everyone with a role reads them; OMB admins schedule, change and cancel."""

    serializer_class = s.MeetingSerializer
    filterset_class = MeetingFilter
    search_fields = ["location", "agenda_notes"]
    ordering_fields = ["starts_at", "updated_at", "id"]
    ordering = ["starts_at", "id"]
    etag_kind = "meeting"
    if_match_actions = frozenset({"partial_update", "cancel"})

    def get_queryset(self):
        return Meeting.objects.visible_to(self.request.user).order_by("starts_at", "id")

    def _locked_current(self, meeting: Meeting) -> Meeting:
        """Meetings have no version: compare If-Match under a row lock, inside the caller's transaction."""
        meeting = Meeting.objects.select_for_update().get(pk=meeting.pk)
        check_if_match(self.request, self.etag(meeting))
        return meeting

    @extend_schema(
        summary="Schedule a meeting (OMB admins)",
        request=s.MeetingInputSerializer,
        responses={201: s.MeetingSerializer},
    )
    def create(self, request):
        if not rules.can_manage_meetings(request.user):
            raise PermissionDenied("Only OMB admins schedule meetings.")
        data = self.validated(s.MeetingInputSerializer)
        meeting = services.meeting_schedule(actor=request.user, **data)
        return self.object_response(meeting, status_code=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Change a meeting's time, place or notes (OMB admins)",
        request=s.MeetingInputSerializer(partial=True),
        responses={200: s.MeetingSerializer},
    )
    def partial_update(self, request, pk=None):
        meeting = self.get_object()
        if not rules.can_manage_meetings(request.user):
            raise PermissionDenied("Only OMB admins change meetings.")
        data = self.validated(s.MeetingInputSerializer, partial=True)
        with transaction.atomic():
            meeting = services.meeting_update(actor=request.user, meeting=self._locked_current(meeting), **data)
        return self.object_response(meeting)

    @extend_schema(
        summary="Cancel a meeting (OMB admins)", request=EmptyInputSerializer, responses={200: s.MeetingSerializer}
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        meeting = self.get_object()
        if not rules.can_manage_meetings(request.user):
            raise PermissionDenied("Only OMB admins cancel meetings.")
        self.validated(EmptyInputSerializer)
        with transaction.atomic():
            meeting = services.meeting_cancel(actor=request.user, meeting=self._locked_current(meeting))
        return self.object_response(meeting)


# --- cards ----------------------------------------------------------------------------------


# The card list's queryset per who asks (their roles), search and ordering: see list.
_LISTS = KeptLists()


def current_cards(cards, params):
    """The card list's default (docs/api.md): the current cards. A carried-over card is superseded by its
    successor, so it is left out unless the tool asks for a disposition, or syncs changes (updated_since
    must report a card becoming carried over)."""
    if params.get("disposition") or params.get("updated_since"):
        return cards
    return cards.exclude(disposition=Disposition.CARRIED_OVER)


@extend_schema_view(
    list=extend_schema(summary="List challenge cards you may see"),
    retrieve=extend_schema(summary="One challenge card"),
)
class ChallengeCardViewSet(ApiViewSet):
    """Challenge cards, scoped as on the pages: agencies see their own (and sub-agencies'), OMB sees all."""

    serializer_class = s.ChallengeCardSerializer
    pagination_class = RowPagePagination  # the list reads its page as rows (see list)
    filterset_class = CardFilter
    search_fields = ["title", "ask", "agency__abbreviation", "agency__name"]
    ordering_fields = ["due_date", "updated_at", "issued_at", "status", "title", "id"]
    ordering = ["due_date", "id"]
    etag_kind = "card"
    if_match_actions = frozenset({"updates", "review", "carry_over", "return_card"})

    def get_queryset(self):
        cards = ChallengeCard.objects.visible_to(self.request.user).order_by("due_date", "id")
        if self.action == "list":
            return current_cards(cards, self.request.query_params)  # read as rows by selectors.card_list_page
        return cards.select_related("agency", "priority").prefetch_related(
            Prefetch(
                "actions",
                # A visible card's actions are all visible; scoped all the same.
                queryset=FollowUpAction.objects.visible_to(self.request.user)
                .select_related("owner", "card")
                .order_by("due_date", "id"),
            )
        )

    def retrieve(self, request, *args, **kwargs):
        """Rows, not instances, as in the list: one query for the card, one for its actions (both visible)."""
        found = selectors.card_detail_row(
            request.user,
            self.requested_id(),
            columns=s.ChallengeCardSerializer.row_columns(),
            action_columns=s.FollowUpActionSerializer.row_columns(),
        )
        if found is None:
            raise NotFound()
        card = s.ChallengeCardSerializer.write_row(*found, Clock())
        return Response(card, headers={"ETag": card["etag"]})

    def list(self, request, *args, **kwargs):
        """Rows, not instances: one query for the page (by number: with its count), one for its actions."""
        pager = cast(RowPagePagination, self.paginator)
        listed = _LISTS.queryset(roles_of(request.user), request.query_params, self._listed)
        cards, position, number, size = pager.requested(request, listed)
        page = selectors.card_list_page(
            request.user,
            cards=cards,
            params=request.query_params,
            number=number,
            after=None if position is None else position.values,
            backwards=position is not None and position.backwards,
            size=size,
            columns=s.ChallengeCardSerializer.row_columns(),
            action_columns=s.FollowUpActionSerializer.row_columns(),
            keep_as="api-card-list",  # cards: visible_to(user), then this view's filter backends
        )
        items = page.items
        if position is None:
            pager.take_page(request, page.total or 0, number, size, page.keys[-1] if page.keys else None)
        else:
            items = pager.cursor_page(items, page.keys, size)
        clock = Clock(native=True)  # dates stay objects: native_dates has the renderer write them
        written = [s.ChallengeCardSerializer.write_row(row, actions, clock) for row, actions in items]
        return native_dates(self.get_paginated_response(written))

    def _listed(self):
        return self.filter_queryset(self.get_queryset())

    def _card_for_change(self) -> ChallengeCard:
        card = self.get_object()
        check_if_match(self.request, self.etag(card))
        return card

    def _reloaded(self, card_id: int) -> ChallengeCard:
        return self.get_queryset().get(pk=card_id)

    @extend_schema(
        summary="Issue a card to one or many agencies (OMB admins)",
        request=s.CardIssueSerializer,
        responses={201: s.CardIssueResultSerializer},
    )
    def create(self, request):
        if not rules.can_issue_cards(request.user):
            raise PermissionDenied("Only OMB admins issue challenge cards.")
        data = dict(self.validated(s.CardIssueSerializer))
        for optional in ("horizon", "due_date", "metric_name", "metric_unit", "note"):
            if data.get(optional) is None:
                data.pop(optional, None)
        cards = services.card_issue(actor=request.user, **data)
        cards = list(self.get_queryset().filter(pk__in=[card.pk for card in cards]))
        body = {"issue_batch": cards[0].issue_batch, "cards": cards}
        return Response(s.CardIssueResultSerializer(body).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        methods=["GET"],
        summary="A card's history, newest first",
        responses={200: s.CardUpdateSerializer(many=True)},
        filters=False,
    )
    @extend_schema(
        methods=["POST"],
        summary="Post an update: status, agency rating, metric value, note (deputy secretaries and delegates)",
        request=s.CardUpdateInputSerializer,
        responses={201: s.CardWithUpdateSerializer},
    )
    @action(detail=True, methods=["get", "post"], filter_backends=[])
    def updates(self, request, pk=None):
        if request.method == "GET":
            card = self.get_object()
            page = self.paginate_queryset(selectors.card_timeline(request.user, card))
            return self.get_paginated_response(s.CardUpdateSerializer(page, many=True).data)
        # One transaction, one read of the card (locked; its actions' rows: the update leaves them as they
        # are): the If-Match is checked on it, the service changes it and the answer is written from it.
        with transaction.atomic():
            found = selectors.card_for_update(
                request.user, self.requested_id(), action_columns=s.FollowUpActionSerializer.row_columns()
            )
            if found is None:
                raise NotFound()
            card = found.card
            self.check_object_permissions(request, card)
            if isinstance(request.data, dict) and any(field in request.data for field in OMB_ONLY_FIELDS):
                if not rules.can_review_card(request.user):
                    raise PermissionDenied("Only OMB sets the OMB rating and the disposition.")
                raise ValidationError(
                    {"omb_rating": ["OMB sets its rating and the disposition with POST .../review/."]}
                )
            data = self.validated(s.CardUpdateInputSerializer)
            check_if_match(request, self.etag(card))
            update = services.card_update(
                actor=request.user,
                card=card,
                locked=True,
                expected_version=card.version,
                status=data.get("status"),
                agency_rating=data.get("agency_rating"),
                metric_value=data.get("metric_value", services.UNSET),
                note=data.get("note", ""),
            )
            written = s.ChallengeCardSerializer.write_row(
                s.ChallengeCardSerializer.row_of(card), found.actions, Clock()
            )
            body = {"update": s.CardUpdateSerializer(update).data, "card": written}
            response = Response(body, status=status.HTTP_201_CREATED, headers={"ETag": self.etag(card)})
            return self.answered_in_transaction(response)

    @extend_schema(
        summary="OMB review: OMB's rating, accept or drop (OMB admins)",
        request=s.CardReviewInputSerializer,
        responses={200: s.CardWithUpdateSerializer},
    )
    @action(detail=True, methods=["post"])
    def review(self, request, pk=None):
        card = self.get_object()
        if not rules.can_review_card(request.user):
            raise PermissionDenied("Only OMB admins review cards.")
        data = self.validated(s.CardReviewInputSerializer)
        check_if_match(request, self.etag(card))
        update = services.card_review(actor=request.user, card=card, expected_version=card.version, **data)
        card = self._reloaded(card.pk)
        body = s.CardWithUpdateSerializer({"update": update, "card": card}).data
        return Response(body, headers={"ETag": self.etag(card)})

    @extend_schema(
        summary="Carry a card over to a later meeting (OMB admins); returns the new card",
        request=s.CardCarryOverInputSerializer,
        responses={201: s.ChallengeCardSerializer},
    )
    @action(detail=True, methods=["post"], url_path="carry-over")
    def carry_over(self, request, pk=None):
        card = self.get_object()
        if not rules.can_review_card(request.user):
            raise PermissionDenied("Only OMB admins carry cards over.")
        data = self.validated(s.CardCarryOverInputSerializer)
        check_if_match(request, self.etag(card))
        successor = services.card_carry_over(
            actor=request.user,
            card=card,
            expected_version=card.version,
            reason=data["reason"],
            to_meeting=data.get("to_meeting"),
            due_date=data.get("due_date"),
        )
        return self.object_response(self._reloaded(successor.pk), status_code=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Return a card marked done to in progress (OMB admins)",
        request=s.CardReturnInputSerializer,
        responses={200: s.CardWithUpdateSerializer},
    )
    @action(detail=True, methods=["post"], url_path="return")
    def return_card(self, request, pk=None):
        card = self.get_object()
        if not rules.can_review_card(request.user):
            raise PermissionDenied("Only OMB admins return cards.")
        data = self.validated(s.CardReturnInputSerializer)
        check_if_match(request, self.etag(card))
        update = services.card_return(
            actor=request.user, card=card, expected_version=card.version, reason=data["reason"]
        )
        card = self._reloaded(card.pk)
        body = s.CardWithUpdateSerializer({"update": update, "card": card}).data
        return Response(body, headers={"ETag": self.etag(card)})


# --- follow-up actions ----------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(summary="List follow-up actions you may see"),
    retrieve=extend_schema(summary="One follow-up action"),
)
class FollowUpActionViewSet(ApiViewSet):
    """Follow-up actions on cards: the agency (and OMB admins) add, change and complete them."""

    serializer_class = s.FollowUpActionSerializer
    filterset_class = ActionFilter
    search_fields = ["description", "owner_name"]
    ordering_fields = ["due_date", "updated_at", "created_at", "status", "id"]
    ordering = ["due_date", "id"]
    etag_kind = "action"
    if_match_actions = frozenset({"partial_update", "complete", "drop", "reopen"})

    def get_queryset(self):
        return (
            FollowUpAction.objects.visible_to(self.request.user)
            .select_related("card", "owner")
            .order_by("due_date", "id")
        )

    def _action_for_change(self) -> FollowUpAction:
        action = self.get_object()
        check_if_match(self.request, self.etag(action))
        return action

    def _reloaded(self, action_id: int) -> FollowUpAction:
        return self.get_queryset().get(pk=action_id)

    @extend_schema(
        summary="Add a follow-up action to a card",
        request=s.ActionCreateSerializer,
        responses={201: s.FollowUpActionSerializer},
    )
    def create(self, request):
        data = dict(self.validated(s.ActionCreateSerializer))
        action = services.action_add(actor=request.user, **{k: v for k, v in data.items() if v is not None})
        return self.object_response(self._reloaded(action.pk), status_code=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Change a follow-up action's due date or owner",
        request=s.ActionChangeSerializer,
        responses={200: s.FollowUpActionSerializer},
    )
    def partial_update(self, request, pk=None):
        action = self.get_object()
        if not rules.can_edit_action(request.user, action):
            raise PermissionDenied("You cannot change this follow-up action.")
        data = self.validated(s.ActionChangeSerializer)
        check_if_match(request, self.etag(action))
        changes = {field: data.get(field, services.UNSET) for field in ("due_date", "owner", "owner_name", "owned_by")}
        action = services.action_change(
            actor=request.user, action=action, expected_version=action.version, refuse_unchanged=False, **changes
        )
        return self.object_response(self._reloaded(action.pk))

    def _state_change(self, service, serializer_class, **extra) -> Response:
        action = self.get_object()
        if not rules.can_edit_action(self.request.user, action):
            raise PermissionDenied("You cannot change this follow-up action.")
        data = self.validated(serializer_class)
        check_if_match(self.request, self.etag(action))
        action = service(actor=self.request.user, action=action, expected_version=action.version, **data, **extra)
        return self.object_response(self._reloaded(action.pk))

    @extend_schema(
        summary="Mark a follow-up action done",
        request=s.ActionNoteSerializer,
        responses={200: s.FollowUpActionSerializer},
    )
    @action(detail=True, methods=["post"])
    def complete(self, request, pk=None):
        return self._state_change(services.action_complete, s.ActionNoteSerializer)

    @extend_schema(
        summary="Drop a follow-up action, with a reason",
        request=s.ActionDropSerializer,
        responses={200: s.FollowUpActionSerializer},
    )
    @action(detail=True, methods=["post"])
    def drop(self, request, pk=None):
        return self._state_change(services.action_drop, s.ActionDropSerializer)

    @extend_schema(
        summary="Reopen a done or dropped follow-up action",
        request=s.ActionNoteSerializer,
        responses={200: s.FollowUpActionSerializer},
    )
    @action(detail=True, methods=["post"])
    def reopen(self, request, pk=None):
        return self._state_change(services.action_reopen, s.ActionNoteSerializer)
