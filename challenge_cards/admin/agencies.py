"""The agency list's "issue a challenge card to the selected agencies" action (card_issue, all or nothing).

agencies.admin knows nothing of cards; this module adds the action to its Agency admin.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError

from agencies import admin as agencies_admin
from agencies.models import Agency

from .. import permissions, services
from ..forms import CardIssueFields
from ._common import action_form_page, add_service_errors


@admin.action(description="Issue a challenge card to the selected agencies", permissions=["issue_cards"])
def issue_card_to_agencies(modeladmin, request, queryset):
    """Issue one card to every selected agency's deputy secretary, all or nothing (card_issue)."""
    agencies = list(queryset.order_by("name"))
    form = CardIssueFields(request.POST if "apply" in request.POST else None)
    if form.is_valid():
        try:
            cards = services.card_issue(actor=request.user, agencies=agencies, **form.cleaned_data)
        except (ValidationError, PermissionDenied) as error:
            add_service_errors(form, error)
        else:
            count = len(cards)
            modeladmin.message_user(
                request,
                f"Issued to {count} agenc{'ies' if count != 1 else 'y'}: “{form.cleaned_data['title']}”.",
                messages.SUCCESS,
            )
            return None
    return action_form_page(
        modeladmin,
        request,
        queryset,
        form,
        title="Issue a challenge card",
        action="issue_card_to_agencies",
        button="Issue the card",
        objects=agencies,
    )


class AgencyAdmin(agencies_admin.AgencyAdmin):
    actions = [issue_card_to_agencies]

    def has_issue_cards_permission(self, request) -> bool:
        return permissions.can_issue_cards(request.user)


admin.site.unregister(Agency)
admin.site.register(Agency, AgencyAdmin)
