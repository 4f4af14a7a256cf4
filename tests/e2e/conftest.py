"""A real Docket server over HTTP: ``docket serve`` in a subprocess, on the test PostgreSQL."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import AbstractContextManager
from typing import Any

import pytest

from bench.harness import Server, docket_server

__all__ = ["DOCKET", "Server", "docket", "file_ticket", "running_server"]

DOCKET = [sys.executable, "-m", "api.cli"]
"""The ``docket`` command, as an operator runs it."""


def docket(
    env: dict[str, str], *args: str, timeout: float | None = None
) -> subprocess.CompletedProcess[str]:
    """``docket ARGS`` on the desk ``env`` names: its exit code, output and errors."""
    return subprocess.run(
        [*DOCKET, *args], env=env, capture_output=True, text=True, check=False, timeout=timeout
    )


def running_server(
    database_url: str, *, schema: str | None = None, seed: bool = True, **settings: str
) -> AbstractContextManager[Server]:
    return docket_server(database_url, schema=schema, seed=seed, **settings)


@pytest.fixture(scope="session")
def server(database_url: str) -> Iterator[Server]:
    # no automation watch: a rule the fuzzers switch on must not work other tests' tickets
    with running_server(database_url, DOCKET_AUTOMATION_SWEEP_SECONDS="0") as running:
        yield running


def file_ticket(server: Server, role: str = "requester", **fields: Any) -> dict[str, Any]:
    body = {"subject": "Sync fails", "description": "Since this morning.", "type": "bug", **fields}
    with server.client(role) as c:
        response = c.post("/v1/tickets", json=body)
    assert response.status_code == 201, response.text
    answer: dict[str, Any] = response.json()
    return answer
