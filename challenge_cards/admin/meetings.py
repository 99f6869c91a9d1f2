"""Meetings in the admin: scheduled and changed through the meeting services, never deleted."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count

from .. import permissions, services
from ..models import Meeting
from ._common import ServiceAdminMixin, ServiceForm, messages_of

MEETING_FIELDS = ("starts_at", "duration_minutes", "location", "video_url", "agenda_notes")


class MeetingForm(ServiceForm):
    video_url = forms.URLField(required=False, assume_scheme="https", label="Video link")
    # The meeting's updated_at when the page was loaded: a change by someone else since is refused, not reverted.
    loaded_updated_at = forms.DateTimeField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = Meeting
        fields = MEETING_FIELDS

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None:
            self.initial["loaded_updated_at"] = self.instance.updated_at.isoformat()

    def apply(self) -> Meeting | None:
        data = {field: self.cleaned_data[field] for field in MEETING_FIELDS if field in self.cleaned_data}
        if self.instance.pk is None:
            return services.meeting_schedule(actor=self.request.user, **data)
        loaded = self.cleaned_data.get("loaded_updated_at")
        if loaded is None:
            raise ValidationError("This page is out of date. Open the meeting again and make your change.")
        changes = {field: value for field, value in data.items() if field in self.changed_data}
        if not changes:
            return None
        return services.meeting_update(
            actor=self.request.user, meeting=self.instance, expected_updated_at=loaded, **changes
        )


@admin.register(Meeting)
class MeetingAdmin(ServiceAdminMixin, admin.ModelAdmin):
    form = MeetingForm
    list_display = ("title", "starts_at", "status", "location", "card_count")
    list_filter = ("status", "starts_at")
    search_fields = ("location", "agenda_notes")
    date_hierarchy = "starts_at"
    readonly_fields = ("status", "closed_at", "created_by", "created_at", "updated_at")
    actions = ["cancel_meetings", "mark_meetings_held"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(card_count=Count("cards"))

    @admin.display(description="cards", ordering="card_count")
    def card_count(self, meeting: Any) -> int:  # a Meeting annotated with card_count
        return meeting.card_count

    def has_add_permission(self, request, *args) -> bool:
        return permissions.can_manage_meetings(request.user)

    def has_change_permission(self, request, obj=None) -> bool:
        allowed = permissions.can_manage_meetings(request.user)
        return allowed and (obj is None or obj.status != Meeting.Status.CANCELLED)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # cancel instead: cards and history hang off meetings

    def has_manage_permission(self, request) -> bool:
        return permissions.can_manage_meetings(request.user)

    def _each(self, request, queryset, service, done: str) -> None:
        count = 0
        for meeting in queryset:
            try:
                service(actor=request.user, meeting=meeting)
            except (ValidationError, PermissionDenied) as error:
                self.message_user(request, f"{meeting}: {' '.join(messages_of(error))}", messages.ERROR)
            else:
                count += 1
        if count:
            self.message_user(request, f"{done} {count} meeting{'s' if count != 1 else ''}.", messages.SUCCESS)

    @admin.action(description="Cancel the selected meetings", permissions=["manage"])
    def cancel_meetings(self, request, queryset) -> None:
        self._each(request, queryset, services.meeting_cancel, "Cancelled")

    @admin.action(description="Mark the selected meetings as held", permissions=["manage"])
    def mark_meetings_held(self, request, queryset) -> None:
        self._each(request, queryset, services.meeting_mark_held, "Marked as held:")
