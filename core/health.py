"""Health: GET /healthz (database and broker), and the platform probes /healthz/live and /healthz/ready.

The probes answer whatever the Host header (a platform probes a pod's address) and over plain HTTP:
``ProbeMiddleware``, first in MIDDLEWARE, answers them before the host check and the HTTPS redirect.
"""

from celery import current_app as celery_app
from django.conf import settings
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET


def check_database() -> tuple[bool, str]:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as error:
        return False, type(error).__name__
    return True, "ok"


def check_broker(timeout: int = 2) -> tuple[bool, str]:
    try:
        with celery_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=timeout, interval_start=0, interval_step=0)
    except Exception as error:
        return False, type(error).__name__
    return True, "ok"


@never_cache
@require_GET
def healthz(request):
    database_ok, database_detail = check_database()
    broker_ok, broker_detail = check_broker()
    healthy = database_ok and broker_ok
    return JsonResponse(
        {
            "status": "ok" if healthy else "unavailable",
            "checks": {
                "database": {"ok": database_ok, "detail": database_detail},
                "broker": {"ok": broker_ok, "detail": broker_detail},
            },
        },
        status=200 if healthy else 503,
    )


def check_redis(timeout: float = 1) -> tuple[bool, str]:
    """The cache's Redis (REDIS_URL): pings it; 'not configured' when the cache is in-process."""
    if not settings.REDIS_URL:
        return True, "not configured"
    import redis

    try:
        client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=timeout, socket_timeout=timeout)
        try:
            client.ping()
        finally:
            client.close()
    except Exception as error:
        return False, type(error).__name__
    return True, "ok"


@never_cache
@require_GET
def live(request):
    """The process answers: no database, broker or cache is asked (a failing dependency must not restart it)."""
    return JsonResponse({"status": "ok"})


@never_cache
@require_GET
def ready(request):
    """Send this instance requests? Only the database decides; the broker and Redis are reported.

    Pages and the API work without the broker (notifications wait in the database for the sweeper) and
    without Redis (the cache fails open), so their outage must not take every web instance out of rotation.
    """
    database_ok, database_detail = check_database()
    broker_ok, broker_detail = check_broker(timeout=1)
    redis_ok, redis_detail = check_redis()
    return JsonResponse(
        {
            "status": "ok" if database_ok else "unavailable",
            "checks": {
                "database": {"ok": database_ok, "detail": database_detail},
                "broker": {"ok": broker_ok, "detail": broker_detail},
                "redis": {"ok": redis_ok, "detail": redis_detail},
            },
        },
        status=200 if database_ok else 503,
    )


PROBES = {"/healthz/live": live, "/healthz/ready": ready}


class ProbeMiddleware:
    """Answers the probes before anything else runs: no ALLOWED_HOSTS check, no HTTPS redirect, no session.

    Place first in MIDDLEWARE. Only these exact paths (and /metrics, guarded by its own token or network
    check) are exempt; every other request goes on as usual.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        probe = PROBES.get(request.path_info)
        if probe is None and request.path_info == "/metrics":
            # Prometheus scrapes each instance by its address too; the view asks for its token or network.
            from core.metrics import metrics_view as probe
        if probe is not None:
            return probe(request)
        return self.get_response(request)
