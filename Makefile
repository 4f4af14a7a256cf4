# Docket: `make run` serves the API, `make test` checks and tests everything.
# Both set themselves up: a virtual environment in .venv and, unless
# DOCKET_DATABASE_URL is set, an embedded PostgreSQL in .docket/.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# serving needs the package and its dependencies; checks, tests and benches add the extras
SERVE_STAMP := $(VENV)/.serve-stamp
DEV_STAMP := $(VENV)/.dev-stamp
PIP := $(BIN)/python -m pip install --quiet --disable-pip-version-check

# the page tests drive Debian's Chromium (Playwright's own browser download cannot work
# offline); installed here when missing and we are root, else said what to install
CHROMIUM ?= /usr/bin/chromium

.PHONY: run test check fmt test-fast test-stress bench seed clean browser

$(SERVE_STAMP): pyproject.toml
	$(BIN)/python -m pip --version >/dev/null 2>&1 || { rm -rf $(VENV) && $(PYTHON) -m venv $(VENV); }
	$(PIP) --upgrade pip
	$(PIP) -e .
	touch $(SERVE_STAMP)

$(DEV_STAMP): $(SERVE_STAMP)
	$(PIP) -e '.[dev]'
	touch $(DEV_STAMP)

run: $(SERVE_STAMP)
	$(BIN)/docket serve

check: $(DEV_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

fmt: $(DEV_STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

browser:
	@if [ -x "$(CHROMIUM)" ]; then exit 0; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "installing Debian's chromium for the page tests"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	else \
		echo "The page tests need Chromium at $(CHROMIUM): run 'sudo apt-get install chromium'," \
			"or set CHROMIUM=/path/to/chromium (and DOCKET_CHROMIUM for pytest)." >&2; \
		exit 1; \
	fi

test: check browser
	DOCKET_CHROMIUM=$(CHROMIUM) $(BIN)/python -m pytest -m "not stress" -q

test-fast: $(DEV_STAMP) browser
	DOCKET_CHROMIUM=$(CHROMIUM) $(BIN)/python -m pytest -m "not stress" -q -x

test-stress: $(DEV_STAMP)
	$(BIN)/python -m pytest -m stress -q

bench: $(DEV_STAMP)
	$(BIN)/python -m bench $(BENCH_ARGS)
	$(BIN)/python -m bench.pages
	$(BIN)/python -m bench.replica --record

seed: $(SERVE_STAMP)
	$(BIN)/docket seed-demo

clean:
	rm -rf $(VENV) .docket .artifacts .pytest_cache .mypy_cache .ruff_cache
