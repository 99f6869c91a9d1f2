#!/usr/bin/env bash
# `make run`: migrate, seed the demo data, then serve the web app with a Celery worker and beat.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
PASSWORD="${DEMO_PASSWORD:-pmc-demo-password}"
PORT="${PORT:-8000}"
VAR="${CC_VAR_DIR:-var}"
mkdir -p "$VAR"

echo "==> Database: ${DATABASE_URL:-SQLite file var/challenge_cards.sqlite3 (DATABASE_URL not set)}"
echo "==> Celery broker: ${CELERY_BROKER_URL:-files under var/celery (CELERY_BROKER_URL not set)}"
"$BIN/python" manage.py migrate --noinput
"$BIN/python" manage.py seed_demo --password "$PASSWORD"
"$BIN/python" manage.py collectstatic --noinput -v0

pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; }
trap cleanup EXIT INT TERM
"$BIN/celery" -A config worker --loglevel=WARNING --concurrency=1 --pool=solo >"$VAR/worker.log" 2>&1 &
pids+=($!)
"$BIN/celery" -A config beat --loglevel=WARNING --schedule "$VAR/celerybeat-schedule" >"$VAR/beat.log" 2>&1 &
pids+=($!)

cat <<MSG

  Challenge Cards is starting on http://127.0.0.1:$PORT
  Sign in with password "$PASSWORD" as one of:
    omb.admin          OMB admin: meetings, issuing cards, review board, Django admin at /admin/
    omb.viewer         OMB viewer: reads everything
    deputy.treasury    Deputy secretary of the Treasury (any agency: deputy.<abbr>, e.g. deputy.usda)
    delegate.treasury  Delegate acting on behalf of the Treasury's deputy secretary
  Celery worker and beat log to $VAR/worker.log and $VAR/beat.log. Press Ctrl-C to stop.

MSG
"$BIN/python" manage.py runserver "127.0.0.1:$PORT" --noreload
