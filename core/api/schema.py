"""The OpenAPI schema: every response each operation can give, in the problem shape for errors,
and the If-Match / Idempotency-Key headers. Kept apart from the other core.api modules because drf-spectacular's
AutoSchema imports DRF's views, which read the settings that name those modules' classes.
"""

from __future__ import annotations

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter

from .errors import PROBLEM_CONTENT_TYPE, ProblemSerializer
from .views import ApiViewMixin

IF_MATCH = OpenApiParameter(
    "If-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=True,
    description="The ETag you last read (from the ETag header or the object's etag field). "
    "Missing: 428. No longer current: 412, and nothing is written.",
)
IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=False,
    description="Any unique string up to 255 visible ASCII characters. A retry with the same key and body "
    "returns the first response instead of creating again; the same key with another body is a 422. "
    "Kept for 24 hours.",
)


ERROR_DESCRIPTIONS = {
    400: "Bad input: the errors member names each field and what is wrong with it.",
    401: "No credentials, or a token that is unknown, revoked or expired.",
    403: "Signed in, but not allowed to do this (read-only role, another agency, OMB-only field).",
    404: "Nothing here that you may see (another agency's object is a 404 too), or a page past the end.",
    406: "The Accept header asks for something other than JSON.",
    409: "A request with the same Idempotency-Key is still running.",
    412: "If-Match is not the current ETag: someone changed this since you read it. Nothing was written.",
    415: "Send the body as application/json.",
    422: "This Idempotency-Key was used with a different request.",
    428: "If-Match is missing: send the ETag you last read.",
    429: "Too many requests for this token; see Retry-After.",
}


class ProblemAutoSchema(AutoSchema):
    """Documents every response an operation can give, errors in the problem shape, and the
    If-Match / Idempotency-Key headers; request bodies refuse unknown fields."""

    def _needs_if_match(self) -> bool:
        action = getattr(self.view, "action", None)
        return self.method != "GET" and action in getattr(self.view, "if_match_actions", ())

    def get_override_parameters(self):
        parameters = list(super().get_override_parameters())
        if self._needs_if_match():
            parameters.append(IF_MATCH)
        if self.method == "POST" and isinstance(self.view, ApiViewMixin):
            parameters.append(IDEMPOTENCY_KEY)
        return parameters

    def _map_basic_serializer(self, serializer, direction):
        schema = super()._map_basic_serializer(serializer, direction)
        if direction == "request":
            schema["additionalProperties"] = False
        return schema

    def _error_statuses(self) -> list[int]:
        codes = {400, 401, 403, 404, 406, 429}
        if self.method in ("POST", "PUT", "PATCH"):
            codes.add(415)
        if self.method == "POST" and isinstance(self.view, ApiViewMixin):
            codes |= {409, 422}
        if self._needs_if_match():
            codes |= {412, 428}
        return sorted(codes)

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        action = getattr(self.view, "action", None)
        if isinstance(self.view, ApiViewMixin) and not self._is_list_view() and action != "list":
            for success in ("200", "201"):
                if success in responses:
                    responses[success].setdefault("headers", {})["ETag"] = {
                        "schema": {"type": "string"},
                        "description": "Send it back as If-Match when you change this object.",
                    }
        for code in self._error_statuses():
            if str(code) not in responses:
                response = self._get_response_for_code(
                    ProblemSerializer, str(code), media_types=[PROBLEM_CONTENT_TYPE], direction=direction
                )
                response["description"] = ERROR_DESCRIPTIONS[code]
                responses[str(code)] = response
        return responses
