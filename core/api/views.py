"""For API views: ETags, If-Match and Idempotency-Key, and detail lookups that ignore list filters."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from django.db import models
from django.dispatch import Signal
from rest_framework import exceptions, generics
from rest_framework.response import Response

from .errors import IdempotencyInProgress, IdempotencyKeyReused, PreconditionFailed, PreconditionRequired
from .idempotency import idempotency_claim, idempotency_complete, request_fingerprint

# Sent by a write endpoint inside its transaction, with the status it answers, just before the commit:
# receivers (the audit log) write their rows in that transaction. request: the HttpRequest; status: int.
write_answered = Signal()


def etag_for(kind: str, obj: models.Model) -> str:
    """A weak ETag from the object's version (or, for rows without one, its last change time)."""
    version = getattr(obj, "version", None)
    if version is None:
        return f'W/"{kind}-{obj.pk}-t{int(getattr(obj, "updated_at").timestamp() * 1000000)}"'  # noqa: B009
    return f'W/"{kind}-{obj.pk}-v{version}"'


def _opaque(tag: str) -> str:
    tag = tag.strip()
    return tag[2:] if tag.startswith("W/") else tag


def check_if_match(request, current_etag: str) -> None:
    """428 without If-Match; 412 when none of its tags is the current one. '*' is not enough."""
    header = request.headers.get("If-Match", "").strip()
    if not header or header == "*":
        raise PreconditionRequired()
    if _opaque(current_etag) not in {_opaque(tag) for tag in header.split(",")}:
        raise PreconditionFailed()


_KEY_PATTERN = re.compile(r"[\x21-\x7e]{1,255}")
_ID = re.compile(r"[0-9]{1,18}")


# For the type checker only: the mixin is always mixed into a DRF generic view.
_GenericView: Any = generics.GenericAPIView if TYPE_CHECKING else object


class ApiViewMixin(_GenericView):
    """For API views: Idempotency-Key on every POST, detail lookups that ignore list filters, ETags.

    - etag_kind: the word in this view's ETags, W/"<kind>-<id>-v<version>";
    - if_match_actions: actions that need a current If-Match (read by the schema, which then
      documents the header and the 412/428 answers; the view calls check_if_match).
    """

    if_match_actions: frozenset[str] = frozenset()
    etag_kind: str = ""

    _idempotency_record = None

    def requested_id(self) -> int:
        """The id in the URL; 404 unless it is a plain number."""
        raw = str(self.kwargs[self.lookup_url_kwarg or self.lookup_field])
        if not _ID.fullmatch(raw):
            raise exceptions.NotFound()
        return int(raw)

    def get_object(self):
        # Detail routes are not narrowed by list filters; a bad ?status= must not turn into a 404.
        obj = self.get_queryset().filter(**{self.lookup_field: self.requested_id()}).first()
        if obj is None:
            raise exceptions.NotFound()
        self.check_object_permissions(self.request, obj)
        return obj

    def etag(self, obj) -> str:
        return etag_for(self.etag_kind, obj)

    def answered_in_transaction(self, response: Response) -> Response:
        """Call inside the write's transaction: write_answered's receivers write their rows in it."""
        write_answered.send(sender=type(self), request=self.request._request, status=response.status_code)
        return response

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if request.method == "POST" and "Idempotency-Key" in request.headers:
            self._idempotency_begin(request)

    def _idempotency_begin(self, request) -> None:
        key = request.headers["Idempotency-Key"].strip()
        if not _KEY_PATTERN.fullmatch(key):
            raise exceptions.ValidationError({"Idempotency-Key": ["Use 1 to 255 visible ASCII characters."]})
        fingerprint = request_fingerprint(method=request.method, path=request.path, body=request.data)
        claim = idempotency_claim(user=request.user, key=key, fingerprint=fingerprint)
        if claim.outcome == "reused":
            raise IdempotencyKeyReused()
        if claim.outcome == "in_progress":
            raise IdempotencyInProgress()
        if claim.outcome == "replay":
            raise _Replay(claim.record)
        self._idempotency_record = claim.record

    def handle_exception(self, exc):
        if isinstance(exc, _Replay):
            headers = {**exc.record.response_headers, "Idempotent-Replayed": "true"}
            return Response(exc.record.response_body, status=exc.record.response_status, headers=headers)
        try:
            return super().handle_exception(exc)
        except Exception:
            # A server error: free the key so the client's retry runs again instead of a 409.
            record, self._idempotency_record = self._idempotency_record, None
            if record is not None:
                idempotency_complete(record=record, status=500, body=None, headers={})
            raise

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        record, self._idempotency_record = self._idempotency_record, None
        if record is not None:
            kept = {name: response[name] for name in ("ETag", "Location") if response.has_header(name)}
            idempotency_complete(record=record, status=response.status_code, body=response.data, headers=kept)
        return response


class _Replay(Exception):
    def __init__(self, record):
        self.record = record
