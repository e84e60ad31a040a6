# Maillage — the two commands of a fresh checkout: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
UV := $(BIN)/uv
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install run test test-fast test-browser lint fmt migrations-check bench messages clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(UV): $(BIN)/python
	$(BIN)/python -m pip --version >/dev/null 2>&1 || $(BIN)/python -m ensurepip --upgrade >/dev/null
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv

$(VENV)/.installed: $(UV) pyproject.toml uv.lock
	UV_PROJECT_ENVIRONMENT=$(VENV) $(UV) sync --frozen --quiet
	touch $@

install: $(VENV)/.installed

run: install
	$(BIN)/python manage.py migrate --no-input
	$(BIN)/python manage.py compilemessages --ignore=.venv -v0 || true
	$(BIN)/python manage.py seed_demo --if-empty
	$(BIN)/python manage.py db_worker >var/worker.log 2>&1 & \
	  trap 'kill $$! 2>/dev/null' EXIT; \
	  $(BIN)/python manage.py runserver $(HOST):$(PORT)

test: install
	MAILLAGE_ENV=test $(BIN)/python manage.py compilemessages --ignore=.venv -v0
	# Two stages: everything but Chromium on two workers, then the browser tests in one process of
	# their own (one Playwright, no event loop shared with other tests). Exit code 5: none selected.
	MAILLAGE_ENV=test $(BIN)/pytest -n 2 --dist loadgroup -m "not browser" $(PYTEST_ARGS)
	MAILLAGE_ENV=test $(BIN)/pytest -p no:xdist -m browser $(PYTEST_ARGS) || [ $$? -eq 5 ]

test-fast: install
	MAILLAGE_ENV=test $(BIN)/pytest -x -q -m "not browser" $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/djlint maillage/templates --lint --quiet

fmt: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

migrations-check: install
	MAILLAGE_ENV=test $(BIN)/python manage.py makemigrations --check --dry-run

messages: install
	$(BIN)/python manage.py makemessages -l en --ignore=.venv --ignore=var --no-obsolete
	$(BIN)/python manage.py compilemessages --ignore=.venv

# The performance harness (docs/PERFORMANCE.md, « The harness »): its own dependency group (Locust), which
# `make install` and `make test` leave out. BENCH_SCALE=department|national, BENCH_BACKEND=sqlite|postgres.
bench: install
	UV_PROJECT_ENVIRONMENT=$(VENV) $(UV) sync --frozen --group bench --quiet
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) var/*.sqlite3* var/static
