# CPOR — the two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-from-lock
PORT ?= 8000
# Exported so that the management commands and gunicorn build e-mail links on this port.
export PORT
MANAGE := $(BIN)/python manage.py
PG_TEST_URL ?= postgres://postgres@127.0.0.1:5432/cpor

.PHONY: screenshots run install chromium nginx cluster test test-sqlite test-postgres lint format bench clean worker

install: $(STAMP)

# Installs from the lock, then puts the project's own package (src/cpor) on the venv's
# path, so every tool run from the venv (pytest, lint-imports, celery) finds it.
$(STAMP): requirements.lock
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --require-hashes --no-deps -r requirements.lock
	$(BIN)/python -c "import pathlib, sysconfig; pathlib.Path(sysconfig.get_paths()['purelib'], 'cpor-src.pth').write_text('$(CURDIR)/src\n')"
	touch $(STAMP)

# Install, migrate, seed an empty database, then serve with gunicorn (static files via WhiteNoise).
run: install
	$(MANAGE) migrate --no-input
	$(MANAGE) collectstatic --no-input --verbosity 0
	$(MANAGE) seed_demo --if-empty
	$(BIN)/gunicorn cpor.wsgi --pythonpath src --bind 127.0.0.1:$(PORT) --workers 2 --threads 4 --access-logfile -

# Production background work: a Celery worker with beat (needs CELERY_BROKER_URL). Without
# a broker there is nothing to run: schedule `manage.py run_periodic` from cron instead.
worker: install
	PYTHONPATH=src $(BIN)/celery -A cpor worker --beat --loglevel INFO

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache
	$(MANAGE) makemigrations --check --dry-run

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Browser tests drive Debian's chromium; nothing is downloaded by Playwright.
chromium:
	@command -v chromium >/dev/null || { apt-get update -qq && apt-get install -y -qq chromium; }

# nginx from Debian: the balancer of the local production cluster and its tests.
nginx:
	@command -v nginx >/dev/null || { apt-get update -qq && apt-get install -y -qq nginx-light; }

# The local production cluster in the foreground (deploy/README.md): nginx, two web nodes,
# two workers and beat on Redis, PostgreSQL, S3 (moto) and an SMTP sink; Ctrl-C stops it.
cluster: install nginx
	deploy/cluster

# The whole suite on SQLite, then the database-level tests again on PostgreSQL (where the
# concurrency tests run); browser tests run once, on SQLite.
test: lint test-sqlite test-postgres

# The README's pictures (docs/screenshots), taken by the browser tests; a normal test run
# keeps its screenshots under var/screenshots and leaves the tree clean.
screenshots: install chromium
	CPOR_SCREENSHOTS_DIR=docs/screenshots $(BIN)/pytest -q -p no:cacheprovider -m browser -k "not every_page"

test-sqlite: install chromium
	$(BIN)/pytest -q

# The cluster tests (marker "cluster", deploy/README.md) run here: they need PostgreSQL.
test-postgres: install nginx
	DATABASE_URL=$(PG_TEST_URL) $(BIN)/pytest -q -m "not browser"

# Every benchmark (each in a database of its own on that server), then docs/performance.md
# rebuilt from bench/results/*.json.
bench: install
	for script in bench/run.py bench/bench_*.py; do \
		DATABASE_URL=$(PG_TEST_URL) $(BIN)/python $$script || exit 1; \
	done
	$(BIN)/python bench/report.py

clean:
	rm -rf $(VENV) var/static
