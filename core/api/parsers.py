"""Request bodies the API accepts: JSON without NUL characters or lone surrogates anywhere."""

from __future__ import annotations

from typing import Any

from rest_framework import exceptions, parsers

NUL_MESSAGE = "Text cannot contain NUL characters."


def bad_text(value: str) -> str | None:
    if "\x00" in value:
        return NUL_MESSAGE
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "Text must be valid Unicode."
    return None


def _check_json(value: Any, path: str, errors: dict[str, list[str]]) -> None:
    if isinstance(value, str):
        problem = bad_text(value)
        if problem:
            errors.setdefault(path or "non_field_errors", []).append(problem)
    elif isinstance(value, dict):
        for key, item in value.items():
            name = f"{path}.{key}" if path else str(key)
            if isinstance(key, str) and bad_text(key):
                errors.setdefault(path or "non_field_errors", []).append("Field names must be plain text.")
            _check_json(item, name, errors)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _check_json(item, f"{path}.{index}" if path else str(index), errors)


class StrictJSONParser(parsers.JSONParser):
    """JSON bodies, refusing NUL characters and lone surrogates anywhere (PostgreSQL stores neither)."""

    def parse(self, stream, media_type=None, parser_context=None):
        data = super().parse(stream, media_type, parser_context)
        errors: dict[str, list[str]] = {}
        _check_json(data, "", errors)
        if errors:
            raise exceptions.ValidationError(errors)
        return data
