"""Saved views at 1,000,000 tickets: each common view's count and first page, against the
plain inbox's first page in the same run.

Usage: ``python -m bench.views [--tickets 1000000] [--requests 50] [--out FILE]``

Starts its own embedded PostgreSQL (or uses ``DOCKET_DATABASE_URL``), writes
``--tickets`` rows straight into the inbox's table (:mod:`bench.list_rows`: the read is
measured, not the fold), then times, one query at a time on one connection, the inbox's
first page (the baseline), and for each view the count the inbox shows beside it
(:meth:`~projections.lists.ticket_rows.TicketList.count`, capped at 1,000) and its first
page: p50 and p99 over ``--requests`` each, and their ratio to the baseline's p50. It
also records each count's plan (``EXPLAIN``): the index it reads, and that no count
reads the table from end to end (``Seq Scan``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from typing import Any

import psycopg

from bench.harness import bench_options, embedded_database, write_figures
from bench.list_rows import fill_inbox
from bench.load import percentile
from projections.kit import Tables
from projections.lists import inbox
from projections.lists.filters import SORTS, ListFilter, count_query
from projections.tracking import view_position

SCHEMA = "bench_views"
NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)

VIEWS: dict[str, tuple[ListFilter, str | None]] = {
    "tier-1 open": (ListFilter(statuses=("open",), groups=("tier-1",)), None),
    "billing open and pending": (
        ListFilter(statuses=("open", "pending"), groups=("billing",)),
        None,
    ),
    "mine, open and pending": (
        ListFilter(statuses=("open", "pending"), assignees=("agent-7",)),
        None,
    ),
    "unassigned open": (ListFilter(statuses=("open",), assignees=("none",)), None),
    "urgent not closed": (ListFilter(statuses=("open", "pending"), priorities=("urgent",)), None),
    "needs an answer": (ListFilter(needs_answer=True), None),
    "breaching within 60 min": (ListFilter(breaching_within=60, now=NOW), "due"),
    "every ticket": (ListFilter(), None),
}
"""The views agents keep most (by status and group, assignee, priority, SLA), and every
ticket (the count that is always capped)."""


def timed(ask: Callable[[], object], requests: int) -> dict[str, float]:
    ask()  # warm up
    took = []
    for _ in range(requests):
        began = time.perf_counter()
        ask()
        took.append((time.perf_counter() - began) * 1000)
    return {"p50_ms": round(percentile(took, 0.5), 2), "p99_ms": round(percentile(took, 0.99), 2)}


def count_plan(
    conn: psycopg.Connection[Any], t: Tables, where: ListFilter, sort: str | None
) -> str:
    """The plan of a view's count, as :func:`projections.lists.filters.count` asks it."""
    snapshot = view_position(conn, t.schema, inbox.NAME)
    sql, params = count_query(
        t, inbox.INBOX.rows, inbox.INBOX.search, where, snapshot, SORTS[sort or "attention"]
    )
    rows = conn.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", [*params, 1001]).fetchall()
    return "\n".join(str(r[0]) for r in rows)


def measure(conn: psycopg.Connection[Any], requests: int) -> dict[str, Any]:
    t = Tables(SCHEMA)
    baseline = timed(lambda: inbox.tickets(conn, t, ListFilter()), requests)
    print(f"  {'inbox first page (baseline)':30s} p50 {baseline['p50_ms']:8.2f} ms  "
          f"p99 {baseline['p99_ms']:8.2f} ms", flush=True)  # fmt: skip
    snapshot = view_position(conn, SCHEMA, inbox.NAME)
    views: dict[str, Any] = {}
    for name, (where, sort) in VIEWS.items():
        counted = inbox.INBOX.count(conn, t, where, snapshot, sort=sort)
        count = timed(partial(inbox.INBOX.count, conn, t, where, snapshot, sort=sort), requests)
        first = timed(partial(inbox.tickets, conn, t, where, sort=sort), requests)
        plan = count_plan(conn, t, where, sort)
        views[name] = {
            "count": f"{counted.tickets:,}{'+' if counted.capped else ''}",
            "count_ms": count,
            "first_page_ms": first,
            "count_vs_baseline_p50": round(count["p50_ms"] / baseline["p50_ms"], 2),
            "first_page_vs_baseline_p50": round(first["p50_ms"] / baseline["p50_ms"], 2),
            "count_reads_index": "Index" in plan,
            "count_scans_table": "Seq Scan" in plan,
            "count_plan": plan.splitlines(),
        }
        v = views[name]
        print(f"  {name:30s} {v['count']:>7}  count p50 {count['p50_ms']:7.2f} ms "
              f"(x{v['count_vs_baseline_p50']}), first page p50 {first['p50_ms']:7.2f} ms "
              f"(x{v['first_page_vs_baseline_p50']}), seq scan: {v['count_scans_table']}",
              flush=True)  # fmt: skip
    return {"baseline_inbox_first_page_ms": baseline, "views": views}


def main(argv: list[str] | None = None) -> None:
    args = bench_options(__doc__, argv, tickets=1_000_000, requests=50)
    with embedded_database() as url, psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{SCHEMA}" CASCADE')
        conn.execute(f'CREATE SCHEMA "{SCHEMA}"')
        began = time.perf_counter()
        fill_inbox(conn, SCHEMA, args.tickets, NOW)
        wrote = time.perf_counter() - began
        print(f"wrote {args.tickets:,} inbox rows in {wrote:.0f} s", flush=True)
        reads = measure(conn, args.requests)
        conn.execute(f'DROP SCHEMA "{SCHEMA}" CASCADE')
    result = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "tickets": args.tickets,
        "insert_s": round(wrote, 1),
        "measured_as": "server side: the read functions on one connection, no HTTP",
        **reads,
    }
    write_figures(args.out, result)


if __name__ == "__main__":
    main()
