# The commands the README shows. `make run` and `make test` work on a fresh machine.
PYTHON ?= $(shell bash scripts/find-python.sh)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

# A virtualenv whose Python says it is older than 3.12 (made before Django 6.1) is made again.
ifeq ($(shell test -x $(BIN)/python && $(BIN)/python -c 'import sys; print(sys.version_info < (3, 12))' 2>/dev/null),True)
$(BIN)/python: remake-venv
.PHONY: remake-venv
remake-venv:
	rm -rf $(VENV)
endif

.PHONY: run test test-fast install lint worker beat web bench bench-card-list screenshots clean lock sbom audit

$(BIN)/python:
	@test -n "$(PYTHON)" && $(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 12))' \
		|| { echo "Challenge Cards needs Python 3.12 or newer (PYTHON=$(PYTHON))." >&2; exit 1; }
	$(PYTHON) -m venv --clear $(VENV)

# Everything comes from the hashed dev lock (runtime included, pip itself too): a package whose file
# does not match a hash in the lock is refused. The locks are made by `make lock`, never by hand.
$(STAMP): $(BIN)/python requirements.txt requirements-dev.txt
	@echo "==> Installing Python packages from the hashed lock (requirements-dev.txt)"
	$(BIN)/pip install --quiet --disable-pip-version-check --require-hashes -r requirements-dev.txt
	@touch $(STAMP)

install: $(STAMP)

## Set everything up and serve the app with demo data on http://127.0.0.1:8000
run: install
	@bash scripts/run.sh

## Set up and run the whole test suite (PostgreSQL when DATABASE_URL is set, SQLite otherwise)
test: install
	@bash scripts/test.sh

## The edit-test loop: everything but the browser, the Celery worker subprocesses and the fault tests
test-fast: install
	@SKIP_BROWSER_INSTALL=1 bash scripts/test.sh -m "not browser and not celery_worker and not fault"

## What CI checks besides the tests: lint (complexity 10, no unused noqa), format, types
lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

web: install
	$(BIN)/python manage.py runserver 127.0.0.1:8000

worker: install
	$(BIN)/celery -A config worker --loglevel=INFO --concurrency=2

beat: install
	$(BIN)/celery -A config beat --loglevel=INFO

## Every path of issue 17 against its baseline or across data sizes (benchmarks/suite.py; PostgreSQL and
## Redis db 12; builds cc_bench_suite_* once, a few minutes; then 6-12 min on 2 cores, by the machine). BENCH_ARGS passes options to the suite.
## The card-list benchmark and the mixed load (cc_bench) stay: `make bench-card-list`.
bench: install
	DATABASE_URL=$${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres} $(BIN)/python benchmarks/suite.py $(BENCH_ARGS)

bench-card-list: install
	DATABASE_URL=$${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres} $(BIN)/python benchmarks/card_list.py
	DATABASE_URL=$${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres} $(BIN)/python benchmarks/load.py

## Screenshots of the main pages into docs/screenshots/
screenshots: install
	$(BIN)/python scripts/screenshots.py

## Regenerate the hashed locks requirements.txt and requirements-dev.txt from requirements*.in (pip-tools).
## Against PyPI only, with this machine's pip config (local indexes, find-links) ignored, so the locks
## carry PyPI's hashes and install anywhere. Existing pins are kept; LOCK_ARGS=--upgrade moves them on.
PIP_COMPILE = PIP_CONFIG_FILE=/dev/null PIP_FIND_LINKS= $(BIN)/pip-compile --quiet --generate-hashes \
	--allow-unsafe --strip-extras --no-emit-find-links --index-url https://pypi.org/simple $(LOCK_ARGS)
lock: install
	$(PIP_COMPILE) --output-file requirements.txt requirements.in
	$(PIP_COMPILE) --output-file requirements-dev.txt requirements-dev.in
	@echo "==> Locks written: requirements.txt (runtime), requirements-dev.txt (everything); commit them with the .in files"

## CycloneDX SBOM (JSON) of the runtime lock, written to var/sbom.cdx.json (SBOM=path to change)
SBOM ?= var/sbom.cdx.json
sbom: install
	@bash scripts/sbom.sh $(SBOM)

## pip-audit of the runtime lock where vulnerability data is reachable; exits 3 when nothing could be
## audited (AUDIT_LOCKS="requirements.txt requirements-dev.txt" audits both). Not part of .ci/run.
AUDIT_LOCKS ?= requirements.txt
audit: install
	@bash scripts/audit.sh $(AUDIT_LOCKS)

## Container image challenge-cards:local and the compose topology's images (installs Docker if missing; docs/deploy.md)
.PHONY: image
image:
	@bash scripts/build-image.sh

clean:
	rm -rf var .pytest_cache
