"""The agency list's "issue a challenge card to the selected agencies" action (card_issue, all or nothing).

agencies.admin knows nothing of cards; this module adds the action to its Agency admin.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.widgets import AdminDateWidget
from django.core.exceptions import PermissionDenied, ValidationError

from agencies import admin as agencies_admin
from agencies.models import Agency

from .. import permissions, services
from ..models import Horizon, Meeting, PmaPriority, PmaStrategy
from ._common import action_form_page, add_service_errors, issuable_meetings


class IssueCardForm(forms.Form):
    """What an OMB admin fills in to issue the same card to the selected agencies."""

    meeting = forms.ModelChoiceField(queryset=Meeting.objects.none(), help_text="The meeting the card is issued at.")
    title = forms.CharField(max_length=200)
    ask = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}), help_text="What the deputy secretary is asked to do."
    )
    priority = forms.ModelChoiceField(queryset=PmaPriority.objects.all(), label="PMA priority")
    strategy = forms.ModelChoiceField(
        queryset=PmaStrategy.objects.select_related("priority"), required=False, label="PMA strategy"
    )
    horizon = forms.ChoiceField(choices=Horizon.choices, initial=Horizon.MONTH)
    due_date = forms.DateField(
        required=False, widget=AdminDateWidget, help_text="Leave empty for the date of the next meeting."
    )
    metric_name = forms.CharField(max_length=200, required=False)
    metric_unit = forms.CharField(max_length=40, required=False)
    metric_baseline = forms.DecimalField(max_digits=14, decimal_places=2, required=False)
    metric_target = forms.DecimalField(max_digits=14, decimal_places=2, required=False)
    note = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}), label="Note for the history")

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["meeting"].queryset = issuable_meetings()
        self.fields["meeting"].initial = getattr(Meeting.objects.next_meeting(), "pk", None)
        for name in ("title", "metric_name"):
            self.fields[name].widget.attrs["class"] = "vTextField"


@admin.action(description="Issue a challenge card to the selected agencies", permissions=["issue_cards"])
def issue_card_to_agencies(modeladmin, request, queryset):
    """Issue one card to every selected agency's deputy secretary, all or nothing (card_issue)."""
    agencies = list(queryset.order_by("name"))
    form = IssueCardForm(request.POST if "apply" in request.POST else None)
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
