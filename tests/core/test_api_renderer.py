"""The API's orjson renderer writes DRF's JSON, byte for byte."""

from __future__ import annotations

import datetime
import zoneinfo

import pytest
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from core.api.renderers import FastJSONRenderer, native_dates

TEXTS = [
    "plain",
    "line \u2028 and paragraph \u2029 separators",
    "\u2029 first, then \u2028\u2028 twice",
    "“curly quotes” — a dash … and 🙂, none of them separators",
    "",
]


@pytest.mark.parametrize("text", TEXTS)
def test_separators_escaped_as_drf_writes_them(text):
    data = {"title": text, "nested": [{"note": text}], "count": 1}
    assert FastJSONRenderer().render(data) == JSONRenderer().render(data)


def test_a_native_dates_response_writes_its_dates_and_times_as_drf_does():
    zone = zoneinfo.ZoneInfo("America/New_York")
    moment = datetime.datetime(2026, 11, 30, 14, 5, 6, 123456, tzinfo=datetime.UTC).astimezone(zone)
    day = datetime.date(2026, 12, 8)
    response = native_dates(Response())
    body = FastJSONRenderer().render({"at": moment, "on": day}, renderer_context={"response": response})
    assert body == b'{"at":"2026-11-30T09:05:06.123456-05:00","on":"2026-12-08"}'


def test_a_native_dates_response_with_a_key_that_is_not_text_falls_back_to_drf():
    data = {1: "one", "two": "\u2028"}
    response = native_dates(Response())
    assert FastJSONRenderer().render(data, renderer_context={"response": response}) == JSONRenderer().render(data)
