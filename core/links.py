"""Links written in Python, many a page: an object's URL reversed once, then each object's id put in it."""

from __future__ import annotations

import functools

from django.urls import get_script_prefix, get_urlconf, reverse

_ANY_ID = 987654321  # an id put in a reversed URL, then replaced by each row's own


def url_of(name: str) -> tuple[str, str]:
    """An object's URL as the text before and after its id: reversed once per URL configuration and script
    prefix (both per request), where reversing it for every row cost more than the rest of the row."""
    return _url_parts(name, get_script_prefix(), get_urlconf())


@functools.lru_cache(maxsize=256)
def _url_parts(name: str, script_prefix: str, urlconf: str | None) -> tuple[str, str]:
    """url_of for the prefix and configuration that reverse() reads (the arguments are the cache's key)."""
    before, _, after = reverse(name, args=[_ANY_ID]).partition(str(_ANY_ID))
    return before, after
