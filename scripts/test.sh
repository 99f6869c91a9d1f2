#!/usr/bin/env bash
# `make test`: the whole suite, on PostgreSQL when DATABASE_URL is set and SQLite otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin

if [ -n "${DATABASE_URL:-}" ]; then
  echo "==> Tests run on PostgreSQL: ${DATABASE_URL} (pytest-django creates and drops test_<name>)"
else
  echo "==> Tests run on SQLite (set DATABASE_URL to run them on PostgreSQL)"
fi
echo "==> Celery broker for worker tests: ${CELERY_BROKER_URL:-files under a temporary folder (set CELERY_BROKER_URL for Redis)}"

if [ ! -x /usr/bin/chromium ] && [ -z "${SKIP_BROWSER_INSTALL:-}" ]; then
  if [ "$(id -u)" = "0" ]; then
    echo "==> Installing Debian's Chromium for the browser tests"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium chromium-driver >/dev/null
  else
    echo "Browser tests need /usr/bin/chromium: sudo apt-get install chromium chromium-driver" >&2
    exit 1
  fi
fi

rm -rf var/celery/queue  # messages queued by earlier test runs; no worker will want them
exec "$BIN/pytest" "$@"
