"""Request bodies the API accepts: JSON without NUL characters or lone surrogates anywhere, no larger
than DATA_UPLOAD_MAX_MEMORY_SIZE bytes (413) and nested at most API_JSON_MAX_DEPTH deep (400).

Whatever the body, parsing answers a problem response, never a 500: a body too deep for Python's
own parser (RecursionError) is a 400 like any other that cannot be read.
"""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from rest_framework import exceptions, parsers
from rest_framework.utils.json import strict_constant

from .errors import RequestTooLarge

DEFAULT_MAX_DEPTH = 64

NUL_MESSAGE = "Text cannot contain NUL characters."


def bad_text(value: str) -> str | None:
    if "\x00" in value:
        return NUL_MESSAGE
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "Text must be valid Unicode."
    return None


def max_depth() -> int:
    return int(getattr(settings, "API_JSON_MAX_DEPTH", DEFAULT_MAX_DEPTH))


def max_body_bytes() -> int | None:
    """DATA_UPLOAD_MAX_MEMORY_SIZE, as for forms (None: no limit)."""
    return settings.DATA_UPLOAD_MAX_MEMORY_SIZE


def too_deep_message(limit: int) -> str:
    return f"The JSON body is nested more than {limit} levels deep."


def _check_json(data: Any, errors: dict[str, list[str]], limit: int) -> None:
    """Text checks on every string and key, and the nesting limit; a loop, so no depth can overflow it."""
    stack: list[tuple[Any, str, int]] = [(data, "", 1)]
    while stack:
        value, path, depth = stack.pop()
        if isinstance(value, str):
            problem = bad_text(value)
            if problem:
                errors.setdefault(path or "non_field_errors", []).append(problem)
            continue
        if not isinstance(value, dict | list):
            continue
        if depth > limit:
            raise exceptions.ParseError(too_deep_message(limit))
        items = value.items() if isinstance(value, dict) else enumerate(value)
        for key, item in items:
            if isinstance(key, str) and bad_text(key):
                errors.setdefault(path or "non_field_errors", []).append("Field names must be plain text.")
            stack.append((item, f"{path}.{key}" if path else str(key), depth + 1))


def _read(stream, limit: int | None) -> bytes:
    """The body, refused with a 413 past the limit (whatever Content-Length said)."""
    if stream is None:
        return b""
    body = stream.read() if limit is None else stream.read(limit + 1)
    if limit is not None and len(body) > limit:
        raise RequestTooLarge(f"The request body is larger than {limit} bytes.")
    return body


class StrictJSONParser(parsers.JSONParser):
    """JSON bodies, refusing NUL characters and lone surrogates anywhere (PostgreSQL stores neither),
    bodies over DATA_UPLOAD_MAX_MEMORY_SIZE (413) and nesting deeper than API_JSON_MAX_DEPTH (400)."""

    def parse(self, stream, media_type=None, parser_context=None):
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        body = _read(stream, max_body_bytes())
        limit = max_depth()
        try:
            # bytes.decode takes text encodings only: a charset such as bz2_codec would inflate the body.
            text = body.decode(encoding)
        except (LookupError, ValueError):
            raise exceptions.ParseError(f"The body is not text in the charset {encoding!r}.") from None
        try:
            parse_constant = strict_constant if self.strict else None
            data = json.loads(text, parse_constant=parse_constant)
        except RecursionError:
            raise exceptions.ParseError(too_deep_message(limit)) from None
        except ValueError as exc:
            raise exceptions.ParseError(f"JSON parse error - {exc}") from None
        errors: dict[str, list[str]] = {}
        _check_json(data, errors, limit)
        if errors:
            raise exceptions.ValidationError(errors)
        return data
