"""Fixtures the integration tests share: a desk, every view's runner, a connection."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from desk.service import SupportDesk
from projections.catalog import VIEWS
from projections.runner import ProjectionRunner


@pytest.fixture
def desk(pg_env: dict[str, str]) -> Iterator[SupportDesk]:
    desk = SupportDesk(pg_env)
    yield desk
    desk.close()


@pytest.fixture
def runner(database_url: str, schema: str, desk: SupportDesk) -> ProjectionRunner:
    runner = ProjectionRunner(database_url, schema, VIEWS.values())
    runner.create_tables()
    return runner


@pytest.fixture
def conn(database_url: str) -> Iterator[psycopg.Connection[Any]]:
    with psycopg.connect(database_url, autocommit=True) as conn:
        yield conn
