"""Who may use the admin at all: the OMB role decides, not ``is_staff``.

The admin site is ``OmbAdminSite``, made the default site by ``agencies.apps.OmbAdminConfig`` (in
INSTALLED_APPS instead of ``django.contrib.admin``). It lives apart from agencies.admin because the default site
is built on first use, while the apps' admin modules are being imported.
"""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError

from .roles import roles_of


def may_view_admin(user) -> bool:
    """Active OMB admins and viewers, and superusers, may open the admin."""
    if not getattr(user, "is_active", False):
        return False
    return user.is_superuser or roles_of(user).is_omb


def may_edit_reference_data(user) -> bool:
    """Agencies, memberships, roles and the PMA: OMB admins and superusers."""
    return getattr(user, "is_active", False) and (user.is_superuser or roles_of(user).omb_admin)


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


class OmbAdminSite(admin.AdminSite):
    """The admin: OMB admins and viewers (and superusers) may use it, whatever their is_staff flag."""

    login_form = OmbAdminLoginForm

    def has_permission(self, request) -> bool:
        return may_view_admin(request.user)
