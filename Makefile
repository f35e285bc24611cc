# The two commands: `make demo` and `make test`. Everything else is what they are made of.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: install demo serve migrate seed test lint worker beat clean

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "$(PYTHON) not found; run: make PYTHON=python3"; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check uv==0.13.8 || $(BIN)/pip install --quiet --upgrade pip
	if [ -x $(BIN)/uv ]; then $(BIN)/uv pip install --quiet --python $(PY) -e '.[dev]'; \
	else $(BIN)/pip install --quiet -e '.[dev]'; fi
	@# psycopg 3 beside psycopg2 makes Django silently prefer it: keep it out.
	@if $(PY) -c "import psycopg" 2>/dev/null; then echo "psycopg (3) is installed in $(VENV); remove it"; exit 1; fi
	touch $(STAMP)

install: $(STAMP)

migrate: install
	$(PY) manage.py migrate --noinput

seed: migrate
	$(PY) manage.py seed_demo

demo: seed
	@echo "Portal: http://$(HOST):$(PORT)/portal/   Admin: http://$(HOST):$(PORT)/admin/   API docs: http://$(HOST):$(PORT)/api/docs/"
	@echo "Log in as parent-admin, channel-manager or <partner>-admin / <partner>-rep / <partner>-support with demo-pass-2026"
	$(PY) manage.py runserver $(HOST):$(PORT)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test: lint
	$(PY) manage.py makemigrations --check --dry-run
	PYTEST_DISABLE_PLUGIN_AUTOLOAD=1 $(BIN)/pytest $(PYTEST_ARGS)

worker: install
	$(BIN)/celery -A prm worker --loglevel=INFO --concurrency=2

beat: install
	$(BIN)/celery -A prm beat --loglevel=INFO --schedule=var/celerybeat-schedule

clean:
	rm -rf $(VENV) var staticfiles .pytest_cache .ruff_cache

# The scale benchmark (PostgreSQL only, kept out of `make test` and CI): `make bench` generates the
# 1M-row channel into $(DATABASE_URL) when it is not there yet, then measures (see docs/scaling.md).
.PHONY: bench bench-data
bench: install
	$(PY) -m bench

bench-data: install
	$(PY) -m bench data
