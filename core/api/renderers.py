"""What the API writes: DRF's JSON, written by orjson; and strict content negotiation."""

from __future__ import annotations

import re

import orjson
from rest_framework import exceptions, renderers
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.response import Response
from rest_framework.utils.encoders import JSONEncoder


class StrictContentNegotiation(DefaultContentNegotiation):
    """An empty ?format= is refused like an unknown one (404), instead of being ignored."""

    def select_renderer(self, request, renderers, format_suffix=None):
        name = self.settings.URL_FORMAT_OVERRIDE
        if not format_suffix and name and name in request.query_params and not request.query_params.get(name):
            raise exceptions.NotFound("Unknown format.")
        return super().select_renderer(request, renderers, format_suffix)


_DRF_ENCODER = JSONEncoder()
_ORJSON_OPTIONS = orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS
# orjson writes an aware date-time or a date as DRF does ('Z' for UTC), except a time of day with
# under 100,000 microseconds or an offset with seconds (local mean time, before 1884): a view
# whose data has neither (the card list: see core.api.rows.Clock(native=True)) marks its response
# with native_dates(response).
# Its data is written by core.api.rows, whose keys are all texts: without OPT_NON_STR_KEYS, which
# costs about a third of the writing (a non-text key is refused and falls back to DRF's renderer).
_ORJSON_NATIVE_DATES = orjson.OPT_UTC_Z | orjson.OPT_PASSTHROUGH_DATACLASS
# U+2028 and U+2029 in UTF-8. A body without the lead byte (most) is passed by one memchr; the
# pattern then finds them several times faster than two `in` searches.
_SEPARATOR_LEAD = b"\xe2"
_SEPARATORS = re.compile(b"\xe2\x80[\xa8\xa9]")


NATIVE_DATES = "native_dates"


def native_dates(response: Response) -> Response:
    """Marks a response whose dates and times are objects for the renderer to write (see above)."""
    setattr(response, NATIVE_DATES, True)
    return response


class FastJSONRenderer(renderers.JSONRenderer):
    """DRF's JSON output, written by orjson (several times faster on a page of 50 cards).

    Dates, times, decimals and anything else orjson does not write as DRF does go through DRF's
    own encoder; an indented response (Accept: application/json; indent=4), or data orjson refuses
    (an integer past 64 bits), falls back to DRF's renderer. U+2028/U+2029 are escaped as DRF does.
    """

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if data is None:
            return b""
        if self.get_indent(accepted_media_type, renderer_context or {}) is not None:
            return super().render(data, accepted_media_type, renderer_context)
        response = (renderer_context or {}).get("response")
        options = _ORJSON_NATIVE_DATES if getattr(response, NATIVE_DATES, False) else _ORJSON_OPTIONS
        try:
            body = orjson.dumps(data, default=_DRF_ENCODER.default, option=options)
        except orjson.JSONEncodeError:
            return super().render(data, accepted_media_type, renderer_context)
        if _SEPARATOR_LEAD in body and _SEPARATORS.search(body):
            body = _SEPARATORS.sub(_escaped, body)
        return body


def _escaped(separator: re.Match[bytes]) -> bytes:
    """U+2028 or U+2029 as DRF writes it: a JSON escape (a bare one ends a line in older JavaScript)."""
    return b"\\u2028" if separator[0] == b"\xe2\x80\xa8" else b"\\u2029"
