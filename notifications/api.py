"""/api/v1/notifications/: a person's own inbox, read and marked read through the API."""

from __future__ import annotations

import django_filters
from drf_spectacular.utils import extend_schema, extend_schema_view, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from core.api.views import ApiViewMixin

from . import services
from .models import Notification, Rule


class NotificationSerializer(serializers.ModelSerializer):
    rule_display = serializers.CharField(source="get_rule_display", read_only=True)
    read = serializers.BooleanField(source="is_read", read_only=True)

    class Meta:
        model = Notification
        fields = ["id", "rule", "rule_display", "title", "url", "created_at", "read", "read_at"]
        read_only_fields = fields


class NotificationFilter(django_filters.FilterSet):
    unread = django_filters.BooleanFilter(field_name="read_at", lookup_expr="isnull", label="Only unread ones")
    rule = django_filters.ChoiceFilter(choices=Rule.choices)

    class Meta:
        model = Notification
        fields = ["unread", "rule"]


@extend_schema_view(
    list=extend_schema(summary="Your notifications, newest first", tags=["notifications"]),
    retrieve=extend_schema(summary="One of your notifications", tags=["notifications"]),
)
class NotificationViewSet(ApiViewMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Only the signed-in person's notifications: someone else's is a 404."""

    serializer_class = NotificationSerializer
    filterset_class = NotificationFilter
    http_method_names = ["get", "post", "head"]

    def get_queryset(self):
        return Notification.objects.visible_to(self.request.user).order_by("-created_at", "-id")

    @extend_schema(
        summary="Mark one notification as read",
        request=None,
        responses={200: NotificationSerializer},
        tags=["notifications"],
    )
    @action(detail=True, methods=["post"])
    def read(self, request, pk=None):
        notification = services.notification_mark_read(user=request.user, notification=self.get_object())
        return Response(self.get_serializer(notification).data)

    @extend_schema(
        summary="Mark all your notifications as read",
        request=None,
        responses={200: inline_serializer("MarkedRead", {"marked_read": serializers.IntegerField()})},
        tags=["notifications"],
    )
    @action(detail=False, methods=["post"], url_path="read-all", filterset_class=None, pagination_class=None)
    def read_all(self, request):
        count = services.notifications_mark_all_read(user=request.user)
        return Response({"marked_read": count}, status=status.HTTP_200_OK)
