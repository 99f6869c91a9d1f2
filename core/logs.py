"""Log lines that say which request (or task) they belong to, as JSON or text; one access line per request.

- ``request_context`` holds the request id, user id and path of what this thread or task is doing;
  ``RequestContextFilter`` copies them onto every log record, so any logger's lines carry them.
- ``RequestLogMiddleware`` (second in MIDDLEWARE, after the probes) takes a sane ``X-Request-ID`` from
  the proxy or makes one, writes one access line per request (method, path, view, status, duration,
  database queries, user) and feeds the request metrics (core.metrics).
- Celery: the id travels in the task message's headers (``before_task_publish``) and is set again in
  the worker around the task (``task_prerun``/``task_postrun``), so a task's lines carry the id of the
  request that queued it. ``connect_celery_signals`` is called from CoreConfig.ready.
- config/settings/base.py's ``logging_config(LOG_FORMAT, LOG_LEVEL)`` wires these: ``json`` or ``text`` lines.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from contextvars import ContextVar
from typing import Any

from django.db import connections
from django.http import HttpRequest, HttpResponse
from django.utils.functional import SimpleLazyObject, empty
from pythonjsonlogger.json import JsonFormatter as _JsonFormatter

access_logger = logging.getLogger("challenge_cards.access")

request_context: ContextVar[dict[str, Any] | None] = ContextVar("request_context", default=None)
REQUEST_ID_HEADER = "request_id"  # in a Celery message's headers
_SANE_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")


def request_id_from(value: str | None) -> str:
    """The caller's id when it is sane (so the proxy's lines and ours line up); a new one otherwise."""
    if value and _SANE_ID.fullmatch(value):
        return value
    return uuid.uuid4().hex


def current_request_id() -> str | None:
    context = request_context.get()
    return context.get("request_id") if context else None


def _user_id(request: HttpRequest | None) -> int | None:
    """The signed-in user's id once something has loaded the user; never loads it (no query for a log line)."""
    user = request.__dict__.get("user") if request is not None else None
    if isinstance(user, SimpleLazyObject):
        user = None if user._wrapped is empty else user._wrapped
    return user.pk if user is not None and getattr(user, "is_authenticated", False) else None


class RequestContextFilter(logging.Filter):
    """Adds request_id, user_id and path (None outside a request or task), and a task's name, to every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        context = request_context.get() or {}
        request = context.get("request")
        if not context and isinstance(getattr(record, "request", None), HttpRequest):
            # django.request's line about a 4xx/5xx comes after the middleware: it names its request.
            request = record.request  # type: ignore[attr-defined]
            context = {"request_id": request.META.get("HTTP_X_REQUEST_ID"), "path": request.path}
        values = {
            "request_id": context.get("request_id"),
            "user_id": _user_id(request),
            "path": context.get("path"),
        }
        if "task" in context:
            values["task"] = context["task"]
        for name, value in values.items():
            if not hasattr(record, name):
                setattr(record, name, value)
        return True


class JsonFormatter(_JsonFormatter):
    """One JSON object per line: time (UTC, ISO 8601), level, logger, message, then the record's extras."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("rename_fields", {"levelname": "level", "name": "logger"})
        kwargs.setdefault("timestamp", "time")
        super().__init__("%(levelname)s %(name)s %(message)s", *args, **kwargs)


class RequestLogMiddleware:
    """Request id in, one access line and the request metrics out. Place right after the probes."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        from core import metrics

        request_id = request_id_from(request.META.get("HTTP_X_REQUEST_ID"))
        # Later readers of the header (the audit log) see the same id.
        request.META["HTTP_X_REQUEST_ID"] = request_id
        request.__dict__.pop("headers", None)  # request.headers is cached from META on first use
        context = {"request_id": request_id, "path": request.path, "request": request}
        token = request_context.set(context)
        queries = [0]

        def count(execute, sql, params, many, call_context):
            queries[0] += 1
            return execute(sql, params, many, call_context)

        started = time.perf_counter()
        try:
            with connections["default"].execute_wrapper(count):
                response = self.get_response(request)
            duration = time.perf_counter() - started
            view = _view_name(request)
            response["X-Request-ID"] = request_id
            metrics.observe_request(view, request.method or "", response.status_code, duration, queries[0])
            access_logger.info(
                "%s %s %s %.1f ms",
                request.method,
                request.get_full_path(),
                response.status_code,
                duration * 1000,
                extra={
                    "method": request.method,
                    "status": response.status_code,
                    "duration_ms": round(duration * 1000, 1),
                    "view": view,
                    "db_queries": queries[0],
                },
            )
            return response
        finally:
            request_context.reset(token)


def _view_name(request: HttpRequest) -> str:
    """The URL pattern's name (namespaced), or the view's dotted path; '<unmatched>' for a 404 by the resolver."""
    match = getattr(request, "resolver_match", None)
    if match is None:
        return "<unmatched>"
    return match.view_name or match._func_path


# --- Celery: the request id in the message, and around the task in the worker ---


def add_request_id_to_message(sender=None, headers=None, **kwargs) -> None:
    """before_task_publish: the publishing request's (or task's) id travels with the message."""
    request_id = current_request_id()
    if request_id and headers is not None and REQUEST_ID_HEADER not in headers:
        headers[REQUEST_ID_HEADER] = request_id


def set_task_context(sender=None, task_id=None, task=None, **kwargs) -> None:
    """task_prerun: the task's log lines carry the id of the request that queued it (or the task's own id)."""
    given = getattr(task.request, REQUEST_ID_HEADER, None) if task is not None else None
    if given is None and task is not None:
        given = (getattr(task.request, "headers", None) or {}).get(REQUEST_ID_HEADER)
    context: dict[str, Any] = {"request_id": request_id_from(given or task_id)}
    if task is not None:
        context["task"] = task.name
    request_context.set(context)


def clear_task_context(**kwargs) -> None:
    """task_postrun: the worker's next lines belong to no task."""
    request_context.set(None)


def format_celery_logs(logger=None, **kwargs) -> None:
    """after_setup_logger: the worker configures its own handlers; they get the request context and,
    with LOG_FORMAT=json, the JSON lines too."""
    from django.conf import settings

    for handler in getattr(logger, "handlers", []):
        handler.addFilter(RequestContextFilter())
        if getattr(settings, "LOG_FORMAT", "text") == "json":
            handler.setFormatter(JsonFormatter())


def connect_celery_signals() -> None:
    from celery import signals

    signals.after_setup_logger.connect(format_celery_logs, dispatch_uid="core_logs_worker_format")
    signals.after_setup_task_logger.connect(format_celery_logs, dispatch_uid="core_logs_task_format")
    signals.before_task_publish.connect(add_request_id_to_message, dispatch_uid="core_logs_publish")
    signals.task_prerun.connect(set_task_context, dispatch_uid="core_logs_prerun")
    signals.task_postrun.connect(clear_task_context, dispatch_uid="core_logs_postrun")
