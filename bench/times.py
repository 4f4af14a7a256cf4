"""The times dashboard at the issue's size: the exact query over the rows against the roll-up,
measured in the same run on the same data.

Usage: ``python -m bench.times [--tickets 1000000] [--requests 200] [--schema NAME
[--reuse [--folded]]] [--record FILE] [--out FILE]``

Starts its own embedded PostgreSQL (or uses ``DOCKET_DATABASE_URL``), writes
``--tickets`` bench tickets into the log (``bench.data``: about five events each, made by
the real aggregates), folds them into the dashboard view alone with the projection runner,
and times the times dashboard's read function two ways on one connection, one query at a
time: ``rollup`` (``dashboard.times``, what the API serves) and ``rows`` (the query it
replaced, ``times_from_rows``: exact percentiles over every ticket row). Both run the same
queries in turn (each grouping over every ticket, an account, whole filing months, a
range that cuts two months, and an account's range that cuts two days of one month); p50
and p99 over ``--requests`` roll-up reads and a tenth as many (at least one per query)
over the rows. ``--record`` writes the figures into that
results file's ``times`` section, leaving the rest as it was; ``python -m bench`` runs the
same phase (``--times-tickets``, 20,000 by default).

The log is written into the schema ``bench_times``, dropped at the end. ``--schema NAME``
writes it into ``NAME`` and keeps it; with ``--reuse``, a log already there (from an earlier
run, its ``--tickets`` whatever they were) is not written again: the dashboard view's tables
and tracking row are dropped and the view folded again from the log, so one log of a
million tickets serves several runs (``DOCKET_DATABASE_URL`` naming a server that keeps it).
``--folded`` with ``--reuse`` keeps the dashboard view as an earlier run left it when it
stands at the log's head (in the code's shape): only the reads are timed again, and
``fold_s`` is then that of no fold (null), so a quiet moment can be used for the reads alone.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg

from bench.data import FIRST_NUMBER, add_tickets
from bench.harness import desk_schema
from bench.load import percentile
from bench.rebuild import T0
from projections import dashboard
from projections.catalog import VIEWS
from projections.dashboard import DashboardFilter
from projections.dashboard.queries import times_from_rows
from projections.kit import Tables, View
from projections.runner import ProjectionRunner
from projections.tracking import TRACKING_TABLE, create_tracking_table
from replay.rebuild import drop_tables
from store.log import EVENTS_TABLE

SCHEMA = "bench_times"
STEP = 50_000
"""Tickets written per COPY."""
Read = Callable[[psycopg.Connection[Any], Tables, DashboardFilter, str], list[dict[str, Any]]]


FIRST_FILED = T0 + timedelta(minutes=FIRST_NUMBER + 1)
"""When the first bench ticket was filed (2025-11-25 10:42 UTC); the others follow a minute
apart, so 100,000 reach into February 2026 and a million into October 2027."""


def asked(account_id: str) -> dict[str, tuple[DashboardFilter, str]]:
    """The queries, by name: a filter and a grouping. The ranges are where the bench tickets
    are (from :data:`FIRST_FILED`), so each reads what its name says."""
    every = DashboardFilter()
    return {
        "every ticket by priority": (every, "priority"),
        "every ticket by topic": (every, "topic"),
        "every ticket by product": (every, "product"),
        "every ticket by channel": (every, "channel"),
        "one account by priority": (DashboardFilter(account_ids=(account_id,)), "priority"),
        "four whole months by product": (
            DashboardFilter(
                since=datetime(2025, 12, 1, tzinfo=UTC), before=datetime(2026, 4, 1, tzinfo=UTC)
            ),
            "product",
        ),
        "a range cutting two months by priority": (
            DashboardFilter(
                since=datetime(2025, 12, 10, 12, tzinfo=UTC),
                before=datetime(2026, 1, 20, 9, 30, tzinfo=UTC),
            ),
            "priority",
        ),
        "one account, a range cutting two days of a month, by topic": (
            DashboardFilter(
                account_ids=(account_id,),
                since=datetime(2026, 1, 3, 8, 15, tzinfo=UTC),
                before=datetime(2026, 1, 29, 17, 40, tzinfo=UTC),
            ),
            "topic",
        ),
    }


def timed(
    conn: psycopg.Connection[Any], t: Tables, read: Read, queries: list[tuple[str, Any]], n: int
) -> dict[str, Any]:
    """p50/p99 (ms) of ``n`` reads cycling through ``queries``, after one of each to warm up."""
    for _, (f, group_by) in queries:
        read(conn, t, f, group_by)
    took: list[float] = []
    by_query: dict[str, list[float]] = {}
    for i in range(n):
        name, (f, group_by) = queries[i % len(queries)]
        began = time.perf_counter()
        read(conn, t, f, group_by)
        ms = (time.perf_counter() - began) * 1000
        took.append(ms)
        by_query.setdefault(name, []).append(ms)
    return {
        "p50_ms": round(percentile(took, 0.5), 2),
        "p99_ms": round(percentile(took, 0.99), 2),
        "requests": n,
        "p50_ms_by_query": {k: round(percentile(v, 0.5), 2) for k, v in by_query.items()},
        "p99_ms_by_query": {k: round(percentile(v, 0.99), 2) for k, v in by_query.items()},
    }


def logged(url: str, schema: str) -> int:
    """How many events ``schema``'s log holds."""
    with psycopg.connect(url) as conn:
        row = conn.execute(f'SELECT count(*) FROM "{schema}".{EVENTS_TABLE}').fetchone()
    return int(row[0]) if row else 0


def at_head(url: str, schema: str, view: View) -> bool:
    """Whether ``view`` has folded the whole of ``schema``'s log, in the code's version."""
    with psycopg.connect(url) as conn:
        row = conn.execute(
            f'SELECT t.position, t.shape, (SELECT max(notification_id) FROM "{schema}".'
            f'{EVENTS_TABLE}) FROM "{schema}".{TRACKING_TABLE} t WHERE t.view = %s',
            (view.name,),
        ).fetchone()
    return row is not None and row[1] == view.shape and int(row[0]) >= int(row[2] or 0)


def drop_view(url: str, schema: str, view: View) -> None:
    """Drop ``view``'s tables and tracking row, so that the runner folds it from 0 again."""
    with psycopg.connect(url) as conn:
        create_tracking_table(conn, schema)
        drop_tables(conn, Tables(schema), view)
        conn.execute(f'DELETE FROM "{schema}".{TRACKING_TABLE} WHERE view = %s', (view.name,))


def same_answers(conn: psycopg.Connection[Any], t: Tables, queries: list[tuple[str, Any]]) -> bool:
    """Whether both ways give the same groups, tickets and counts (the figures the roll-up keeps
    exactly) for every query."""
    exact = ("name", "tickets", "first_response_count", "resolution_count")
    for _, (f, group_by) in queries:
        got = [tuple(r[k] for k in exact) for r in dashboard.times(conn, t, f, group_by)]
        if got != [tuple(r[k] for k in exact) for r in times_from_rows(conn, t, f, group_by)]:
            return False
    return True


def run(
    url: str,
    tickets: int,
    requests: int,
    schema: str = SCHEMA,
    *,
    reuse: bool = False,
    folded_before: bool = False,
) -> dict[str, Any]:
    """Fill ``schema`` (which holds the event store's tables) with ``tickets`` tickets (or,
    with ``reuse``, keep the log it holds), fold the dashboard, and measure both ways; the
    figures."""
    began = time.perf_counter()
    events = logged(url, schema) if reuse else 0
    reused = events > 0
    view = VIEWS[dashboard.NAME]
    kept = reused and folded_before and at_head(url, schema, view)
    if reused:
        print(f"  reusing the {events:,} events in {schema}", file=sys.stderr, flush=True)
        if not kept:
            drop_view(url, schema, view)
    else:
        for first in range(0, tickets, STEP):
            events += add_tickets(url, schema, first, min(STEP, tickets - first))
            print(f"\r  written {events:,} events", end="", file=sys.stderr, flush=True)
        print(f"\n  wrote {events:,} events", file=sys.stderr, flush=True)
    wrote = time.perf_counter() - began
    folded: float | None = None
    if kept:
        print("  the dashboard view stands at the log's head: not folded again", file=sys.stderr)
    else:
        runner = ProjectionRunner(url, schema, [view], batch_size=5000)
        runner.create_tables()
        began = time.perf_counter()
        runner.catch_up()
        folded = time.perf_counter() - began
        print(f"  folded into the dashboard in {folded:.0f} s", file=sys.stderr, flush=True)
    t = Tables(schema)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("ANALYZE")  # what autovacuum would have done by now on a live desk
        row = conn.execute(
            f"SELECT count(*), min(account_id) FROM {t(dashboard.TICKETS)}"
        ).fetchone()
        assert row is not None
        in_view, account_id = int(row[0]), str(row[1])
        cells = conn.execute(f"SELECT count(*) FROM {t(dashboard.DURATIONS)}").fetchone()
        queries = list(asked(account_id).items())
        rollup = timed(conn, t, dashboard.times, queries, requests)
        print(f"  roll-up: {rollup}", file=sys.stderr, flush=True)
        rows = timed(conn, t, times_from_rows, queries, max(len(queries), requests // 10))
        print(f"  rows:    {rows}", file=sys.stderr, flush=True)
        agree = same_answers(conn, t, queries)
    return {
        "tickets": in_view,
        "events": events,
        "reused_log": reused,
        "copy_s": round(wrote, 1),
        "fold_s": round(folded, 1) if folded is not None else None,
        "fold_eps": round(events / folded) if folded else None,
        "rollup_cells": int(cells[0]) if cells else 0,
        "measured_as": "server side: the read function on one connection, no HTTP; "
        "the queries in turn",
        "queries": [name for name, _ in queries],
        "rollup": rollup,
        "rows": rows,
        "rows_over_rollup_p99": round(rows["p99_ms"] / rollup["p99_ms"], 1)
        if rollup["p99_ms"]
        else 0.0,
        "same_counts": agree,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--schema", default=None, help="write the log here and keep it")
    parser.add_argument(
        "--reuse", action="store_true", help="with --schema: fold the log it holds, if any"
    )
    parser.add_argument(
        "--folded",
        action="store_true",
        help="with --reuse: keep a dashboard view already at the log's head; time the reads",
    )
    parser.add_argument("--record", type=Path, default=None, help="a results.json to update")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    if args.reuse and args.schema is None:
        parser.error("--reuse needs --schema")
    if args.folded and not args.reuse:
        parser.error("--folded goes with --reuse")
    began = time.perf_counter()
    schema = args.schema or SCHEMA
    with desk_schema(schema, keep=args.schema is not None) as url:
        result: dict[str, Any] = {"when": datetime.now(UTC).isoformat(timespec="seconds")}
        result.update(
            run(
                url,
                args.tickets,
                args.requests,
                schema,
                reuse=args.reuse,
                folded_before=args.folded,
            )
        )
    result["seconds"] = round(time.perf_counter() - began, 1)
    print(json.dumps(result, indent=2))
    if args.out:
        args.out.write_text(json.dumps(result, indent=2) + "\n")
    if args.record:
        recorded = json.loads(args.record.read_text()) if args.record.exists() else {}
        recorded["times"] = result
        args.record.write_text(json.dumps(recorded, indent=2) + "\n")


if __name__ == "__main__":
    main()
