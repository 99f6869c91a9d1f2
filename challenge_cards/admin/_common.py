"""What the card admins share: OMB roles decide access, services write, and an intermediate page for actions."""

from __future__ import annotations

from django.contrib.admin import helpers
from django.template.response import TemplateResponse

from agencies.admin import ReadOnlyMixin, RoleAccessMixin
from core.admin import ServiceAdminMixin as _ServiceAdminMixin
from core.admin import ServiceForm, ServiceInlineMixin, add_service_errors, messages_of

__all__ = [
    "ReadOnlyMixin",
    "RoleAccessMixin",
    "ServiceAdminMixin",
    "ServiceForm",
    "ServiceInlineMixin",
    "action_form_page",
    "add_service_errors",
    "messages_of",
]


class ServiceAdminMixin(_ServiceAdminMixin, RoleAccessMixin):
    """A model written only through services, for OMB roles."""


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
