"""Cards in the admin: issued with card_issue, reviewed with card_review, carried over in bulk; never deleted."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError

from agencies.models import Agency

from .. import permissions, services
from ..forms import CardIssueFields
from ..models import CardUpdate, ChallengeCard, FollowUpAction
from ._common import (
    ReadOnlyMixin,
    RoleAccessMixin,
    ServiceAdminMixin,
    ServiceForm,
    ServiceInlineMixin,
    messages_of,
)
from .history import summarize_changes

ISSUE_FIELDS = (
    "meeting",
    "agency",
    "title",
    "ask",
    "priority",
    "strategy",
    "horizon",
    "due_date",
    "metric_name",
    "metric_unit",
    "metric_baseline",
    "metric_target",
)
METRIC_FIELDS = ("metric_name", "metric_unit", "metric_baseline", "metric_target")


class CardIssueForm(ServiceForm, CardIssueFields):
    """The admin's add form: the issue page's fields (forms.CardIssueFields) for one agency (card_issue)."""

    class Meta:
        model = ChallengeCard
        fields = ISSUE_FIELDS

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if "agency" in self.fields:
            cast(forms.ModelChoiceField, self.fields["agency"]).queryset = Agency.objects.active()

    def apply(self) -> ChallengeCard:
        data: dict[str, Any] = {field: self.cleaned_data.get(field) for field in ISSUE_FIELDS if field != "agency"}
        for field in ("metric_name", "metric_unit"):
            data[field] = data[field] or ""
        cards = services.card_issue(
            actor=self.request.user, agencies=[self.cleaned_data["agency"]], note=self.cleaned_data["note"], **data
        )
        return cards[0]


class CardReviewForm(ServiceForm):
    """The admin's change form: OMB's rating and disposition only (card_review)."""

    reason = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 2}), help_text="Needed when you drop a card."
    )
    review_note = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}), label="Note")

    class Meta:
        model = ChallengeCard
        fields = ("omb_rating", "disposition", "version")
        widgets = {"version": forms.HiddenInput}

    def apply(self):
        changed = set(self.changed_data) & {"omb_rating", "disposition"}
        if not changed:
            return None
        data = self.cleaned_data
        return services.card_review(
            actor=self.request.user,
            card=self.instance.pk,
            expected_version=data["version"],
            omb_rating=data["omb_rating"] if "omb_rating" in changed else None,
            disposition=data["disposition"] if "disposition" in changed else None,
            reason=data["reason"],
            note=data["review_note"],
        )


class ActionAddForm(ServiceForm):
    """A new follow-up action typed into the card page (action_add)."""

    class Meta:
        model = FollowUpAction
        fields = ("description", "owned_by", "owner", "owner_name", "due_date")

    def apply(self) -> FollowUpAction | None:
        if not self.has_changed():
            return None
        data = self.cleaned_data
        return services.action_add(
            actor=self.request.user,
            card=self.instance.card_id,
            description=data["description"],
            owner=data["owner"],
            owner_name=data["owner_name"],
            owned_by=data["owned_by"],
            due_date=data["due_date"],
        )


class FollowUpActionInline(ReadOnlyMixin, admin.TabularInline):
    """The card's follow-up actions as they stand; change them on the actions list."""

    model = FollowUpAction
    fields = ("description", "owned_by", "action_owner", "due_date", "status", "completed_at")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True
    verbose_name_plural = "follow-up actions"

    @admin.display(description="owner")
    def action_owner(self, action: FollowUpAction) -> str:
        return action.owner_display

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("owner")


class NewFollowUpActionInline(ServiceInlineMixin, RoleAccessMixin, admin.TabularInline):
    model = FollowUpAction
    form = ActionAddForm
    fields = ("description", "owned_by", "owner", "owner_name", "due_date")
    extra = 1
    can_delete = False
    verbose_name = "new follow-up action"
    verbose_name_plural = "add follow-up actions"

    def get_queryset(self, request):
        return super().get_queryset(request).none()

    def has_add_permission(self, request, obj=None) -> bool:
        return obj is not None and permissions.can_add_action(request.user, obj)

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class CardUpdateInline(ReadOnlyMixin, admin.TabularInline):
    """The card's history, newest first; append-only."""

    model = CardUpdate
    fields = ("created_at", "kind", "author", "on_behalf_of", "status_to", "note", "change_summary", "certification")
    readonly_fields = fields

    @admin.display(description="changes")
    def change_summary(self, update: CardUpdate) -> str:
        return summarize_changes(update)

    extra = 0
    can_delete = False
    verbose_name_plural = "history"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("author", "on_behalf_of")


@admin.register(ChallengeCard)
class ChallengeCardAdmin(ServiceAdminMixin, admin.ModelAdmin):
    list_display = (
        "title",
        "agency_abbreviation",
        "meeting",
        "status",
        "agency_rating",
        "omb_rating",
        "disposition",
        "due_date",
        "issued_to",
    )
    list_filter = (
        "meeting",
        "status",
        "disposition",
        "omb_rating",
        "agency_rating",
        "horizon",
        "priority",
        "agency__cfo_act",
        "agency__hisp",
        "agency",
    )
    list_select_related = ("agency", "meeting", "issued_to")
    search_fields = ("title", "ask", "agency__name", "agency__abbreviation", "issued_to__username")
    date_hierarchy = "due_date"
    inlines = [FollowUpActionInline, NewFollowUpActionInline, CardUpdateInline]
    actions = ["carry_over_to_next_meeting"]
    card_fields = (
        ("meeting", "agency"),
        ("issued_to", "issued_by", "issued_at"),
        "title",
        "ask",
        ("priority", "strategy"),
        ("horizon", "due_date"),
        ("carried_over_from", "carry_count"),
    )
    agency_fields = (
        ("status", "agency_rating"),
        ("metric_name", "metric_unit"),
        ("metric_baseline", "metric_target", "metric_value"),
        "last_agency_update_at",
    )

    @admin.display(description="agency", ordering="agency__abbreviation")
    def agency_abbreviation(self, card: ChallengeCard) -> str:
        return card.agency.abbreviation

    def get_form(self, request, obj=None, change=False, **kwargs):
        kwargs["form"] = CardReviewForm if obj is not None else CardIssueForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return [
                (None, {"fields": ISSUE_FIELDS[:8]}),
                ("Measurable target (optional)", {"fields": METRIC_FIELDS}),
                (None, {"fields": ("note",)}),
            ]
        return [
            ("Card", {"fields": self.card_fields}),
            ("The agency's status (changed by the agency)", {"fields": self.agency_fields}),
            ("OMB review", {"fields": ("omb_rating", "disposition", "disposition_reason", "reason", "review_note")}),
            (None, {"fields": ("version",)}),
        ]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        fields = [
            f for line in self.card_fields + self.agency_fields for f in (line if isinstance(line, tuple) else (line,))
        ]
        if not self.has_change_permission(request, obj):
            fields += ["omb_rating", "disposition", "version"]
        return (*fields, "disposition_reason")

    def get_inlines(self, request, obj):
        if obj is None:
            return []
        if not permissions.can_add_action(request.user, obj):
            return [FollowUpActionInline, CardUpdateInline]
        return self.inlines

    def has_add_permission(self, request, *args) -> bool:
        return permissions.can_issue_cards(request.user)

    def has_change_permission(self, request, obj=None) -> bool:
        return permissions.can_review_card(request.user, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # drop a card instead: its history stays

    def has_review_permission(self, request) -> bool:
        return permissions.can_review_card(request.user)

    @admin.action(description="Carry the selected cards over to the next meeting", permissions=["review"])
    def carry_over_to_next_meeting(self, request, queryset) -> None:
        count = 0
        for card in queryset.select_related("meeting"):
            try:
                services.card_carry_over(
                    actor=request.user,
                    card=card,
                    expected_version=card.version,
                    reason="Carried over by OMB from the admin: more time is needed.",
                )
            except (ValidationError, PermissionDenied, services.StaleWrite) as error:
                self.message_user(request, f"{card}: {' '.join(messages_of(error))}", messages.ERROR)
            else:
                count += 1
        if count:
            self.message_user(request, f"Carried over {count} card{'s' if count != 1 else ''}.", messages.SUCCESS)
