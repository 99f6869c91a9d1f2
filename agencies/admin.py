"""Admin for agencies, memberships and OMB roles. Who may use the admin at all is sites.py's: the OMB role decides.

OMB admins use the admin; OMB viewers may read it; superusers may too, but the workflow
services only accept OMB admins, so a superuser without that role reads cards and meetings
and manages reference data. ``is_staff`` does not matter: the OMB role decides.
"""

from typing import TYPE_CHECKING, Any

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin

from .models import Agency, Membership, OmbRole
from .sites import may_edit_reference_data, may_view_admin

User = get_user_model()

# For the type checker only: the mixin is always mixed into a ModelAdmin or an inline (as in core.admin).
_ModelAdmin: Any = admin.ModelAdmin if TYPE_CHECKING else object


class RoleAccessMixin(_ModelAdmin):
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


class MembershipInline(RoleAccessMixin, admin.TabularInline):
    model = Membership
    fields = ("user", "role", "title", "started_on", "ended_on")
    extra = 0

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("user")


@admin.register(Agency)
class AgencyAdmin(RoleAccessMixin, admin.ModelAdmin):
    list_display = ("name", "abbreviation", "parent", "cfo_act", "hisp", "active")
    list_filter = ("cfo_act", "hisp", "active", "certification_required", ("parent", admin.EmptyFieldListFilter))
    list_select_related = ("parent",)
    search_fields = ("name", "abbreviation", "parent__name", "parent__abbreviation")
    inlines = [MembershipInline]
    # Certification is the deputy secretary's switch (services.agency_set_certification, on the profile page).
    # challenge_cards.admin adds the "issue a card to these agencies" action to this admin.
    readonly_fields = ("certification_required",)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "parent":
            kwargs["queryset"] = Agency.objects.filter(parent__isnull=True)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(Membership)
class MembershipAdmin(RoleAccessMixin, admin.ModelAdmin):
    list_display = ("user", "agency", "role", "title", "started_on", "ended_on")
    list_filter = ("role", ("ended_on", admin.EmptyFieldListFilter), "agency__cfo_act", "agency")
    list_select_related = ("user", "agency")
    search_fields = (
        "user__username",
        "user__first_name",
        "user__last_name",
        "user__email",
        "agency__name",
        "agency__abbreviation",
        "title",
    )


@admin.register(OmbRole)
class OmbRoleAdmin(RoleAccessMixin, admin.ModelAdmin):
    list_display = ("user", "kind")
    list_filter = ("kind",)
    list_select_related = ("user",)
    search_fields = ("user__username", "user__first_name", "user__last_name", "user__email")


class PersonMembershipInline(MembershipInline):
    fields = ("agency", "role", "title", "started_on", "ended_on")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("agency")


if admin.site.is_registered(User):
    admin.site.unregister(User)


@admin.register(User)
class PersonAdmin(RoleAccessMixin, UserAdmin):
    """User accounts: OMB admins add deputies and delegates; only superusers grant admin powers."""

    list_display = ("username", "first_name", "last_name", "email", "is_active", "omb_role_kind")
    list_filter = ("is_active", "omb_role__kind", "memberships__role", "is_superuser")
    list_select_related = ("omb_role",)
    inlines = [PersonMembershipInline]
    superuser_only_fields = ("is_superuser", "is_staff", "groups", "user_permissions")

    @admin.display(description="OMB role", ordering="omb_role__kind")
    def omb_role_kind(self, user) -> str:
        role = getattr(user, "omb_role", None)
        return role.get_kind_display() if role else ""

    def get_readonly_fields(self, request, obj=None):
        readonly = ("last_login", "date_joined")
        return readonly if request.user.is_superuser else readonly + self.superuser_only_fields

    def has_change_permission(self, request, obj=None) -> bool:
        """An OMB admin may not change (or reset the password of) a superuser."""
        if obj is not None and obj.is_superuser and not request.user.is_superuser:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return request.user.is_superuser  # others deactivate: history keeps its authors
