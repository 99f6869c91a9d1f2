"""The audit log and sign-in lockouts in the admin: OMB admins read them; nobody edits the log."""

from axes.models import AccessAttempt
from django.contrib import admin, messages

from agencies.admin import ReadOnlyMixin, may_edit_reference_data

from .lockout import accounts_unlock, is_locked
from .models import AuditEvent


class OmbAdminsOnlyMixin(ReadOnlyMixin):
    """Readable by OMB admins (and superusers) only, never by OMB viewers."""

    def has_module_permission(self, request) -> bool:
        return may_edit_reference_data(request.user)

    def has_view_permission(self, request, obj=None) -> bool:
        return may_edit_reference_data(request.user)


@admin.register(AuditEvent)
class AuditEventAdmin(OmbAdminsOnlyMixin, admin.ModelAdmin):
    list_display = ("occurred_at", "actor_username", "action", "outcome", "object_type", "object_id", "ip_address")
    list_filter = ("outcome", "action", "method")
    search_fields = ("actor_username", "ip_address", "path", "request_id", "object_id")
    date_hierarchy = "occurred_at"
    list_per_page = 100
    show_full_result_count = False  # counting a large log on every page costs more than it tells


@admin.action(description="Unlock the selected accounts")
def unlock_accounts(modeladmin, request, queryset):
    usernames = accounts_unlock(actor=request.user, usernames={a.username for a in queryset}, request=request)
    messages.success(request, f"Unlocked {len(usernames)} account(s): {', '.join(usernames)}.")


@admin.register(AccessAttempt)
class SignInLockoutAdmin(OmbAdminsOnlyMixin, admin.ModelAdmin):
    """Failed sign-ins being counted; an account is locked once it reaches the limit."""

    list_display = ("username", "failures_since_start", "locked", "attempt_time", "ip_address")
    search_fields = ("username", "ip_address")
    fields = ("username", "failures_since_start", "attempt_time", "ip_address", "user_agent")
    actions = [unlock_accounts]

    @admin.display(boolean=True, description="Locked now")
    def locked(self, attempt) -> bool:
        return is_locked(attempt)

    def get_actions(self, request, action_location=admin.ActionLocation.CHANGE_LIST):
        if not may_edit_reference_data(request.user):
            return {}
        return super().get_actions(request, action_location=action_location)
