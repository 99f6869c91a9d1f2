"""What happens at the second step of sign-in; the audit app listens (this app imports no listener)."""

from django.dispatch import Signal

# user, request, kind ("totp", "webauthn" or "recovery code")
second_factor_verified = Signal()
# user, request
second_factor_failed = Signal()
# user, request, kind, change ("added", "removed" or "recovery codes replaced")
second_factor_changed = Signal()
