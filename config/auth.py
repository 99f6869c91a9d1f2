"""The backends that load the signed-in user on every page request, with the header's unread count.

Django loads the user by id once per request; annotating that one query with the inbox's unread
count saves every page a query of its own (notifications.context_processors reads it).
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.db.models import OuterRef

from notifications.models import Notification


class SignedInUserMixin:
    def get_user(self, user_id):
        user = (
            get_user_model()
            ._default_manager.annotate(unread_notifications=Notification.objects.unread_count_of(OuterRef("pk")))
            .filter(pk=user_id)
            .first()
        )
        return user if user is not None and user.is_active else None


class PasswordBackend(SignedInUserMixin, ModelBackend):
    """Username and password, as ModelBackend; the user comes with the unread count."""
