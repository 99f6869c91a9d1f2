"""The Django admin for OMB: role-based access, and every card, action and meeting write through services.

OMB admins use the admin; OMB viewers may read it; superusers may too, but the workflow
services only accept OMB admins, so a superuser without that role reads cards and meetings
and manages reference data. ``is_staff`` does not matter: the OMB role decides.

Forms here call the service in ``full_clean`` so that a refused write (bad input, a stale
version, a forbidden change) becomes a form error instead of a server error; the change
view then rolls the whole request back if anything on the page did not validate.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.admin.widgets import AdminDateWidget
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count
from django.template.response import TemplateResponse

from agencies.models import Agency
from agencies.roles import roles_of

from . import permissions, services
from .models import (
    CardUpdate,
    ChallengeCard,
    FollowUpAction,
    Horizon,
    Meeting,
    PmaPriority,
    PmaStrategy,
)

# --- who may use the admin ----------------------------------------------------------


def may_view_admin(user) -> bool:
    """Active OMB admins and viewers, and superusers, may open the admin."""
    if not getattr(user, "is_active", False):
        return False
    return user.is_superuser or roles_of(user).is_omb


def may_edit_reference_data(user) -> bool:
    """Agencies, memberships, roles and the PMA: OMB admins and superusers."""
    return getattr(user, "is_active", False) and (user.is_superuser or roles_of(user).omb_admin)


def _site_has_permission(request) -> bool:
    return may_view_admin(request.user)


class OmbAdminLoginForm(AdminAuthenticationForm):
    """Signs in OMB admins and viewers whatever their is_staff flag."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": "Enter the username and password of an OMB admin or viewer account. Both are case-sensitive.",
    }

    def confirm_login_allowed(self, user) -> None:
        AuthenticationForm.confirm_login_allowed(self, user)
        if not may_view_admin(user):
            raise ValidationError(
                self.error_messages["invalid_login"],
                code="invalid_login",
                params={"username": self.username_field.verbose_name},
            )


admin.site.has_permission = _site_has_permission
admin.site.login_form = OmbAdminLoginForm


class RoleAccessMixin:
    """Admin permissions from OMB roles instead of Django's model permissions."""

    def has_module_permission(self, request) -> bool:
        return may_view_admin(request.user)

    def has_view_permission(self, request, obj=None) -> bool:
        return may_view_admin(request.user)

    def has_add_permission(self, request, *args) -> bool:
        return may_edit_reference_data(request.user)

    def has_change_permission(self, request, obj=None) -> bool:
        return may_edit_reference_data(request.user)

    def has_delete_permission(self, request, obj=None) -> bool:
        return may_edit_reference_data(request.user)

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        visible_to = getattr(queryset, "visible_to", None)
        if request.user.is_superuser or visible_to is None:
            return queryset
        return visible_to(request.user)


class ReadOnlyMixin(RoleAccessMixin):
    """Nobody adds, changes or deletes these here."""

    def has_add_permission(self, request, *args) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


# --- forms that write through services ----------------------------------------------


def add_service_errors(form: forms.BaseForm, error: Exception) -> None:
    """Show a service's refusal on the form: field errors by field, the rest on top."""
    if isinstance(error, services.StaleWrite):
        form.add_error(None, f"{error} Open the page again to see the latest version.")
    elif isinstance(error, PermissionDenied):
        form.add_error(None, str(error) or "You are not allowed to make this change.")
    elif hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error.messages)


class ServiceForm(forms.ModelForm):
    """A ModelForm whose ``apply()`` calls a service once the form itself is valid."""

    request = None  # set per request by the admin's get_form / get_formset
    result: Any = None

    def full_clean(self) -> None:
        super().full_clean()
        if not self.is_bound or self._errors:
            return
        try:
            self.result = self.apply()
        except (ValidationError, PermissionDenied, services.StaleWrite) as error:
            add_service_errors(self, error)

    def apply(self) -> Any:
        raise NotImplementedError


class ServiceAdminMixin(RoleAccessMixin):
    """Admin for a model written only through services: nothing is saved here directly."""

    save_as = False

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        form.request = request
        return form

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        with transaction.atomic():
            response = super().changeform_view(request, object_id, form_url, extra_context)
            # The page came back with errors: undo whatever a valid part already wrote.
            context = getattr(response, "context_data", None) or {}
            if request.method == "POST" and context.get("errors"):
                transaction.set_rollback(True)
        return response

    def save_model(self, request, obj, form, change) -> None:
        """The form's service call already wrote; give the admin the saved object."""
        result = form.result
        if isinstance(result, self.model) and result.pk != obj.pk:
            for field in self.model._meta.concrete_fields:
                setattr(obj, field.attname, getattr(result, field.attname))
            obj._state.adding = False

    def save_formset(self, request, form, formset, change) -> None:
        """Inline forms write through services too (or are read-only)."""
        formset.new_objects = [f.result for f in formset.forms if getattr(f, "result", None) is not None]
        formset.changed_objects = []
        formset.deleted_objects = []


class ServiceInlineMixin:
    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        formset.form.request = request
        return formset


# --- PMA ------------------------------------------------------------------------------


class PmaStrategyInline(RoleAccessMixin, admin.TabularInline):
    model = PmaStrategy
    extra = 1
    fields = ("number", "title")


@admin.register(PmaPriority)
class PmaPriorityAdmin(RoleAccessMixin, admin.ModelAdmin):
    list_display = ("number", "short_title", "title")
    list_filter = ("number",)
    search_fields = ("title", "short_title", "description", "strategies__title")
    inlines = [PmaStrategyInline]


@admin.register(PmaStrategy)
class PmaStrategyAdmin(RoleAccessMixin, admin.ModelAdmin):
    list_display = ("__str__", "priority")
    list_filter = ("priority",)
    list_select_related = ("priority",)
    search_fields = ("title", "priority__title")


# --- meetings -------------------------------------------------------------------------

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
    def card_count(self, meeting: Meeting) -> int:
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
                self.message_user(request, f"{meeting}: {' '.join(_messages(error))}", messages.ERROR)
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


def _messages(error: Exception) -> list[str]:
    return getattr(error, "messages", None) or [str(error)]


# --- challenge cards ------------------------------------------------------------------

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


def _issuable_meetings():
    return Meeting.objects.exclude(status=Meeting.Status.CANCELLED).order_by("-starts_at")


class CardIssueForm(ServiceForm):
    """The admin's add form: issue one card to one agency (card_issue)."""

    note = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}), label="Note for the history")

    class Meta:
        model = ChallengeCard
        fields = ISSUE_FIELDS

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if "meeting" in self.fields:
            self.fields["meeting"].queryset = _issuable_meetings()
            self.fields["meeting"].initial = getattr(Meeting.objects.next_meeting(), "pk", None)
        if "agency" in self.fields:
            self.fields["agency"].queryset = Agency.objects.active()
        if "due_date" in self.fields:
            self.fields["due_date"].required = False
            self.fields["due_date"].help_text = "Leave empty for the date of the next meeting."

    def apply(self) -> ChallengeCard:
        data = {field: self.cleaned_data.get(field) for field in ISSUE_FIELDS if field != "agency"}
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
                self.message_user(request, f"{card}: {' '.join(_messages(error))}", messages.ERROR)
            else:
                count += 1
        if count:
            self.message_user(request, f"Carried over {count} card{'s' if count != 1 else ''}.", messages.SUCCESS)


# --- follow-up actions ----------------------------------------------------------------


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

    def _each(self, request, queryset, done: str, **kwargs) -> None:
        service = services.action_complete if done == "Completed" else services.action_drop
        count = 0
        for action in queryset:
            try:
                service(actor=request.user, action=action, expected_version=action.version, **kwargs)
            except (ValidationError, PermissionDenied, services.StaleWrite) as error:
                self.message_user(request, f"{action}: {' '.join(_messages(error))}", messages.ERROR)
            else:
                count += 1
        if count:
            self.message_user(request, f"{done} {count} action{'s' if count != 1 else ''}.", messages.SUCCESS)

    @admin.action(description="Mark the selected actions done", permissions=["work"])
    def complete_actions(self, request, queryset) -> None:
        self._each(request, queryset, "Completed")

    @admin.action(description="Drop the selected actions", permissions=["work"])
    def drop_actions(self, request, queryset):
        form = ReasonForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            self._each(request, queryset, "Dropped", reason=form.cleaned_data["reason"])
            return None
        return action_form_page(
            self, request, queryset, form, title="Drop follow-up actions", action="drop_actions", button="Drop"
        )


# --- history --------------------------------------------------------------------------


def summarize_changes(update: CardUpdate) -> str:
    """'status: not_started → in_progress; metric_value: 0 → 4.80' from the JSON of changes."""
    return "; ".join(
        f"{field}: {'—' if old in (None, '') else old} → {'—' if new in (None, '') else new}"
        for field, (old, new) in update.changes.items()
    )


@admin.register(CardUpdate)
class CardUpdateAdmin(ReadOnlyMixin, admin.ModelAdmin):
    """The append-only history: nobody adds, changes or deletes it here."""

    list_display = ("created_at", "card", "kind", "author", "on_behalf_of", "change_summary", "certification")
    list_filter = ("kind", "status_to", "certification", "created_at", "card__meeting", "card__agency")
    list_select_related = ("card__agency", "author", "on_behalf_of")
    search_fields = ("note", "card__title", "card__agency__abbreviation", "author__username")
    date_hierarchy = "created_at"

    @admin.display(description="changes")
    def change_summary(self, update: CardUpdate) -> str:
        return summarize_changes(update)


# --- issuing one card to many agencies (an action on the agency list) -----------------


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
        self.fields["meeting"].queryset = _issuable_meetings()
        self.fields["meeting"].initial = getattr(Meeting.objects.next_meeting(), "pk", None)
        for name in ("title", "metric_name"):
            self.fields[name].widget.attrs["class"] = "vTextField"


def action_form_page(modeladmin, request, queryset, form, *, title: str, action: str, button: str, objects=None):
    """An intermediate page for an admin action that needs more input."""
    context = {
        **modeladmin.admin_site.each_context(request),
        "title": title,
        "form": form,
        "objects": objects if objects is not None else list(queryset),
        "opts": modeladmin.model._meta,
        "action": action,
        "button": button,
        "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        "media": modeladmin.media + form.media,
    }
    return TemplateResponse(request, "admin/challenge_cards/action_form.html", context)


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
