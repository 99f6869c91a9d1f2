"""The OpenAPI schema: every response each operation can give, in the problem shape for errors,
and the If-Match / Idempotency-Key headers. Kept apart from the other core.api modules because drf-spectacular's
AutoSchema imports DRF's views, which read the settings that name those modules' classes.
"""

from __future__ import annotations

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers

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
# The server's rule for a key (core.api.views), declared: 1 to 255 visible ASCII characters.
IDEMPOTENCY_KEY_SCHEMA = {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[!-~]{1,255}$"}
IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    IDEMPOTENCY_KEY_SCHEMA,
    OpenApiParameter.HEADER,
    required=False,
    description="Any unique string up to 255 visible ASCII characters. A retry with the same key and body "
    "returns the first response instead of creating again; the same key with another body is a 422. "
    "Kept for 24 hours.",
)


# Text the server refuses anywhere in a body (core.api.parsers.bad_text): NUL characters.
PLAIN_TEXT_PATTERN = "^[^\\u0000]*$"
# ... and, where the field may not be blank, at least one character that is not white space (DRF trims it).
PRESENT_TEXT_PATTERN = "^[^\\u0000]*[^\\s\\u0000][^\\u0000]*$"


# What Django's URLValidator takes, as a pattern (a "uri" format would allow any scheme, such as "urn:x"):
# http(s), a host name of labels with a top-level domain, then any path without spaces.
URL_PATTERN = r"^https?://([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}(/[A-Za-z0-9._~%/-]*)?$"


def declare_input_limits(prop: dict | None, field) -> None:
    """What the parser and fields refuse that drf-spectacular leaves out: NUL in free text, empty lists,
    URLs other than http(s) to a host name."""
    if not isinstance(prop, dict) or getattr(field, "read_only", False):
        return
    if isinstance(field, serializers.URLField):
        prop.pop("format", None)
        prop["pattern"] = f"^$|{URL_PATTERN}" if field.allow_blank else URL_PATTERN
    if prop.get("type") == "string" and not {"format", "enum", "pattern"} & prop.keys():
        required_text = isinstance(field, serializers.CharField) and field.trim_whitespace and not field.allow_blank
        prop["pattern"] = PRESENT_TEXT_PATTERN if required_text else PLAIN_TEXT_PATTERN
    if prop.get("type") == "array" and getattr(field, "allow_empty", True) is False:
        prop.setdefault("minItems", 1)


ERROR_DESCRIPTIONS = {
    400: "Bad input: the errors member names each field and what is wrong with it.",
    401: "No credentials, or a token that is unknown, revoked or expired.",
    403: "Signed in, but not allowed to do this (read-only role, another agency, OMB-only field).",
    404: "Nothing here that you may see (another agency's object is a 404 too), a page past the end, or an "
    "object the body names (card, meeting, owner ...) that does not exist or that you may not see.",
    406: "The Accept header asks for something other than JSON.",
    409: "A request with the same Idempotency-Key is still running, or the write conflicts with data already "
    "there (another meeting at that time).",
    412: "If-Match is not the current ETag: someone changed this since you read it. Nothing was written.",
    413: "The body is larger than the server takes (DATA_UPLOAD_MAX_MEMORY_SIZE).",
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

    def _get_parameters(self):
        parameters = super()._get_parameters()
        for parameter in parameters:
            if parameter.get("in") == "query":
                declare_input_limits(parameter.get("schema"), None)
        return parameters

    def _map_basic_serializer(self, serializer, direction):
        schema = super()._map_basic_serializer(serializer, direction)
        if direction == "request":
            schema["additionalProperties"] = False
            if getattr(serializer, "min_fields", 0):
                schema["minProperties"] = serializer.min_fields
            for name, field in serializer.fields.items():
                declare_input_limits(schema.get("properties", {}).get(name), field)
        return schema

    def _error_statuses(self) -> list[int]:
        codes = {400, 401, 403, 404, 406, 429}
        if self.method in ("POST", "PUT", "PATCH"):
            codes |= {413, 415}
        if self.method == "POST" and isinstance(self.view, ApiViewMixin):
            codes |= {409, 422}
        if self.method == "PATCH":
            codes.add(409)
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
