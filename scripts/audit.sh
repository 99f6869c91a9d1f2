#!/usr/bin/env bash
# `make audit`: pip-audit of the hashed lock(s), only where vulnerability data can be reached.
#
# pip-audit asks PyPI's per-version JSON API (https://pypi.org/pypi/NAME/VERSION/json) or OSV
# (https://api.osv.dev) about each package. Where neither answers (this machine: the per-version JSON
# answers 404 and OSV does not resolve), nothing can be audited, and this script says so and exits 3,
# so that "no known vulnerabilities" is never printed after auditing nothing.
#
# Usage: scripts/audit.sh [LOCK ...]   (default requirements.txt)
# Exit codes: 0 audited, no known vulnerabilities; 1 pip-audit found vulnerabilities or failed
# (--strict: a package it could not audit is a failure); 3 vulnerability data unreachable, NOTHING audited.
# AUDIT_PYPI_URL and AUDIT_OSV_URL change where the probes go (tests point them at a closed port);
# PIP_AUDIT is the pip-audit to run.
set -uo pipefail
cd "$(dirname "$0")/.."

pypi_url="${AUDIT_PYPI_URL:-https://pypi.org}"
osv_url="${AUDIT_OSV_URL:-https://api.osv.dev}"
pip_audit="${PIP_AUDIT:-.venv/bin/pip-audit}"
locks=("$@")
[ ${#locks[@]} -gt 0 ] || locks=(requirements.txt)

if ! command -v curl >/dev/null; then
  echo "==> NOTHING was audited: curl, which probes for vulnerability data, is not installed." >&2
  exit 3
fi

# Probe with the Django that the runtime lock pins: a real package and version.
django_version=$(sed -n 's/^django==\([^ ]*\).*/\1/p' requirements.txt)
django_version="${django_version:-6.1.3}"

service=""
if curl -fsS -m 10 "$pypi_url/pypi/django/$django_version/json" 2>/dev/null | grep -q '"vulnerabilities"'; then
  service=pypi
elif curl -fsS -m 10 -X POST -H 'Content-Type: application/json' \
    -d "{\"package\": {\"name\": \"django\", \"ecosystem\": \"PyPI\"}, \"version\": \"$django_version\"}" \
    "$osv_url/v1/query" 2>/dev/null | grep -q '^{'; then
  service=osv
fi

if [ -z "$service" ]; then
  {
    echo "==> NOTHING was audited: no vulnerability data is reachable from here."
    echo "    $pypi_url/pypi/django/$django_version/json (PyPI's per-version JSON) gave no vulnerability data,"
    echo "    and $osv_url/v1/query (OSV) did not answer."
    echo "    Run 'make audit' where the internet is reachable (the pip-audit workflow in .github/ does)."
  } >&2
  exit 3
fi

args=(--strict --require-hashes --disable-pip --vulnerability-service "$service" --progress-spinner off)
for lock in "${locks[@]}"; do
  args+=(--requirement "$lock")
done
echo "==> pip-audit (${service}) of ${locks[*]}"
exec "$pip_audit" "${args[@]}"
