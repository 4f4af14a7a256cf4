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

.PHONY: run test check fmt test-fast test-stress bench seed clean

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

test: check
	$(BIN)/python -m pytest -m "not stress" -q

test-fast: $(DEV_STAMP)
	$(BIN)/python -m pytest -m "not stress" -q -x

test-stress: $(DEV_STAMP)
	$(BIN)/python -m pytest -m stress -q

bench: $(DEV_STAMP)
	$(BIN)/python -m bench

seed: $(SERVE_STAMP)
	$(BIN)/docket seed-demo

clean:
	rm -rf $(VENV) .docket .pytest_cache .mypy_cache .ruff_cache
