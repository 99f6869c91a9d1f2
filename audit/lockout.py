"""Sign-in lockout and slowdown after repeated failed sign-ins (django-axes counts; this says so on the page).

Two rules, so that nobody who merely knows a user name can keep its owner out:

- the lock (FedRAMP AC-7): AUTH_LOCKOUT_FAILURES failures from one address for one user name lock that
  user name *from that address* for AUTH_LOCKOUT_MINUTES (AXES_LOCKOUT_PARAMETERS);
- the slowdown: once a user name has AUTH_SLOWDOWN_FAILURES failures in the period from all addresses
  together, its password is checked at most once every AUTH_SLOWDOWN_SECONDS; a try sooner is refused
  with "wait N seconds" and not counted. The user and the OMB admins are told by e-mail (once a period),
  and the audit log records it.
"""

from __future__ import annotations

import datetime
import logging
import math

from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import AuthenticationForm
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.db.models import Max, Sum
from django.forms.utils import ErrorDict
from django.shortcuts import render
from django.utils import timezone

from agencies.models import OmbRole
from agencies.roles import roles_of

from .context import client_ip
from .models import AuditEvent
from .services import Outcome, audit_record

logger = logging.getLogger(__name__)

SLOWDOWN_ALERT = "auth.slowdown_alert"
# Set on a request refused for the slowdown: django-axes neither counts it nor locks for it (not_counted).
WAIT_ATTRIBUTE = "cc_sign_in_wait"


def minutes_left(username: str, address: str | None = None) -> int:
    """Whole minutes until the newest failure (from this address) is older than the lockout period (at least 1)."""
    attempts = AccessAttempt.objects.filter(username=username)
    if address is not None:
        attempts = attempts.filter(ip_address=address)
    latest = attempts.order_by("-attempt_time").values_list("attempt_time", flat=True).first()
    if latest is None:
        return settings.AUTH_LOCKOUT_MINUTES
    remaining = latest + settings.AXES_COOLOFF_TIME - timezone.now()
    return max(1, math.ceil(remaining.total_seconds() / 60))


def is_locked(attempt: AccessAttempt) -> bool:
    """An account is locked while its counted failures reach the limit, the newest within the period."""
    fresh = attempt.attempt_time > timezone.now() - settings.AXES_COOLOFF_TIME
    return fresh and attempt.failures_since_start >= settings.AUTH_LOCKOUT_FAILURES


def username_failures(username: str) -> tuple[int, datetime.datetime | None]:
    """Failures for this user name within the lockout period, from every address, and the newest one's time."""
    fresh = AccessAttempt.objects.filter(
        username=username, attempt_time__gt=timezone.now() - settings.AXES_COOLOFF_TIME
    ).aggregate(total=Sum("failures_since_start"), latest=Max("attempt_time"))
    return fresh["total"] or 0, fresh["latest"]


def slowdown_wait(username: str) -> int:
    """Seconds before this user name's password may be checked again (0: now)."""
    threshold = settings.AUTH_SLOWDOWN_FAILURES
    if not username or threshold <= 0:
        return 0
    total, latest = username_failures(username)
    if total < threshold or latest is None:
        return 0
    remaining = latest + datetime.timedelta(seconds=settings.AUTH_SLOWDOWN_SECONDS) - timezone.now()
    return max(0, math.ceil(remaining.total_seconds()))


def not_counted(request, credentials=None) -> bool:
    """AXES_WHITELIST_CALLABLE: a try refused for the slowdown is neither counted nor a reason to lock."""
    return bool(getattr(request, WAIT_ATTRIBUTE, 0))


def slowdown_check(request, username: str) -> None:
    """Before the password check: alert once a period when the user name is under attack; refuse a try
    that comes sooner than the slowdown allows (the lockout callable then answers "wait N seconds")."""
    total, _latest = username_failures(username)
    if total < settings.AUTH_SLOWDOWN_FAILURES or settings.AUTH_SLOWDOWN_FAILURES <= 0:
        return
    _alert_once(request, username, total)
    wait = slowdown_wait(username)
    if wait:
        setattr(request, WAIT_ATTRIBUTE, wait)
        request.axes_locked_out = True  # AxesMiddleware then answers with lockout_response
        raise PermissionDenied(f"Too many failed sign-ins for {username}: wait {wait} seconds.")


def _alert_once(request, username: str, total: int) -> None:
    since = timezone.now() - settings.AXES_COOLOFF_TIME
    if AuditEvent.objects.filter(action=SLOWDOWN_ALERT, actor_username=username, occurred_at__gt=since).exists():
        return
    audit_record(
        action=SLOWDOWN_ALERT,
        outcome=Outcome.DENIED,
        request=request,
        actor_username=username,
        status_code=429,
        details={"failures": total, "threshold": settings.AUTH_SLOWDOWN_FAILURES, "address": client_ip(request)},
    )
    _send_alert(username, total)


def _send_alert(username: str, total: int) -> None:
    """E-mail the account's owner (when the user name is an account) and every OMB admin."""
    user = get_user_model().objects.filter(username=username, is_active=True).first()
    admins = list(
        OmbRole.objects.filter(kind=OmbRole.Kind.ADMIN, user__is_active=True)
        .exclude(user__email="")
        .values_list("user__email", flat=True)
    )
    minutes, seconds = settings.AUTH_LOCKOUT_MINUTES, settings.AUTH_SLOWDOWN_SECONDS
    subject = f"Challenge Cards: {total} failed sign-ins for {username}"
    body = (
        f"In the last {minutes} minutes there were {total} failed sign-ins to the Challenge Cards account "
        f"{username}, from more than one place or faster than a person types.\n\n"
        f"For now the account's password is checked at most once every {seconds} seconds. The account is "
        "not locked: its owner can still sign in.\n\n"
        "If these were not you, tell your security office; OMB admins see the addresses in the audit log."
    )
    messages = []
    if user is not None and user.email:
        messages.append(mail.EmailMessage(subject, body, to=[user.email]))
    if admins:
        messages.append(mail.EmailMessage(f"[OMB admins] {subject}", body, bcc=admins))
    try:
        mail.mailers.default.send_messages(messages)
    except Exception:  # the alert must never break a sign-in page; the audit row stands
        logger.exception("The sign-in slowdown alert for %s was not sent", username)


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


def _slowdown_response(request, username: str, wait: int):
    audit_record(
        action="auth.sign_in_slowed",
        outcome=Outcome.DENIED,
        request=request,
        actor_username=username,
        status_code=429,
        details={"wait_seconds": wait, "threshold": settings.AUTH_SLOWDOWN_FAILURES},
    )
    form = AuthenticationForm(request, initial={"username": username})
    form.cleaned_data = {}
    form._errors = ErrorDict()  # type: ignore[attr-defined]  # Form's private error store: an unbound form with an error
    form.add_error(
        None,
        f"This account had many failed sign-ins, so its password is checked at most once every "
        f"{settings.AUTH_SLOWDOWN_SECONDS} seconds for now. Wait {wait} seconds and try again.",
    )
    context = {"form": form, "next": request.POST.get("next", request.GET.get("next", ""))}
    response = render(request, "registration/login.html", context, status=429)
    response["Retry-After"] = str(wait)
    return response


def lockout_response(request, original_response=None, credentials=None):
    """The sign-in page again, saying plainly that the account is locked (or slowed) and for how long."""
    username = str((credentials or {}).get("username") or request.POST.get("username") or "")[:150]
    audit = getattr(request, "audit", None)
    if audit is not None:
        audit.recorded = True
    wait = getattr(request, WAIT_ATTRIBUTE, 0)
    if wait:
        return _slowdown_response(request, username, wait)
    minutes = minutes_left(username, client_ip(request))
    audit_record(
        action="auth.locked_out",
        outcome=Outcome.DENIED,
        request=request,
        actor_username=username,
        status_code=429,
        details={"minutes_left": minutes, "failure_limit": settings.AUTH_LOCKOUT_FAILURES},
    )
    form = AuthenticationForm(request, initial={"username": username})
    context = {
        "form": form,
        "locked_out": True,
        "lockout_minutes": minutes,
        "failure_limit": settings.AUTH_LOCKOUT_FAILURES,
        "next": request.POST.get("next", request.GET.get("next", "")),
    }
    return render(request, "registration/login.html", context, status=429)
