# Entry points named in the README: `make run` starts the service, `make test` runs everything.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
TOOLS := .tools
PYTEST_WORKERS ?= 2
I18N_APPS := config phone_auth referrals phone_referrals_web

.PHONY: lock run test test-django6 lint typecheck pytest install system-deps newman docker-smoke bench schema \
	messages clean

$(BIN)/.installed: pyproject.toml requirements/lock.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q uv
	$(BIN)/uv pip install --python $(BIN)/python -q -r requirements/lock.txt
	$(BIN)/uv pip install --python $(BIN)/python -q --no-deps -e .
	touch $@

install: $(BIN)/.installed

## Re-pin dependencies after editing pyproject.toml: the full lock (dev and CI) and the
## server-only lock the Docker image installs, held to the same versions.
lock: install
	$(BIN)/uv pip compile pyproject.toml --extra server --group dev --python-version 3.11 \
		-o requirements/lock.txt --no-header --quiet
	$(BIN)/uv pip compile pyproject.toml --extra server --python-version 3.11 \
		--constraint requirements/lock.txt -o requirements/server.txt --no-header --quiet
	$(BIN)/uv pip compile pyproject.toml --extra server --group dev --python-version 3.12 \
		-o requirements/lock-py312.txt --no-header --quiet

## Start the service on the embedded default (SQLite, console SMS, demo mode) through uvicorn
## (config/serve.py: the worker count, the concurrency limits and timeouts; every variable of
## the README's table is read from the environment or the command line).
run: install
	$(BIN)/python manage.py migrate --noinput
	exec $(BIN)/python -m config.serve --host "$(HOST)" --port "$(PORT)"

## Debian and npm tools the end-to-end tests need (headless Chromium, newman).
system-deps: newman
	@command -v chromium >/dev/null || { \
		echo "Installing Debian's chromium for the browser tests"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }
	@command -v nginx >/dev/null || test -x /usr/sbin/nginx || { \
		echo "Installing Debian's nginx for the proxy configuration test"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx-light >/dev/null \
			|| DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx >/dev/null; }

## newman, Postman's command-line runner, into .tools/ (the README's Postman section).
newman: $(TOOLS)/node_modules/.bin/newman

$(TOOLS)/node_modules/.bin/newman:
	@echo "Installing newman for the Postman collection into $(TOOLS)/"
	npm install --silent --no-audit --no-fund --prefix $(TOOLS) newman@6 >/dev/null

## Build the Docker image on a base made from Debian's packages and run a sign-in and profile
## flow through it against the local PostgreSQL and Redis (needs a running dockerd).
docker-smoke: install
	$(BIN)/python -m tests.deploy.docker_smoke

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy .

pytest: install system-deps
	$(BIN)/pytest -n $(PYTEST_WORKERS) --cov --cov-report=term

## The whole suite: lint, types, unit/integration/concurrency tests, browser and Postman runs.
test: lint typecheck pytest

## The same tests on Python 3.12 with Django 6.x (requirements/lock-py312.txt), with
## deprecation warnings as errors; skipped with a note where no Python 3.12 is installed.
PYTHON312 ?= $(shell for p in $$(pyenv root 2>/dev/null)/versions/3.12*/bin/python3.12 python3.12; do \
	"$$p" -c "import sys; assert sys.version_info[:2] == (3, 12)" 2>/dev/null && echo "$$p" && break; done)
VENV312 := .venv-py312
test-django6: system-deps
	@set -e; if [ -z "$(PYTHON312)" ]; then echo "test-django6: no Python 3.12 here, skipped"; exit 0; fi; \
	test -x $(VENV312)/bin/python || $(PYTHON312) -m venv $(VENV312); \
	$(VENV312)/bin/python -m pip install -q uv && \
	$(VENV312)/bin/uv pip install --python $(VENV312)/bin/python -q -r requirements/lock-py312.txt && \
	$(VENV312)/bin/uv pip install --python $(VENV312)/bin/python -q --no-deps -e . && \
	$(VENV312)/bin/python -c "import django; print('Django', django.get_version())" && \
	REDIS_URL=redis://127.0.0.1:6379/12 DATABASE_URL=postgres://postgres@127.0.0.1:5432/phone_referrals_dj6 \
		$(VENV312)/bin/pytest -n $(PYTEST_WORKERS) -p no:cacheprovider -W error::DeprecationWarning

## Load benchmarks of the real service (uvicorn, PostgreSQL, Redis); prints one table.
bench: install
	@command -v wrk >/dev/null || { \
		echo "Installing Debian's wrk for the benchmarks"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
	$(BIN)/python -m benchmarks.run

## Regenerate the committed OpenAPI schema; a test fails when docs/openapi.yaml drifts.
schema: install
	$(BIN)/python manage.py spectacular --file docs/openapi.yaml --validate --fail-on-warn

## Refresh the Russian catalogs (each app keeps its own in <app>/locale) and compile them;
## the .mo files are committed, so nothing needs gettext at run time.
messages: install
	for app in $(I18N_APPS); do \
		(cd $(CURDIR)/$$app && $(CURDIR)/$(BIN)/python $(CURDIR)/manage.py makemessages -l ru --no-obsolete) || exit 1; \
	done
	$(BIN)/python manage.py compilemessages --ignore=.venv --ignore=.tools

clean:
	rm -rf $(VENV) $(VENV312) $(TOOLS) .pytest_cache .mypy_cache .ruff_cache htmlcov .coverage
