# koppeling — two commands on a fresh machine: `make demo` and `make test`.
# Both create .venv and install what they need; nothing has to be installed by hand.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
PG_URL ?= postgres://postgres@127.0.0.1:5432/test
REDIS_URL ?= redis://127.0.0.1:6379/15
PYTEST_WORKERS ?= 2

.PHONY: demo test test-fast test-services browser-deps lint bench install clean messages

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e ".[dev]"
	@touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/koppeling demo

# The whole suite: SQLite (embedded default) in parallel, then the concurrency, crash and
# scale-out tests on the real PostgreSQL and Redis. Those fail loudly when the services are missing.
test: $(STAMP) browser-deps
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) -m "not postgres and not redis"
	$(MAKE) --no-print-directory test-services

test-services: $(STAMP)
	DATABASE_URL=$(PG_URL) KOPPELING_QUEUE_URL=$(REDIS_URL) KOPPELING_ALLOW_LOCAL_KEYS=1 \
	  $(BIN)/python -m pytest -m "postgres or redis"

# Browser tests drive Debian's chromium (Playwright cannot download browsers here).
browser-deps:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "installing Debian's chromium for the browser tests"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; }

test-fast: $(STAMP)
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) -m "not postgres and not redis" -x

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/lint-imports --no-cache

bench: $(STAMP)
	$(BIN)/python -m benchmarks.engine_overhead
	$(BIN)/python -m benchmarks.rate_limited
	@if [ -f benchmarks/strato_convert.py ]; then $(BIN)/python -m benchmarks.strato_convert; fi

# Translations (needs GNU gettext): refresh the Dutch catalogue, translate, compile. The compiled
# .mo is committed, so running koppeling never needs gettext.
messages: $(STAMP)
	cd src/koppeling && KOPPELING_DATA_DIR=$(CURDIR)/data DJANGO_SETTINGS_MODULE=koppeling.settings \
	  $(CURDIR)/$(BIN)/django-admin makemessages -l nl
	msgfmt --check -o src/koppeling/locale/nl/LC_MESSAGES/django.mo src/koppeling/locale/nl/LC_MESSAGES/django.po

clean:
	rm -rf $(VENV) data .pytest_cache .ruff_cache .hypothesis
