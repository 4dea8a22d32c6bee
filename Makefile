# The two commands: `make run` and `make test`. Everything else is a helper.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
export PORT
# Links in emails and SMS point at the port served on. Set here for every process of Procfile.dev:
# honcho gives the workers and beat PORT+100, +200... so they cannot derive it from PORT themselves.
SITE_URL ?= http://127.0.0.1:$(PORT)
export SITE_URL

.PHONY: run test install install-dev lint format bench clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt $(PY)
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt $(PY)
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

## make run: install, migrate, seed the demo when the database is empty, start web + the two workers + beat (Procfile.dev).
run: install
	DEBUG=$${DEBUG:-1} $(PY) manage.py migrate --noinput
	DEBUG=$${DEBUG:-1} $(PY) manage.py seed_demo --if-empty
	@echo ""
	@echo "  Accountability is starting on http://127.0.0.1:$(PORT)/  (Ctrl-C stops web, workers and beat)"
	@echo "  Links in emails and SMS: $(SITE_URL)"
	@echo ""
	DEBUG=$${DEBUG:-1} $(VENV)/bin/honcho -f Procfile.dev start

## make test: lint, check the layers (lint-imports), check PostgreSQL and Redis are up, run the whole suite.
test: install-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	$(PY) scripts/check_services.py
	$(VENV)/bin/pytest --create-db $(PYTEST_ARGS)
	@echo "Demo smoke test on SQLite, the no-setup database of make run:"
	DATABASE_URL=sqlite:///$(CURDIR)/var/test-smoke.sqlite3 $(VENV)/bin/pytest --create-db -q -p no:cacheprovider tests/test_demo_smoke.py

lint: install-dev
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

clean:
	rm -rf var .pytest_cache .ruff_cache
