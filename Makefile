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

.PHONY: run test install lint worker beat web bench screenshots clean

$(BIN)/python:
	@test -n "$(PYTHON)" && $(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 12))' \
		|| { echo "Challenge Cards needs Python 3.12 or newer (PYTHON=$(PYTHON))." >&2; exit 1; }
	$(PYTHON) -m venv --clear $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python requirements.txt requirements-dev.txt
	@echo "==> Installing Python packages (requirements-dev.txt)"
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@touch $(STAMP)

install: $(STAMP)

## Set everything up and serve the app with demo data on http://127.0.0.1:8000
run: install
	@bash scripts/run.sh

## Set up and run the whole test suite (PostgreSQL when DATABASE_URL is set, SQLite otherwise)
test: install
	@bash scripts/test.sh

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

web: install
	$(BIN)/python manage.py runserver 127.0.0.1:8000

worker: install
	$(BIN)/celery -A config worker --loglevel=INFO --concurrency=2

beat: install
	$(BIN)/celery -A config beat --loglevel=INFO

## Card-list benchmark against a one-query baseline, then a mixed load (PostgreSQL; builds cc_bench once)
bench: install
	DATABASE_URL=$${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres} $(BIN)/python benchmarks/card_list.py
	DATABASE_URL=$${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres} $(BIN)/python benchmarks/load.py

## Screenshots of the main pages into docs/screenshots/
screenshots: install
	$(BIN)/python scripts/screenshots.py

## Container image challenge-cards:local and the compose topology's images (installs Docker if missing; docs/deploy.md)
.PHONY: image
image:
	@bash scripts/build-image.sh

clean:
	rm -rf var .pytest_cache
