"""Password sign-in closed when single sign-on is on (PASSWORD_SIGN_IN=false), but for break-glass OMB admins."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied

from . import policy


class PasswordPolicyBackend:
    """Runs after the lockout check and before the password check; refuses a password sign-in the policy closes.

    Refusing raises PermissionDenied, so no later backend checks the password; the attempt is a failed sign-in
    (audit log, lockout count) and the form says no more than for a wrong password. No get_user: it signs no
    one in, so sessions (and the test client's force_login) never name it.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is None or password is None or policy.password_sign_in_open():
            return None
        if not policy.is_break_glass(username):
            raise PermissionDenied("Password sign-in is off.")
        user = get_user_model()._default_manager.filter(username=username, is_active=True).first()
        if user is None or not policy.may_use_password(user):
            raise PermissionDenied("Password sign-in is off.")
        return None  # a break-glass OMB admin: the password backend checks the password
