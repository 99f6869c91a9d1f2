"""Account lockout after repeated failed sign-ins (django-axes counts; this says so on the page)."""

from __future__ import annotations

import math

from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.shortcuts import render
from django.utils import timezone

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
