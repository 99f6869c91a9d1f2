"""Account lockout after repeated failed sign-ins (django-axes counts; this says so on the page)."""

from __future__ import annotations

import math

from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import PermissionDenied
from django.shortcuts import render
from django.utils import timezone

from agencies.roles import roles_of

from .services import Outcome, audit_record


def minutes_left(username: str) -> int:
    """Whole minutes until the newest failure is older than the lockout period (at least 1)."""
    latest = (
        AccessAttempt.objects.filter(username=username).order_by("-attempt_time").values_list("attempt_time", flat=True)
    ).first()
    if latest is None:
        return settings.AUTH_LOCKOUT_MINUTES
    remaining = latest + settings.AXES_COOLOFF_TIME - timezone.now()
    return max(1, math.ceil(remaining.total_seconds() / 60))


def is_locked(attempt: AccessAttempt) -> bool:
    """An account is locked while its counted failures reach the limit, the newest within the period."""
    fresh = attempt.attempt_time > timezone.now() - settings.AXES_COOLOFF_TIME
    return fresh and attempt.failures_since_start >= settings.AUTH_LOCKOUT_FAILURES


def accounts_unlock(*, actor, usernames: set[str], request=None) -> list[str]:
    """Forget the counted failures of these accounts (OMB admins only), each unlock in the audit log."""
    if not (getattr(actor, "is_active", False) and (actor.is_superuser or roles_of(actor).omb_admin)):
        raise PermissionDenied("Only OMB admins unlock accounts.")
    unlocked = sorted(usernames)
    AccessAttempt.objects.filter(username__in=unlocked).delete()
    for username in unlocked:
        audit_record(
            action="auth.unlocked",
            outcome=Outcome.SUCCESS,
            request=request,
            actor=actor,
            object_type="auth.user",
            details={"username": username},
        )
    return unlocked


def lockout_response(request, original_response=None, credentials=None):
    """The sign-in page again, saying plainly that the account is locked and for how long."""
    username = str((credentials or {}).get("username") or request.POST.get("username") or "")[:150]
    minutes = minutes_left(username)
    audit_record(
        action="auth.locked_out",
        outcome=Outcome.DENIED,
        request=request,
        actor_username=username,
        status_code=429,
        details={"minutes_left": minutes, "failure_limit": settings.AUTH_LOCKOUT_FAILURES},
    )
    audit = getattr(request, "audit", None)
    if audit is not None:
        audit.recorded = True
    form = AuthenticationForm(request, initial={"username": username})
    context = {
        "form": form,
        "locked_out": True,
        "lockout_minutes": minutes,
        "failure_limit": settings.AUTH_LOCKOUT_FAILURES,
        "next": request.POST.get("next", request.GET.get("next", "")),
    }
    return render(request, "registration/login.html", context, status=429)
