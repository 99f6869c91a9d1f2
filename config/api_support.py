"""The API's shared machinery, switched on for every viewset by REST_FRAMEWORK settings
(parser, filter backend, pagination, throttle, schema) or by ApiViewMixin (ETag, If-Match,
Idempotency-Key). Any app that registers a viewset in config.api gets the first set as is.
"""

from __future__ import annotations

import logging
import re
import secrets
from collections.abc import Callable
from typing import Any

import orjson
from django.conf import settings
from django.core.cache import caches
from django.core.paginator import InvalidPage, Paginator
from django.db import models
from django_filters import filters
from django_filters import rest_framework as django_filters
from redis.commands.core import Script
from rest_framework import exceptions, parsers, renderers, serializers
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle
from rest_framework.utils.encoders import JSONEncoder

from agencies.idempotency import idempotency_claim, idempotency_complete, request_fingerprint
from agencies.models import ApiToken

from .api_errors import (
    IdempotencyInProgress,
    IdempotencyKeyReused,
    PreconditionFailed,
    PreconditionRequired,
)
from .cache import KeptClientRedisCache
from .pagination import PAGE_NUMBER, TotalInPagePaginator

MAX_PAGE_SIZE = 200
BOOLEAN_WORDS = frozenset({"true", "false", "1", "0"})
NUL_MESSAGE = "Text cannot contain NUL characters."


# --- input hygiene ------------------------------------------------------------------------


def _bad_text(value: str) -> str | None:
    if "\x00" in value:
        return NUL_MESSAGE
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "Text must be valid Unicode."
    return None


def _check_json(value: Any, path: str, errors: dict[str, list[str]]) -> None:
    if isinstance(value, str):
        problem = _bad_text(value)
        if problem:
            errors.setdefault(path or "non_field_errors", []).append(problem)
    elif isinstance(value, dict):
        for key, item in value.items():
            name = f"{path}.{key}" if path else str(key)
            if isinstance(key, str) and _bad_text(key):
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


# Query parameters that other backends read (pagination, search, ordering, format), never django-filter's.
PLAIN_LIST_PARAMS = frozenset(
    {"page", "page_size", api_settings.SEARCH_PARAM, api_settings.ORDERING_PARAM, api_settings.URL_FORMAT_OVERRIDE}
)


def is_plain_list(request) -> bool:
    """Only pagination, search, ordering or format asked for: nothing for django-filter to apply."""
    return set(request.query_params) <= PLAIN_LIST_PARAMS


def search_and_ordering(request) -> tuple[str | None, str | None]:
    """The values DRF's SearchFilter and OrderingFilter read (the last one given)."""
    return request.query_params.get(api_settings.SEARCH_PARAM), request.query_params.get(api_settings.ORDERING_PARAM)


class StrictFilterBackend(django_filters.DjangoFilterBackend):
    """django-filter, after refusing query parameters with NUL characters (400, not a database error)."""

    def filter_queryset(self, request, queryset, view):
        errors = {
            name: [problem]
            for name, values in request.query_params.lists()
            for problem in {_bad_text(name) or _bad_text(value) for value in values} - {None}
        }
        filterset_class = self.get_filterset_class(view, queryset)
        declared = filterset_class.base_filters if filterset_class else {}
        for name, values in request.query_params.lists():
            # An empty ?due_before= would be ignored by django-filter; say it is not a date instead.
            if name in declared and "" in values and not isinstance(declared[name], filters.CharFilter):
                errors.setdefault(name, []).append("Give a value, or leave this parameter out.")
            # django-filter's boolean widget reads any unknown word as "no filter"; refuse it instead.
            elif isinstance(declared.get(name), filters.BooleanFilter) and any(
                value.strip().lower() not in BOOLEAN_WORDS for value in values
            ):
                errors.setdefault(name, []).append("Give true or false.")
        if errors:
            raise exceptions.ValidationError(errors)
        if is_plain_list(request):  # no FilterSet declares these names (tests/api/test_filters.py)
            # Nothing for django-filter to apply: building its FilterSet and form costs ~2 ms a request.
            return queryset
        return super().filter_queryset(request, queryset, view)


class StrictContentNegotiation(DefaultContentNegotiation):
    """An empty ?format= is refused like an unknown one (404), instead of being ignored."""

    def select_renderer(self, request, renderers, format_suffix=None):
        name = self.settings.URL_FORMAT_OVERRIDE
        if not format_suffix and name and name in request.query_params and not request.query_params.get(name):
            raise exceptions.NotFound("Unknown format.")
        return super().select_renderer(request, renderers, format_suffix)


# --- pagination and throttling ------------------------------------------------------------


class ApiPagination(PageNumberPagination):
    """Pages of 50 by default; page_size up to 200. A bad page_size is a 400, never silently clamped."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE

    def get_page_size(self, request) -> int:
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        if not PAGE_NUMBER.fullmatch(raw) or not 1 <= int(raw) <= MAX_PAGE_SIZE:
            raise exceptions.ValidationError({"page_size": [f"Give a whole number from 1 to {MAX_PAGE_SIZE}."]})
        return int(raw)

    def page_number(self, request) -> int:
        """The ?page= number: a whole number of 1 or more (not DRF's "last"), else a 400."""
        raw = request.query_params.get(self.page_query_param)
        if raw is None:
            return 1
        if not PAGE_NUMBER.fullmatch(raw) or int(raw) < 1:
            raise exceptions.ValidationError({"page": ["Give a page number of 1 or more."]})
        return int(raw)

    def paginate_queryset(self, queryset, request, view=None):
        self.page_number(request)
        return super().paginate_queryset(queryset, request, view)

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"] = {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE}
                parameter["description"] = f"Results per page, 1 to {MAX_PAGE_SIZE} (default {self.page_size})."
            elif parameter["name"] == self.page_query_param:
                parameter["schema"] = {"type": "integer", "minimum": 1, "maximum": 999_999_999}
        return parameters


class TotalInPagePagination(ApiPagination):
    """ApiPagination reading the count with the page (TotalInPagePaginator): the card list's and its history's.

    The card list reads its page itself, as plain rows with the count in the same query
    (paginate_rows); the page rules, errors and links stay ApiPagination's.
    """

    django_paginator_class = TotalInPagePaginator

    def paginate_rows(self, request, read_page: Callable[..., tuple[int, list]]) -> list:
        """read_page(offset=, limit=) gives (total count, rows); an empty page may say 0 for the count."""
        number = self.page_number(request)
        page_size = self.get_page_size(request)
        total, rows = read_page(offset=(number - 1) * page_size, limit=page_size)
        # Django's page arithmetic and errors over the count (an empty page past the first is a 404,
        # whatever the count), as PageNumberPagination.paginate_queryset would give them.
        paginator = Paginator(range(total), page_size)
        try:
            self.page = paginator.page(number)
        except InvalidPage as exc:
            raise exceptions.NotFound(self.invalid_page_message.format(page_number=number, message=str(exc))) from exc
        self.request = request
        return rows


# DRF's sliding window as a sorted set of request times, in one atomic step on the Redis server and
# by its clock (web hosts' clocks may differ): drop the times older than the window; below the
# budget, add this request; else leave it uncounted, as DRF does, and give the oldest time.
_THROTTLE_WINDOW_LUA = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local window, budget = tonumber(ARGV[1]), tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) < budget then
    redis.call('ZADD', KEYS[1], now, ARGV[3])
    redis.call('EXPIRE', KEYS[1], math.ceil(window) + 1)
    return {1, '', tostring(now)}
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return {0, oldest[2], tostring(now)}
"""


# One script for every client: redis-py sends its SHA, and the text to a server that lacks it.
_THROTTLE_WINDOW = Script(None, _THROTTLE_WINDOW_LUA.encode())


class ApiRateThrottle(SimpleRateThrottle):
    """One budget per token (agency tools) or per user (browser sessions); rate from API_THROTTLE_RATE.

    DRF's sliding window: a request is refused when the budget's worth of requests came in the
    last period. With Redis (REDIS_URL) every web process shares the counts, kept as a sorted set
    of request times and counted in one round trip (_THROTTLE_WINDOW_LUA); DRF's own list in the
    cache (read, then written back whole) is only for the in-process cache of development.
    """

    scope = "api"
    _oldest: float | None = None

    def get_rate(self) -> str:
        return getattr(settings, "API_THROTTLE_RATE", "1000/hour")

    def allow_request(self, request, view) -> bool:
        # With the cache (Redis) down, serve the request unthrottled rather than fail every API call.
        try:
            backend = caches["default"]
            if isinstance(backend, KeptClientRedisCache) and self.rate is not None:
                return self._allow_in_redis(backend, request, view)
            return super().allow_request(request, view)
        except Exception:
            logging.getLogger("config.api").warning("API throttle skipped: the cache is unreachable", exc_info=True)
            return True

    def _allow_in_redis(self, backend: KeptClientRedisCache, request, view) -> bool:
        # Its own key, apart from DRF's pickled list under the plain cache key (left by older code).
        key = backend.make_and_validate_key(f"window:{self.get_cache_key(request, view)}")
        args = [self.duration, self.num_requests, secrets.token_hex(8)]
        allowed, oldest, now = _THROTTLE_WINDOW(keys=[key], args=args, client=backend.redis())
        self.now = float(now)
        if allowed:
            return True
        self._oldest = float(oldest)
        return self.throttle_failure()

    def wait(self) -> float | None:
        """Seconds until the oldest request in the window leaves it (DRF's answer for a full window)."""
        if self._oldest is None:
            return super().wait()
        return max(self.duration - (self.now - self._oldest), 0.0)

    def get_cache_key(self, request, view) -> str:
        if isinstance(request.auth, ApiToken):
            # The hash prefix keeps a new token's budget apart from an old row's with the same id.
            ident = f"token-{request.auth.pk}-{request.auth.key_hash[:12]}"
        elif request.user and request.user.is_authenticated:
            ident = f"user-{request.user.pk}-{request.user.date_joined.timestamp():.0f}"
        else:
            ident = f"anon-{self.get_ident(request)}"
        return f"throttle_api_{ident}"


# --- rendering ----------------------------------------------------------------------------

_DRF_ENCODER = JSONEncoder()
_ORJSON_OPTIONS = orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS
# orjson writes an aware date-time or a date as DRF does ('Z' for UTC), except a time of day with
# under 100,000 microseconds or an offset with seconds (local mean time, before 1884): a view
# whose data has neither (the card list: see Clock(native=True)) sets `native_dates`.
_ORJSON_NATIVE_DATES = orjson.OPT_NON_STR_KEYS | orjson.OPT_UTC_Z | orjson.OPT_PASSTHROUGH_DATACLASS


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
        view = (renderer_context or {}).get("view")
        options = _ORJSON_NATIVE_DATES if getattr(view, "native_dates", False) else _ORJSON_OPTIONS
        try:
            body = orjson.dumps(data, default=_DRF_ENCODER.default, option=options)
        except orjson.JSONEncodeError:
            return super().render(data, accepted_media_type, renderer_context)
        if b"\xe2\x80\xa8" in body or b"\xe2\x80\xa9" in body:
            body = body.replace(b"\xe2\x80\xa8", b"\\u2028").replace(b"\xe2\x80\xa9", b"\\u2029")
        return body


# --- ETag, If-Match and Idempotency-Key ---------------------------------------------------


def etag_for(kind: str, obj: models.Model) -> str:
    """A weak ETag from the object's version (or, for rows without one, its last change time)."""
    version = getattr(obj, "version", None)
    version = f"t{int(obj.updated_at.timestamp() * 1000000)}" if version is None else f"v{version}"
    return f'W/"{kind}-{obj.pk}-{version}"'


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


class ApiViewMixin:
    """For API views: Idempotency-Key on every POST, detail lookups that ignore list filters, ETags.

    - etag_kind: the word in this view's ETags, W/"<kind>-<id>-v<version>";
    - if_match_actions: actions that need a current If-Match (read by the schema, which then
      documents the header and the 412/428 answers; the view calls check_if_match).
    """

    if_match_actions: frozenset[str] = frozenset()
    etag_kind: str = ""

    _idempotency_record = None

    def get_object(self):
        # Detail routes are not narrowed by list filters; a bad ?status= must not turn into a 404.
        raw = str(self.kwargs[self.lookup_url_kwarg or self.lookup_field])
        if not _ID.fullmatch(raw):
            raise exceptions.NotFound()
        obj = self.get_queryset().filter(**{self.lookup_field: int(raw)}).first()
        if obj is None:
            raise exceptions.NotFound()
        self.check_object_permissions(self.request, obj)
        return obj

    def etag(self, obj) -> str:
        return etag_for(self.etag_kind, obj)

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


class StrictSerializer(serializers.Serializer):
    """Input serializers refuse fields they do not know (400), so a typo is never silently ignored."""

    def to_internal_value(self, data):
        if isinstance(data, dict):
            unknown = sorted(str(key) for key in data if key not in self.fields or self.fields[key].read_only)
            if unknown:
                raise exceptions.ValidationError({key: ["This field is not accepted here."] for key in unknown})
        return super().to_internal_value(data)
