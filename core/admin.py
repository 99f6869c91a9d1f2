"""Admin building blocks that import no app: forms and model admins that write through services.

A form's ``apply()`` calls the service once the form itself is valid, so a refused write (bad input,
a stale version, a forbidden change) becomes a form error instead of a server error; the change
view then rolls the whole request back if anything on the page did not validate.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from core.exceptions import StaleWrite


def add_service_errors(form: forms.BaseForm, error: Exception) -> None:
    """Show a service's refusal on the form: field errors by field, the rest on top."""
    if isinstance(error, StaleWrite):
        form.add_error(None, f"{error} Open the page again to see the latest version.")
    elif isinstance(error, PermissionDenied):
        form.add_error(None, str(error) or "You are not allowed to make this change.")
    elif hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, messages_of(error))


class ServiceForm(forms.ModelForm):
    """A ModelForm whose ``apply()`` calls a service once the form itself is valid."""

    request: Any = None  # set per request by the admin's get_form / get_formset
    result: Any = None

    def full_clean(self) -> None:
        super().full_clean()
        if not self.is_bound or self.errors:
            return
        try:
            self.result = self.apply()
        except (ValidationError, PermissionDenied, StaleWrite) as error:
            add_service_errors(self, error)

    def apply(self) -> Any:
        raise NotImplementedError


# For the type checker only: these mixins are always mixed into a ModelAdmin / an inline.
_ModelAdmin: Any = admin.ModelAdmin if TYPE_CHECKING else object
_Inline: Any = admin.options.InlineModelAdmin if TYPE_CHECKING else object


class ServiceAdminMixin(_ModelAdmin):
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


class ServiceInlineMixin(_Inline):
    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        formset.form.request = request
        return formset


def messages_of(error: Exception) -> list[str]:
    """What a refusal says, sentence by sentence (a PermissionDenied or StaleWrite has one)."""
    return getattr(error, "messages", None) or [str(error)]
