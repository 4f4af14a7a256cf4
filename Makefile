# Docket: `make run` serves the API, `make test` checks and tests everything.
# Both set themselves up: a virtual environment in .venv and, unless
# DOCKET_DATABASE_URL is set, an embedded PostgreSQL in .docket/.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: run test check fmt test-fast test-stress bench seed clean

$(STAMP): pyproject.toml
	$(BIN)/python -m pip --version >/dev/null 2>&1 || { rm -rf $(VENV) && $(PYTHON) -m venv $(VENV); }
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/docket serve

check: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

fmt: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

test: check
	$(BIN)/python -m pytest -m "not stress" -q

test-fast: $(STAMP)
	$(BIN)/python -m pytest -m "not stress" -q -x

test-stress: $(STAMP)
	$(BIN)/python -m pytest -m stress -q

bench: $(STAMP)
	$(BIN)/python -m bench

seed: $(STAMP)
	$(BIN)/docket seed-demo

clean:
	rm -rf $(VENV) .docket .pytest_cache .mypy_cache .ruff_cache
