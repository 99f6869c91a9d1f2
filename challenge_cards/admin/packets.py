"""Briefing packets in the admin: read-only, with an action that re-queues a stuck or failed packet (a service)."""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError

from .. import permissions, services
from ..models import BriefingPacket
from ._common import ReadOnlyMixin, messages_of


@admin.register(BriefingPacket)
class BriefingPacketAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("meeting", "status", "progress", "progress_note", "requested_by", "requested_at", "status_since")
    list_filter = ("status", "requested_at")
    search_fields = ("progress_note", "error", "requested_by__username")
    list_select_related = ("meeting", "requested_by")
    exclude = ("pdf",)
    actions = ["reset_packets"]

    def has_reset_permission(self, request) -> bool:
        return permissions.can_build_packets(request.user)

    @admin.action(description="Queue the selected packets again (stuck or failed)", permissions=["reset"])
    def reset_packets(self, request, queryset) -> None:
        count = 0
        for packet in queryset:
            try:
                services.packet_reset(actor=request.user, packet=packet)
            except (ValidationError, PermissionDenied) as error:
                self.message_user(request, f"{packet}: {' '.join(messages_of(error))}", messages.ERROR)
            else:
                count += 1
        if count:
            self.message_user(request, f"Queued again: {count} packet{'s' if count != 1 else ''}.", messages.SUCCESS)
