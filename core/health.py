"""GET /healthz: can this instance reach its database and its Celery broker?"""

from celery import current_app as celery_app
from django.db import connection
from django.http import JsonResponse
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
