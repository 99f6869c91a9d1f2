"""The backends that load the signed-in user on every page request, with what every page header shows.

Django loads the user by id once per request; annotating that one query (with the inbox's unread
count, say) saves every page a query of its own. Which annotations is a setting,
SIGNED_IN_USER_ANNOTATIONS = {"name": "dotted.path.to.callable"}, each callable given the user's
id as an expression and returning a scalar expression, so this module imports no app.
"""

from __future__ import annotations

import functools

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.db.models import Expression, OuterRef
from django.utils.module_loading import import_string


@functools.cache
def _annotations() -> dict[str, object]:
    return {name: import_string(path) for name, path in getattr(settings, "SIGNED_IN_USER_ANNOTATIONS", {}).items()}


def signed_in_user_annotations() -> dict[str, Expression]:
    return {name: build(OuterRef("pk")) for name, build in _annotations().items()}  # type: ignore[operator]


class SignedInUserMixin:
    def get_user(self, user_id):
        user = get_user_model()._default_manager.annotate(**signed_in_user_annotations()).filter(pk=user_id).first()
        return user if user is not None and user.is_active else None


class PasswordBackend(SignedInUserMixin, ModelBackend):
    """Username and password, as ModelBackend; the user comes with the page header's annotations."""
