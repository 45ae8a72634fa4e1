# tumourboard: every routine job has a target. `make run` and `make test` need nothing else.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
HOST ?= 127.0.0.1
# Development mode for the local targets; production runs with DJANGO_DEBUG=0 and a SECRET_KEY.
DEV := DJANGO_DEBUG=1

.PHONY: run test worker beat lint typecheck bench clean install system-packages migrate seed

$(VENV)/.installed: requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed

system-packages:
	bin/ensure-system-packages pdf browser

migrate: install
	$(DEV) $(BIN)/python manage.py migrate --noinput

seed: migrate
	$(DEV) $(BIN)/python manage.py seed_demo

## run: install into .venv, migrate, load demo data, serve on http://127.0.0.1:8000 (SQLite, tasks in-process)
run: system-packages seed
	$(DEV) $(BIN)/python manage.py runserver $(HOST):$(PORT)

## test: the whole suite (tests marked `worker` run only where REDIS_URL is set, as in .ci/run)
test: system-packages install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

worker: install
	$(BIN)/celery -A tumourboard worker --loglevel=INFO --concurrency=2 -Q default,pdf

beat: install
	$(BIN)/celery -A tumourboard beat --loglevel=INFO

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(DEV) $(BIN)/python manage.py makemigrations --check --dry-run

typecheck: install
	$(DEV) $(BIN)/mypy scoring/rules accounts common

bench: install
	bin/ensure-system-packages pdf bench
	$(BIN)/python -m bench  # production settings and its own services: see bench/README.md

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache .hypothesis staticfiles db.sqlite3 test-db.sqlite3 var
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
