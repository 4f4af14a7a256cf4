"""Read queries at the issue's size: server-side time of each read with N tickets in the views.

Usage: ``python -m bench.scale [--tickets 1000000] [--requests 100] [--out FILE]``

Starts its own embedded PostgreSQL (or uses ``DOCKET_DATABASE_URL``), writes
``--tickets`` bench tickets into the log (``bench.data``: about five events each,
made by the real aggregates), folds them into the views the reads use (ticket
detail, inbox, dashboard) with the projection runner, and then times the same
queries the HTTP reads phase sends, as the API's read functions run them: one
connection, one query at a time, p50 and p99 over ``--requests`` of each kind.
This is the server side of a read without HTTP, which at 1,000,000 tickets the
full ``python -m bench`` would take hours to reach here (its server folds every
view, about 5,000,000 events).
"""

from __future__ import annotations

import random
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import psycopg

from bench.data import FIRST_NUMBER, add_tickets
from bench.harness import bench_options, desk_schema, write_figures
from bench.load import percentile
from projections import dashboard, ticket_detail
from projections.catalog import VIEWS
from projections.dashboard import DashboardFilter
from projections.kit import Tables
from projections.lists import inbox
from projections.lists.filters import ListFilter
from projections.runner import ProjectionRunner

Query = Callable[[psycopg.Connection[Any]], object]
STEP = 50_000
"""Tickets written per COPY."""


def queries(t: Tables, tickets: int) -> dict[str, list[Query]]:
    """The reads phase's requests (``bench.__main__.read_requests``) as read functions."""
    pick = random.Random(11)
    last = FIRST_NUMBER + max(tickets - 1, 1)
    every = DashboardFilter()
    month = (datetime(2024, 1, 1, tzinfo=UTC), datetime(2024, 2, 1, tzinfo=UTC))
    return {
        "inbox": [
            lambda c: inbox.tickets(c, t, ListFilter()),
            lambda c: inbox.tickets(c, t, ListFilter(), sort="last_activity"),
            lambda c: inbox.tickets(c, t, ListFilter(), sort="created"),
        ],
        "filter": [
            lambda c: inbox.tickets(c, t, ListFilter(statuses=("open",), priorities=("urgent",))),
            lambda c: inbox.tickets(c, t, ListFilter(products=("Dash",), types=("bug",))),
            lambda c: inbox.tickets(c, t, ListFilter(q="share")),
            lambda c: inbox.tickets(c, t, ListFilter(created_from=month[0], created_to=month[1])),
            lambda c: inbox.tickets(
                c, t, ListFilter(statuses=("pending",), assignees=("none",)), sort="last_activity"
            ),
        ],
        "detail": [
            lambda c: ticket_detail.detail(
                c, t, f"T-{pick.randint(FIRST_NUMBER + 1, last)}", with_internal_notes=True
            )
        ],
        "dashboard_summary": [lambda c: dashboard.summary(c, t, every)],
        "dashboard_top_issues": [lambda c: dashboard.top_issues(c, t, every, 10)],
        "dashboard_top_products": [lambda c: dashboard.top_products(c, t, every, "sync", 10)],
        "dashboard_volume": [lambda c: dashboard.volume(c, t, every, "week")],
        "dashboard_satisfaction": [lambda c: dashboard.satisfaction(c, t, every, "product")],
        "dashboard_times": [lambda c: dashboard.times(c, t, every, "priority")],
    }


def measure(url: str, schema: str, tickets: int, requests: int) -> dict[str, Any]:
    result: dict[str, Any] = {}
    with psycopg.connect(url, autocommit=True) as conn:
        for kind, asked in queries(Tables(schema), tickets).items():
            n = requests if kind != "dashboard_times" else max(5, requests // 10)
            for ask in asked:  # warm up
                ask(conn)
            took = []
            for i in range(n):
                began = time.perf_counter()
                asked[i % len(asked)](conn)
                took.append((time.perf_counter() - began) * 1000)
            result[kind] = {
                "p50_ms": round(percentile(took, 0.5), 2),
                "p99_ms": round(percentile(took, 0.99), 2),
                "requests": n,
            }
            if len(asked) > 1:
                result[kind]["p99_ms_by_query"] = [
                    round(percentile(took[i :: len(asked)], 0.99), 2) for i in range(len(asked))
                ]
            print(f"  {kind:24s} p50 {result[kind]['p50_ms']:8.2f} ms  "
                  f"p99 {result[kind]['p99_ms']:8.2f} ms  ({n}) "
                  f"{result[kind].get('p99_ms_by_query', '')}", flush=True)  # fmt: skip
    return result


def main(argv: list[str] | None = None) -> None:
    args = bench_options(__doc__, argv, tickets=1_000_000, requests=100)
    schema = "bench_scale"
    with desk_schema(schema) as url:
        began = time.perf_counter()
        events = 0
        for first in range(0, args.tickets, STEP):
            events += add_tickets(url, schema, first, min(STEP, args.tickets - first))
            print(f"\r  written {events:,} events", end="", file=sys.stderr, flush=True)
        wrote = time.perf_counter() - began
        print(f"\nwrote {events:,} events in {wrote:.0f} s", flush=True)
        views = [VIEWS[n] for n in ("ticket_detail", "inbox", "dashboard")]
        runner = ProjectionRunner(url, schema, views, batch_size=5000)
        runner.create_tables()
        began = time.perf_counter()
        runner.catch_up()
        folded = time.perf_counter() - began
        print(f"folded into {len(views)} views in {folded:.0f} s", flush=True)
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("ANALYZE")  # what autovacuum would have done by now on a live desk
            row = conn.execute(f'SELECT count(*) FROM "{schema}".dashboard_tickets').fetchone()
        in_views = int(row[0]) if row else 0
        reads = measure(url, schema, in_views, args.requests)
    result = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "tickets": in_views,
        "events": events,
        "copy_s": round(wrote, 1),
        "fold_s": round(folded, 1),
        "measured_as": "server side: the API's read functions on one connection, no HTTP",
        "reads": reads,
    }
    write_figures(args.out, result)


if __name__ == "__main__":
    main()
