# Pilotage CVU – entry points. `make help` lists them.
PYTHON ?= python3
VENV ?= venv
BIN := $(VENV)/bin
# The demo always runs on SQLite with in-process tasks, whatever the shell exports, and writes
# only db.sqlite3 and media/ in this folder (what `make clean` removes).
DEMO_ENV := env -u DATABASE_URL -u POSTGRES_HOST -u CELERY_BROKER_URL -u SQLITE_PATH -u MEDIA_ROOT \
	DEBUG=True
DEPLOY_ENV := env DEBUG=False ALLOWED_HOSTS=cvu.example.org \
	SECRET_KEY=check-deploy-only-0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJ

.DEFAULT_GOAL := help
.PHONY: help prerequisites demo run admin test test-live lint fix clean distclean bench bench-echelles bench-debit

help: ## List the commands
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

prerequisites: ## Check the system packages a fresh machine needs (README)
	@$(PYTHON) scripts/check_prerequisites.py --venv $(VENV)

$(BIN)/python: | prerequisites
	$(PYTHON) -m venv $(VENV)

$(VENV)/.runtime: requirements.txt | $(BIN)/python
	$(BIN)/pip install -q --disable-pip-version-check -r requirements.txt
	touch $@

$(VENV)/.dev: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install -q --disable-pip-version-check -r requirements-dev.txt
	touch $(VENV)/.runtime $@

demo: prerequisites $(VENV)/.runtime ## Demo on SQLite with demo data, served on http://127.0.0.1:8000
	$(DEMO_ENV) $(BIN)/python manage.py migrate --noinput -v0
	$(DEMO_ENV) $(BIN)/python manage.py load_territoire
	$(DEMO_ENV) $(BIN)/python manage.py seed_demo
	@echo "Connexion : cdp1@demo.local (chef de projet), service@demo.local, direction@demo.local, admin@demo.local – mot de passe : demo"
	$(DEMO_ENV) $(BIN)/python manage.py runserver 127.0.0.1:8000

run: $(VENV)/.runtime ## Serve the current database without reloading data
	$(DEMO_ENV) $(BIN)/python manage.py runserver 127.0.0.1:8000

admin: $(VENV)/.runtime ## Create an administrator (asks e-mail and password; uses the exported settings)
	$(BIN)/python manage.py createsuperuser

ECHELLE ?= 1
bench: $(VENV)/.runtime ## Benchmark lists, exports, dashboard, committee, report (DATABASE_URL, ECHELLE=10)
	DEBUG=True DATABASE_STATEMENT_TIMEOUT=0 $(BIN)/python manage.py migrate --noinput -v0
	DEBUG=True DATABASE_STATEMENT_TIMEOUT=0 $(BIN)/python manage.py bench_reporting \
		--echelle $(ECHELLE) --sortie bench-listes-$(ECHELLE).json $(BENCH_ARGS)

bench-echelles: $(VENV)/.runtime ## Both scales in one run: x1 on DATABASE_URL_X1, x10 on DATABASE_URL, with the ratio
	@test -n "$(DATABASE_URL_X1)" -a "$(DATABASE_URL_X1)" != "$(DATABASE_URL)" || { \
		echo "DATABASE_URL_X1 : une seconde base PostgreSQL, distincte de DATABASE_URL, pour l'échelle 1."; \
		exit 2; }
	$(MAKE) bench ECHELLE=1 DATABASE_URL="$(DATABASE_URL_X1)"
	$(MAKE) bench ECHELLE=10 BENCH_ARGS="--reference bench-listes-1.json $(BENCH_ARGS)"

bench-debit: $(VENV)/.runtime ## Throughput under gunicorn -w 2 (production settings) against a bare view (after make bench)
	$(DEPLOY_ENV) $(BIN)/python manage.py collectstatic --noinput -v0
	DEBUG=True DATABASE_STATEMENT_TIMEOUT=0 $(BIN)/python manage.py bench_debit $(BENCH_ARGS)

lint: $(VENV)/.dev ## ruff, Django checks, missing migrations, deploy check, static files
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	DEBUG=True $(BIN)/python -W error manage.py check
	DEBUG=True $(BIN)/python -W error manage.py makemigrations --check --dry-run -v1
	$(DEPLOY_ENV) $(BIN)/python -W error manage.py check --deploy --fail-level WARNING
	$(DEPLOY_ENV) $(BIN)/python manage.py collectstatic --noinput -v0

test: lint ## The whole suite (PostgreSQL, worker and browser tests need DATABASE_URL, CELERY_BROKER_URL, Chromium)
	$(BIN)/python -m pytest -q

test-live: $(VENV)/.dev ## Only the tests that need real services
	$(BIN)/python -m pytest -q -m live

fix: $(VENV)/.dev ## Reformat and apply safe lint fixes
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean: ## Remove what the demo and the tests wrote (SQLite database, media/, static files)
	rm -rf db.sqlite3 db.sqlite3-journal media staticfiles media-test test-results .hypothesis \
		celerybeat-schedule*

distclean: clean ## Also remove the virtualenv
	rm -rf $(VENV)
