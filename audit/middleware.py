"""Records every change (any non-safe request) and every refused request, with its outcome.

A write endpoint may have its row written inside its own transaction (request_audited, through
core.api.views.write_answered), so the change and its row commit together in one INSERT; the
middleware then writes nothing more, unless the answer changed on the way out (a later error).
"""

from __future__ import annotations

from django.urls import Resolver404, resolve

from .context import RequestAudit, _current, request_id_for
from .services import Outcome, audit_record

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
DENIED_STATUSES = frozenset({401, 403, 404, 405})
OBJECT_KWARGS = ("pk", "object_id", "id", "card_pk", "action_pk", "meeting_pk")


def _outcome(status: int) -> str:
    if status >= 500:
        return Outcome.ERROR
    if status in DENIED_STATUSES:
        return Outcome.DENIED
    if status >= 400:
        return Outcome.FAILURE
    return Outcome.SUCCESS


def _target(request) -> tuple[str, str, str]:
    """The view's name, and the object type and id that its URL names."""
    match = getattr(request, "resolver_match", None)
    if match is None:
        try:
            match = resolve(request.path_info)
        except Resolver404:
            return "", "", ""
    view_name = match.view_name or ""
    object_id = next((str(match.kwargs[key]) for key in OBJECT_KWARGS if key in match.kwargs), "")
    model_admin = getattr(match.func, "model_admin", None)  # the admin marks its views with their ModelAdmin
    object_type = model_admin.opts.label_lower if model_admin is not None else view_name
    return view_name, object_type, object_id


class AuditMiddleware:
    """Place after AuthenticationMiddleware. Adds X-Request-ID to every response."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        audit = RequestAudit(request_id=request_id_for(request), request=request)
        request.audit = audit
        token = _current.set(audit)
        try:
            response = self.get_response(request)
        finally:
            _current.reset(token)
        _current.set(audit)
        try:
            self._record(request, response, audit)
        finally:
            _current.set(None)
        response["X-Request-ID"] = audit.request_id
        return response

    def _record(self, request, response, audit: RequestAudit) -> None:
        status = response.status_code
        if audit.answered == status:  # written with the change, in its transaction (request_audited)
            return
        if audit.recorded or not _worth_a_row(request, status):
            return
        audit_record(**_request_row(request, status, audit))


def _worth_a_row(request, status: int) -> bool:
    """Every change (non-safe request), refusal and server error; a token's first use."""
    api_token = _api_token(request)
    token_first_use = api_token is not None and getattr(api_token, "use_recorded", False)
    return request.method not in SAFE_METHODS or status in DENIED_STATUSES or status >= 500 or token_first_use


def _request_row(request, status: int, audit: RequestAudit) -> dict:
    """The audit row of this request and its answer, as audit_record's arguments."""
    changed = request.method not in SAFE_METHODS
    denied = status in DENIED_STATUSES
    api_token = _api_token(request)
    view_name, object_type, object_id = _target(request)
    details: dict = {"view": view_name} if view_name else {}
    if audit.events:
        details["events"] = audit.events
    if api_token is not None:
        details["token"] = {"id": api_token.pk, "prefix": api_token.prefix}
    if changed or denied or status >= 500:
        action = "access.denied" if denied else f"request.{request.method.lower()}"
    else:
        action = "token.used"
    return {
        "action": action,
        "outcome": _outcome(status),
        "request": request,
        "actor": getattr(request, "user", None),
        "on_behalf_of_id": audit.on_behalf_of_id,
        "object_type": audit.object_type or object_type,
        "object_id": audit.object_id or object_id,
        "status_code": status,
        "details": details,
    }


def request_audited(request, status: int) -> None:
    """The request's row, written now inside the transaction of the change it made (one INSERT, no commit of
    its own); the middleware then writes none, unless the answer turns out to be another (a later error)."""
    audit = getattr(request, "audit", None)
    if audit is None or audit.recorded or not _worth_a_row(request, status):
        return
    audit_record(**_request_row(request, status, audit), with_change=True)
    audit.answered = status


def _api_token(request):
    from agencies.models import ApiToken

    auth = getattr(request, "auth", None)
    return auth if isinstance(auth, ApiToken) else None
