"""One error shape for the whole API: RFC 9457 problem details (application/problem+json).

{"type": ..., "title": ..., "status": 400, "detail": ..., "instance": "/api/v1/...",
 "errors": {"field": ["message", ...]}}

Every failure the API can give goes through problem_exception_handler: DRF's own
exceptions, Django's ValidationError/PermissionDenied/Http404 raised by services and
querysets, and core.exceptions.StaleWrite (a stale write is 412 Precondition Failed).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpResponse, JsonResponse
from django.views import defaults
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error

from core.exceptions import StaleWrite

PROBLEM_CONTENT_TYPE = "application/problem+json"
PROBLEM_TYPE_BASE = "urn:challenge-cards:problem:"
NON_FIELD = "non_field_errors"


class PreconditionRequired(exceptions.APIException):
    status_code = 428
    default_detail = "Send the If-Match header with the ETag you last read, so nobody's change is overwritten."
    default_code = "precondition_required"


class PreconditionFailed(exceptions.APIException):
    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_detail = "Someone else changed this after you read it. Get it again, review the change, then retry."
    default_code = "precondition_failed"


class IdempotencyKeyReused(exceptions.APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = "This Idempotency-Key was already used with a different request. Use a new key."
    default_code = "idempotency_key_reused"


class IdempotencyInProgress(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "A request with this Idempotency-Key is still being processed. Retry in a moment."
    default_code = "idempotency_in_progress"


class RequestTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is too large."
    default_code = "request_too_large"


class ProblemSerializer(serializers.Serializer):
    """The documented shape of every error response."""

    type = serializers.CharField(help_text="A URI naming the kind of problem.")
    title = serializers.CharField(help_text="A short summary of the kind of problem.")
    status = serializers.IntegerField(help_text="The HTTP status code.")
    detail = serializers.CharField(help_text="What went wrong this time, in plain words.")
    instance = serializers.CharField(help_text="The path of the request.")
    errors = serializers.DictField(  # type: ignore[assignment]  # a field named like Serializer.errors
        child=serializers.ListField(child=serializers.CharField()),
        required=False,
        help_text="Messages per input field; non_field_errors for the request as a whole.",
    )


TITLES = {
    400: "Bad request",
    401: "Not signed in",
    403: "Not allowed",
    404: "Not found",
    405: "Method not allowed",
    406: "Not acceptable",
    409: "Conflict",
    412: "Changed since you read it",
    413: "Request too large",
    415: "Unsupported media type",
    422: "Unprocessable request",
    428: "If-Match required",
    429: "Too many requests",
}


def _flatten(detail: Any, prefix: str = "") -> dict[str, list[str]]:
    """DRF's nested error details as {"field" or "field.0.sub": [messages]}."""
    errors: dict[str, list[str]] = {}
    if isinstance(detail, dict):
        for key, value in detail.items():
            name = NON_FIELD if key in ("__all__", NON_FIELD) and not prefix else f"{prefix}{key}"
            for field, messages in _flatten(value, f"{name}.").items():
                errors.setdefault(field, []).extend(messages)
    elif isinstance(detail, list):
        plain = [str(item) for item in detail if not isinstance(item, dict | list)]
        if plain:
            errors[prefix.rstrip(".") or NON_FIELD] = plain
        for index, item in enumerate(detail):
            if isinstance(item, dict | list):
                errors.update(_flatten(item, f"{prefix}{index}."))
    else:
        errors[prefix.rstrip(".") or NON_FIELD] = [str(detail)]
    return errors


# A body that names an object the caller cannot see (or that is not there): a 404, as for a path.
NOT_FOUND_CODES = frozenset({"does_not_exist"})
# A write refused by the data already there (another meeting at that time), not by its input: a 409.
CONFLICT_CODES = frozenset({"conflict"})


def _codes(detail: Any) -> set[str]:
    if isinstance(detail, dict):
        return set().union(*(_codes(value) for value in detail.values()))
    if isinstance(detail, list):
        return set().union(*(_codes(value) for value in detail))
    return {getattr(detail, "code", "") or ""}


def problem(
    status_code: int, detail: str, *, code: str = "", errors: dict[str, list[str]] | None = None, instance: str = ""
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": f"{PROBLEM_TYPE_BASE}{code}" if code else "about:blank",
        "title": TITLES.get(status_code, "Error"),
        "status": status_code,
        "detail": detail,
        "instance": instance,
    }
    if errors:
        body["errors"] = errors
    return body


def _as_api_exception(exc: Exception) -> exceptions.APIException | None:
    if isinstance(exc, exceptions.APIException):
        return exc
    if isinstance(exc, StaleWrite):
        return PreconditionFailed(str(exc))
    if isinstance(exc, DjangoValidationError):
        return exceptions.ValidationError(as_serializer_error(exc))
    if isinstance(exc, DjangoPermissionDenied):
        return exceptions.PermissionDenied(str(exc) or None)
    if isinstance(exc, Http404):
        return exceptions.NotFound()
    if isinstance(exc, RequestDataTooBig):  # Django's own limit, met when DRF reads the body
        return RequestTooLarge(f"The request body is larger than {settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes.")
    return None


def problem_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """REST_FRAMEWORK["EXCEPTION_HANDLER"]: any known failure as a problem response; None means a 500."""
    api_exc = _as_api_exception(exc)
    if api_exc is None:
        return None
    request = context.get("request")
    instance = request.path if request is not None else ""
    headers: dict[str, str] = {}
    auth_header, wait = getattr(api_exc, "auth_header", None), getattr(api_exc, "wait", None)
    if auth_header:
        headers["WWW-Authenticate"] = auth_header
    if wait:
        headers["Retry-After"] = str(int(wait))
    if isinstance(api_exc, exceptions.ValidationError):
        errors = _flatten(api_exc.detail)
        codes = _codes(api_exc.detail)
        if codes <= NOT_FOUND_CODES:
            summary = "The body names something that does not exist or that you may not see."
            body = problem(404, summary, code="not-found", errors=errors, instance=instance)
            return Response(body, status=404, headers=headers, content_type=PROBLEM_CONTENT_TYPE)
        if codes <= CONFLICT_CODES:
            summary = next(iter(errors.values()))[0]
            body = problem(409, summary, code="conflict", errors=errors, instance=instance)
            return Response(body, status=409, headers=headers, content_type=PROBLEM_CONTENT_TYPE)
        messages = errors.get(NON_FIELD) or []
        summary = messages[0] if len(errors) == 1 and messages else "Check the highlighted fields and try again."
        body = problem(400, summary, code="validation-error", errors=errors, instance=instance)
        return Response(body, status=400, headers=headers, content_type=PROBLEM_CONTENT_TYPE)
    detail = api_exc.detail
    text = str(detail) if not isinstance(detail, dict | list) else "; ".join(_flatten(detail).get(NON_FIELD, []))
    code = getattr(api_exc, "default_code", "") or ""
    body = problem(api_exc.status_code, text, code=code.replace("_", "-"), instance=instance)
    return Response(body, status=api_exc.status_code, headers=headers, content_type=PROBLEM_CONTENT_TYPE)


@csrf_exempt
def api_not_found(request, *args, **kwargs) -> JsonResponse:
    """Unknown paths under /api/v1/ answer with a problem, not the site's HTML 404 page."""
    body = problem(404, "There is no API endpoint at this address.", code="not-found", instance=request.path)
    return JsonResponse(body, status=404, content_type=PROBLEM_CONTENT_TYPE)


def bad_request(request, exception) -> HttpResponse:
    """Django's handler400 (config.urls): a request refused before any view, such as one whose Host header
    this server does not answer to. Under /api/ it is a problem like every other API error; pages keep
    Django's own page."""
    if request.path_info.startswith(getattr(settings, "API_PATH_PREFIX", "/api/")):
        body = problem(400, "The server could not read this request.", code="bad-request", instance=request.path)
        return JsonResponse(body, status=400, content_type=PROBLEM_CONTENT_TYPE)
    return defaults.bad_request(request, exception)
