"""A real Docket server over HTTP: ``docket serve`` in a subprocess, on the test PostgreSQL."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest


@dataclass
class Server:
    base_url: str
    tokens: dict[str, Any]
    env: dict[str, str]

    def client(self, role: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {self.tokens[role]}"} if role else {}
        return httpx.Client(base_url=self.base_url, headers=headers, timeout=30)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextmanager
def running_server(database_url: str, **settings: str) -> Iterator[Server]:
    """``docket serve`` in a subprocess on a schema of its own, seeded with the demo world."""
    schema = "e2e_" + uuid.uuid4().hex[:12]
    port = free_port()
    env = {
        **os.environ,
        "DOCKET_DATABASE_URL": database_url,
        "DOCKET_SCHEMA": schema,
        "DOCKET_PORT": str(port),
        "DOCKET_TOKEN_CACHE_SECONDS": "0",
        "DOCKET_READ_WAIT_SECONDS": "2",
        **settings,
    }
    # The server's output goes to a file: a pipe nobody reads would fill and stall it.
    log = tempfile.NamedTemporaryFile(prefix="docket-e2e-", suffix=".log", delete=False)  # noqa: SIM115
    process = subprocess.Popen(
        [sys.executable, "-m", "api.cli", "serve"], env=env, stdout=log, stderr=subprocess.STDOUT
    )
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(base_url + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                output = Path(log.name).read_text(errors="replace")
                raise RuntimeError(f"docket serve did not start:\n{output}")
            time.sleep(0.2)
        seeded = subprocess.run(
            [sys.executable, "-m", "api.cli", "seed-demo"],
            env=env,
            capture_output=True,
            check=True,
        )
        yield Server(base_url, json.loads(seeded.stdout), env)
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()
        Path(log.name).unlink(missing_ok=True)
        with psycopg.connect(database_url, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.fixture(scope="session")
def server(database_url: str) -> Iterator[Server]:
    with running_server(database_url) as running:
        yield running


def file_ticket(server: Server, role: str = "requester", **fields: Any) -> dict[str, Any]:
    body = {"subject": "Sync fails", "description": "Since this morning.", "type": "bug", **fields}
    with server.client(role) as c:
        response = c.post("/v1/tickets", json=body)
    assert response.status_code == 201, response.text
    answer: dict[str, Any] = response.json()
    return answer
