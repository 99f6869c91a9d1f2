#!/bin/sh
# The image's roles: docker run IMAGE web|worker|beat|migrate|manage ARGS...|check|healthcheck|COMMAND...
# Everything is configured by environment variables (see docs/deploy.md and the README's table).
set -eu

role="${1:-web}"
[ $# -gt 0 ] && shift

case "$role" in
  web)
    # gunicorn also reads GUNICORN_CMD_ARGS for anything not set here.
    exec gunicorn config.wsgi \
      --bind "0.0.0.0:${PORT:-8000}" \
      --workers "${WEB_CONCURRENCY:-2}" \
      --threads "${GUNICORN_THREADS:-1}" \
      --timeout "${GUNICORN_TIMEOUT:-60}" \
      --graceful-timeout "${GUNICORN_GRACEFUL_TIMEOUT:-30}" \
      --keep-alive "${GUNICORN_KEEPALIVE:-5}" \
      --forwarded-allow-ips "${FORWARDED_ALLOW_IPS:-*}" \
      --worker-tmp-dir /dev/shm \
      --no-control-socket \
      --access-logfile "${GUNICORN_ACCESS_LOG:--}" \
      --error-logfile - \
      "$@"
    ;;
  worker)
    exec celery -A config worker \
      --loglevel "${LOG_LEVEL:-INFO}" \
      --concurrency "${CELERY_CONCURRENCY:-2}" \
      --hostname "${CELERY_HOSTNAME:-worker@%h}" \
      "$@"
    ;;
  beat)
    # The schedule file is only beat's own bookkeeping; the reminder scans are safe to run twice.
    exec celery -A config beat \
      --loglevel "${LOG_LEVEL:-INFO}" \
      --schedule "${CELERY_BEAT_SCHEDULE_FILE:-/tmp/celerybeat-schedule}" \
      "$@"
    ;;
  migrate)
    exec python3 manage.py migrate --noinput "$@"
    ;;
  manage)
    exec python3 manage.py "$@"
    ;;
  check)
    exec python3 manage.py check --deploy "$@"
    ;;
  healthcheck)
    # For container health checks: GET HEALTHCHECK_PATH on this container as a platform probe would,
    # with the first allowed host name and X-Forwarded-Proto: https (no HTTPS redirect).
    exec python3 - "${1:-${HEALTHCHECK_PATH:-/healthz/live}}" <<'PY'
import os
import sys
import urllib.request

path = sys.argv[1]
host = (os.environ.get("DJANGO_ALLOWED_HOSTS", "localhost").split(",")[0].strip() or "localhost").lstrip(".")
request = urllib.request.Request(
    f"http://127.0.0.1:{os.environ.get('PORT', '8000')}{path}",
    headers={"Host": host, "X-Forwarded-Proto": "https"},
)
try:
    with urllib.request.urlopen(request, timeout=float(os.environ.get("HEALTHCHECK_TIMEOUT", "5"))) as response:
        sys.exit(0 if response.status == 200 else 1)
except Exception as error:  # noqa: BLE001
    print(f"{path}: {error}", file=sys.stderr)
    sys.exit(1)
PY
    ;;
  *)
    exec "$role" "$@"
    ;;
esac
