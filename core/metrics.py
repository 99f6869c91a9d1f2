"""Prometheus metrics at /metrics: the generic machinery; the apps add their own collectors by setting.

- Request metrics, fed by core.logs.RequestLogMiddleware: latency by view (histogram), requests by view
  and status, database queries per request (histogram).
- The Celery queue's length (Redis LLEN of the default queue and its priority lists), read at scrape.
- App collectors: METRICS_COLLECTORS lists dotted paths of classes with a ``collect()`` that yields
  prometheus_client metric families (notifications' outbox, say); core imports no app.
- Under gunicorn with several workers, set PROMETHEUS_MULTIPROC_DIR (an empty folder per start): each
  process writes its values there and a scrape adds them up, whichever worker answers.
- Guarded: a scrape needs ``Authorization: Bearer <METRICS_TOKEN>`` or an address in
  METRICS_ALLOWED_NETWORKS; with neither set, /metrics does not exist (404).
"""

from __future__ import annotations

import functools
import hmac
import ipaddress
import logging
import os
from collections.abc import Iterable, Iterator

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.module_loading import import_string
from django.views.decorators.cache import never_cache
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

logger = logging.getLogger(__name__)

REQUEST_LATENCY = Histogram(
    "cc_http_request_duration_seconds",
    "Time to answer a request, by view (URL pattern name).",
    ["view", "method"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
REQUESTS = Counter("cc_http_requests", "Requests answered, by view and status.", ["view", "method", "status"])
DB_QUERIES = Histogram(
    "cc_http_request_db_queries",
    "Database queries run to answer one request, by view.",
    ["view"],
    buckets=(0, 1, 2, 3, 5, 8, 13, 21, 34, 55, 89, 144),
)


def observe_request(view: str, method: str, status: int, duration: float, queries: int) -> None:
    REQUEST_LATENCY.labels(view, method).observe(duration)
    REQUESTS.labels(view, method, str(status)).inc()
    DB_QUERIES.labels(view).observe(queries)


class CeleryQueueCollector:
    """Tasks waiting in the broker: LLEN of the default queue (and kombu's priority lists) on Redis."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        url = settings.CELERY_BROKER_URL
        if not url.startswith(("redis://", "rediss://")):
            return
        import redis

        queue = getattr(settings, "CELERY_TASK_DEFAULT_QUEUE", "celery")
        # kombu keeps priorities 3, 6 and 9 in their own lists beside the queue's.
        keys = [queue, *(f"{queue}\x06\x16{priority}" for priority in (3, 6, 9))]
        client = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)
        try:
            length = sum(client.llen(key) for key in keys)
        finally:
            client.close()
        gauge = GaugeMetricFamily("cc_celery_queue_length", "Tasks waiting in the broker's queue.", labels=["queue"])
        gauge.add_metric([queue], length)
        yield gauge


@functools.cache
def _collector_classes() -> tuple[type, ...]:
    paths = ["core.metrics.CeleryQueueCollector", *getattr(settings, "METRICS_COLLECTORS", [])]
    return tuple(import_string(path) for path in paths)


class _AtScrape(Collector):
    """This process's own metrics (or every process's, from PROMETHEUS_MULTIPROC_DIR) and the collectors'."""

    def collect(self) -> Iterable:
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)
            yield from registry.collect()
        else:
            yield from REGISTRY.collect()
        for collector_class in _collector_classes():
            try:
                yield from collector_class().collect()
            except Exception:  # one broken source (Redis down) must not hide the others
                logger.warning("Metrics collector %s failed", collector_class.__name__, exc_info=True)


def _networks() -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    return [ipaddress.ip_network(network, strict=False) for network in settings.METRICS_ALLOWED_NETWORKS]


def _allowed(request: HttpRequest) -> bool:
    token = settings.METRICS_TOKEN
    given = request.headers.get("Authorization", "")
    if token and hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
        return True
    try:
        address = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    return any(address in network for network in _networks())


@never_cache
def metrics_view(request: HttpRequest) -> HttpResponse:
    if not settings.METRICS_TOKEN and not settings.METRICS_ALLOWED_NETWORKS:
        return HttpResponse("Metrics are off: set METRICS_TOKEN or METRICS_ALLOWED_NETWORKS.\n", status=404)
    if request.method not in ("GET", "HEAD"):
        return HttpResponse(status=405, headers={"Allow": "GET, HEAD"})
    if not _allowed(request):
        headers = {"WWW-Authenticate": 'Bearer realm="metrics"'} if settings.METRICS_TOKEN else {}
        return HttpResponse("Not allowed.\n", status=401 if settings.METRICS_TOKEN else 403, headers=headers)
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_AtScrape())
    return HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)


def gunicorn_child_exit(server, worker) -> None:
    """For gunicorn.conf.py's child_exit with PROMETHEUS_MULTIPROC_DIR: a dead worker's live gauges go."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.mark_process_dead(worker.pid)
