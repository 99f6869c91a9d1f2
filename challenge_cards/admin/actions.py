"""Follow-up actions in the admin: read-only, completed or dropped in bulk through their services."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError

from agencies.roles import roles_of

from .. import services
from ..models import FollowUpAction
from ._common import ReadOnlyMixin, action_form_page, messages_of


class ReasonForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), label="Why are these actions dropped?")


@admin.register(FollowUpAction)
class FollowUpActionAdmin(ReadOnlyMixin, admin.ModelAdmin):
    """Read-only list; complete or drop actions with the admin actions (each through a service)."""

    list_display = ("description", "card", "agency_abbreviation", "owned_by", "owner_display", "due_date", "status")
    list_filter = ("status", "owned_by", "due_date", "card__meeting", "card__agency__cfo_act", "card__agency")
    list_select_related = ("card__agency", "owner")
    search_fields = ("description", "owner_name", "owner__username", "card__title", "card__agency__abbreviation")
    readonly_fields = ("card", "owner_display")
    actions = ["complete_actions", "drop_actions"]
    fields = (
        "card",
        "description",
        ("owned_by", "owner_display"),
        "due_date",
        ("status", "completed_at"),
        "dropped_reason",
        ("created_by", "created_at"),
        "version",
    )

    @admin.display(description="agency", ordering="card__agency__abbreviation")
    def agency_abbreviation(self, action: FollowUpAction) -> str:
        return action.card.agency.abbreviation

    @admin.display(description="owner")
    def owner_display(self, action: FollowUpAction) -> str:
        return action.owner_display

    def has_work_permission(self, request) -> bool:
        return roles_of(request.user).omb_admin

    def _each(self, request, queryset, service, done: str, **kwargs) -> None:
        """Call ``service`` on each selected action; refusals are listed, the rest counted as ``done``."""
        count = 0
        for action in queryset:
            try:
                service(actor=request.user, action=action, expected_version=action.version, **kwargs)
            except (ValidationError, PermissionDenied, services.StaleWrite) as error:
                self.message_user(request, f"{action}: {' '.join(messages_of(error))}", messages.ERROR)
            else:
                count += 1
        if count:
            self.message_user(request, f"{done} {count} action{'s' if count != 1 else ''}.", messages.SUCCESS)

    @admin.action(description="Mark the selected actions done", permissions=["work"])
    def complete_actions(self, request, queryset) -> None:
        self._each(request, queryset, services.action_complete, "Completed")

    @admin.action(description="Drop the selected actions", permissions=["work"])
    def drop_actions(self, request, queryset):
        form = ReasonForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            self._each(request, queryset, services.action_drop, "Dropped", reason=form.cleaned_data["reason"])
            return None
        return action_form_page(
            self, request, queryset, form, title="Drop follow-up actions", action="drop_actions", button="Drop"
        )
