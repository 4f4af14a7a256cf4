"""Docket's benchmarks, side by side with the physical limit: ``python -m bench``.

Usage: ``python -m bench [--quick] [--tickets N] [--seconds S] [--lag-rate R]
[--requests N] [--times-tickets N] [--out DIR]`` (``make bench`` runs the defaults;
``make bench BENCH_ARGS="--times-tickets 1000000"`` runs the times phase at the issue's
size).

Starts its own embedded PostgreSQL in a temporary folder (or uses
``DOCKET_DATABASE_URL``) and a real ``docket serve``, removes both afterwards, and
writes ``results.json``, ``results.png`` and a table. Every figure that a target
judges is a ratio to a baseline measured in the same run, or a latency at a stated
load, because absolute figures on a shared 2-core machine drift from run to run.

Phases, in order:

1. ``append``: single-event saves/s with 1, 8 and 32 writers for raw psycopg INSERTs
   (one per commit), eventsourcing's default Postgres recorder, and Docket's
   group-commit recorder (``bench.append``).
2. ``http``: the most requests/s a bare FastAPI endpoint doing one INSERT sustains on
   the same stack (``bench.baseline_app``, its own subprocess), then the same for
   Docket's real endpoints with bearer tokens (one filing for two replies), then
   Docket at 70 % of that on a fixed schedule for p50/p99 (``bench.load``); then filings
   and replies each against the bare endpoint at 16 connections, ``wrk`` if installed
   (``bench.per_request``: ``http.per_request``).
3. ``lag``: writes at ``--lag-rate``/s on a fixed schedule; commit to visible in the
   inbox view, from a watcher polling the log head and the view's position.
4. ``reads``: ``--tickets`` tickets added to the log in three steps (a quarter, a half,
   all; ``bench.data``) and folded by the server's own projection runner; after each
   step, p50/p99 of inbox lists, filtered lists, ticket detail and dashboards (round
   trips, one request at a time on a keep-alive connection) and the API's RSS.
5. ``rebuild``: every event of that log read and decoded (``raw_eps``), then every view
   rebuilt from position 0 into shadow tables and swapped in (``rebuild_eps``).
6. ``reply_cost``: process CPU per reply, in this process, on tickets of 500 events and of
   5, with the ticket cache and without (``bench.reply_cost``; ``--quick``: 50 events).
7. ``times``: ``--times-tickets`` tickets (20,000 by default) in a schema of their own,
   folded into the dashboard view alone, then the times dashboard read from its roll-up
   and, in the same run, by the exact query over the rows it replaced (``bench.times``).
   With 100,000 tickets it took 982 s on this shared machine under load, 81 % of it
   writing the events (``python -m bench.times --tickets 100000``).
"""

from __future__ import annotations

import argparse
import bisect
import itertools
import json
import os
import platform
import random
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg

from bench import append as append_bench
from bench import per_request
from bench import times as times_bench
from bench.data import FIRST_NUMBER, add_tickets, wait_caught_up
from bench.harness import (
    Server,
    baseline_server,
    desk_schema_on,
    docket_server,
    embedded_database,
)
from bench.lag import Watcher
from bench.load import Answer, Request, Tally, closed_loop, open_loop, percentile, sequential
from bench.rebuild import raw_rate
from bench.reply_cost import run as reply_cost_run
from bench.report import chart, table, targets

HERE = Path(__file__).parent


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def machine(url: str) -> dict[str, Any]:
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    with psycopg.connect(url) as conn:
        row = conn.execute("SHOW server_version").fetchone()
    return {
        "cpus": os.cpu_count(),
        "cpu_model": model,
        "python": platform.python_version(),
        "postgres": str(row[0]) if row else "unknown",
        "platform": platform.platform(),
    }


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    raise RuntimeError(f"no VmRSS for process {pid}")


# -- 1. append ---------------------------------------------------------------------------


def append_phase(url: str, seconds: float) -> dict[str, Any]:
    result: dict[str, Any] = {"writers": 8, "seconds_per_run": seconds}
    for writers, suffix in ((1, "_1"), (8, ""), (32, "_32")):
        figures = append_bench.measure(url, writers, seconds)
        for key, value in figures.items():
            result[key + suffix] = round(value)
        log(f"  append {writers:>2} writers: {figures}")
    return result


# -- 2. http -----------------------------------------------------------------------------


class WriteMix:
    """One filing by the requester for every two public replies by an agent, spread over
    the tickets filed so far; remembers each answered position."""

    def __init__(self, server: Server) -> None:
        self.requester = str(server.tokens["requester"])
        self.agent = str(server.tokens["agent"])
        self.tickets: list[str] = []
        self.positions: list[int] = []
        self.random = random.Random(7)

    def next(self, i: int) -> Request:
        if i % 3 == 0 or not self.tickets:
            body = {"subject": f"Sync fails {i}", "description": "Since this morning.",
                    "type": "bug", "product": "Files"}  # fmt: skip
            return Request("POST", "/v1/tickets", self.requester, body)
        number = self.tickets[-1 - self.random.randrange(min(len(self.tickets), 500))]
        return Request("POST", f"/v1/tickets/{number}/messages", self.agent, {"body": f"r{i}"})

    def seen(self, request: Request, answer: Answer) -> None:
        if answer.status in (200, 201):
            data = answer.json()
            self.positions.append(int(data["position"]))
            if request.path == "/v1/tickets":
                self.tickets.append(data["number"])


def baseline_rps(url: str, seconds: float, connections: int, warmup: float) -> Tally:
    body = {"subject": "Sync fails", "description": "Since this morning.", "type": "bug"}

    def filing(i: int) -> Request:
        return Request("POST", "/filings", None, body)

    with baseline_server(url, timeout=60) as (base, _pid):
        closed_loop(base, filing, connections=connections, seconds=warmup)
        return closed_loop(base, filing, connections=connections, seconds=seconds)


def write_mix_rps(
    server: Server, seconds: float, connections: int, warmup: float
) -> tuple[WriteMix, Tally]:
    """The most requests/s of the write mix: 30 filings to reply to, a warm-up, the run."""
    mix = WriteMix(server)
    filings = [mix.next(0) for _ in range(30)]
    for request, answer in zip(filings, sequential(server.base_url, filings)[1], strict=True):
        mix.seen(request, answer)
    closed_loop(server.base_url, mix.next, connections=connections, seconds=warmup, seen=mix.seen)
    full = closed_loop(
        server.base_url, mix.next, connections=connections, seconds=seconds, seen=mix.seen
    )
    return mix, full


def http_phase(
    url: str, server: Server, seconds: float, connections: int, warmup: float
) -> dict[str, Any]:
    base = baseline_rps(url, seconds, connections, warmup)
    log(f"  baseline: {base.rps:,.0f} req/s, statuses {base.statuses}")
    mix, full = write_mix_rps(server, seconds, connections, warmup)
    log(f"  docket: {full.rps:,.0f} req/s, statuses {full.statuses}")
    # filings and replies each against the bare endpoint, at 16 connections (wrk if any)
    floor = per_request.measure(
        url, server, seconds=seconds, rounds=1 if seconds < 2 else 3, log=log
    )
    # the closed loop outruns the views: let them catch up, or the 70 % run would share the
    # machine with a backlog instead of with its own writes' projection
    wait_caught_up(url, server.schema, timeout=600)
    load = 0.7 * full.rps
    held = open_loop(server.base_url, mix.next, rate=load, seconds=seconds, seen=mix.seen)
    log(f"  docket at {load:,.0f} req/s: statuses {held.statuses}")
    return {
        "baseline_rps": round(base.rps, 1),
        "docket_rps": round(full.rps, 1),
        "load_rps": round(load, 1),
        "p50_ms": round(percentile(held.latencies_ms, 0.5), 2),
        "p99_ms": round(percentile(held.latencies_ms, 0.99), 2),
        "max_ms": round(max(held.latencies_ms), 2),
        "closed_loop_p50_ms": round(percentile(full.latencies_ms, 0.5), 2),
        "connections": connections,
        "seconds": seconds,
        "baseline_statuses": base.statuses,
        "docket_statuses": full.statuses,
        "load_statuses": held.statuses,
        "per_request": floor,
    }


def http_threads_phase(
    url: str, seconds: float, connections: int, warmup: float
) -> dict[str, Any]:
    """Docket's rps again with the views in threads of the API process (the layout before
    ``docket serve`` gave them a child process), to show what sharing one interpreter costs."""
    with docket_server(url, DOCKET_PROJECTIONS_PROCESS="false") as s:
        _, full = write_mix_rps(s, seconds, connections, warmup)
    log(f"  docket, projections in threads of the API: {full.rps:,.0f} req/s {full.statuses}")
    return {"docket_rps_projections_in_threads": round(full.rps, 1)}


# -- 3. lag ------------------------------------------------------------------------------


def lag_phase(url: str, server: Server, rate: float, seconds: float) -> dict[str, Any]:
    mix = WriteMix(server)
    _, answers = sequential(server.base_url, [mix.next(0) for _ in range(20)])
    for answer in answers:
        mix.seen(Request("POST", "/v1/tickets"), answer)
    mix.positions.clear()
    wait_caught_up(url, server.schema, timeout=600)
    watcher = Watcher(url, server.schema, pause=0.0005)
    watcher.start()
    try:
        held = open_loop(server.base_url, mix.next, rate=rate, seconds=seconds, seen=mix.seen)
        deadline = time.monotonic() + 30
        while (
            not watcher.samples or watcher.samples[-1][2] < max(mix.positions)
        ) and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        watcher.stop.set()
        watcher.join()
    samples = list(watcher.samples)
    times = [t for t, _, _ in samples]
    heads = [head for _, head, _ in samples]
    views = [view for _, _, view in samples]
    lags = []
    for position in mix.positions:
        i, j = bisect.bisect_left(heads, position), bisect.bisect_left(views, position)
        if i < len(samples) and j < len(samples):
            lags.append((times[j] - times[i]) * 1000)
    polls = [b - a for a, b in itertools.pairwise(times)]
    return {
        "rate": round(held.rps, 1),
        "target_rate": rate,
        "writes": len(mix.positions),
        "measured": len(lags),
        "p50_ms": round(percentile(lags, 0.5), 2),
        "p99_ms": round(percentile(lags, 0.99), 2),
        "max_ms": round(max(lags), 2) if lags else 0.0,
        "poll_ms": round(percentile(polls, 0.5) * 1000, 3),
        "write_p99_ms": round(percentile(held.latencies_ms, 0.99), 2),
        "statuses": held.statuses,
    }


# -- 4. reads ----------------------------------------------------------------------------


def read_requests(server: Server, tickets: int, n: int) -> dict[str, list[Request]]:
    agent, analyst = str(server.tokens["agent"]), str(server.tokens["analyst"])
    pick = random.Random(11)
    lists = ["/v1/inbox", "/v1/inbox?sort=last_activity", "/v1/tickets?sort=created"]
    filters = [
        "/v1/inbox?status=open&priority=urgent",
        "/v1/inbox?product=Dash&type=bug",
        "/v1/inbox?q=share",
        "/v1/inbox?created=2024-01-01..2024-01-31",
        "/v1/inbox?status=pending&assignee=none&sort=last_activity",
    ]
    dashboards = [
        "/v1/dashboard/summary",
        "/v1/dashboard/top-issues?limit=10",
        "/v1/dashboard/volume?bucket=week",
        "/v1/dashboard/times?group_by=priority",
    ]
    first, last = FIRST_NUMBER + 1, FIRST_NUMBER + max(tickets - 1, 1)
    return {
        "inbox": [Request("GET", lists[i % len(lists)], agent) for i in range(n)],
        "filter": [Request("GET", filters[i % len(filters)], agent) for i in range(n)],
        "detail": [
            Request("GET", f"/v1/tickets/T-{pick.randint(first, last)}", agent) for _ in range(n)
        ],
        "dashboard": [Request("GET", dashboards[i % len(dashboards)], analyst) for i in range(n)],
    }


def reads_at(server: Server, tickets: int, requests: int) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for kind, batch in read_requests(server, tickets, requests).items():
        sequential(server.base_url, batch[: max(5, len(batch) // 10)])  # warm up
        took, answers = sequential(server.base_url, batch)
        for request, answer in zip(batch, answers, strict=True):
            if answer.status != 200:
                raise RuntimeError(f"{request.path}: {answer.status} {answer.body[:300]!r}")
        result[f"{kind}_p50_ms"] = round(percentile(took, 0.5), 2)
        result[f"{kind}_p99_ms"] = round(percentile(took, 0.99), 2)
        if kind != "detail":
            by_path: dict[str, list[float]] = {}
            for request, ms in zip(batch, took, strict=True):
                by_path.setdefault(request.path, []).append(ms)
            result[f"{kind}_p99_ms_by_query"] = {
                path: round(percentile(values, 0.99), 2) for path, values in by_path.items()
            }
    return result


def count_tickets(url: str, schema: str) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute(
            f'SELECT count(*) FROM "{schema}".docket_events WHERE topic LIKE %s',
            ("%Ticket.Opened",),
        ).fetchone()
    return int(row[0]) if row else 0


def reads_phase(url: str, server: Server, tickets: int, requests: int) -> dict[str, Any]:
    steps: list[dict[str, Any]] = []
    added = 0
    for share in (0.25, 0.5, 1.0):
        upto = max(1, int(tickets * share))
        began = time.perf_counter()
        events = add_tickets(url, server.schema, added, upto - added)
        wrote = time.perf_counter() - began
        caught = wait_caught_up(url, server.schema, timeout=1800)
        added = upto
        in_views = count_tickets(url, server.schema)
        step: dict[str, Any] = {
            "tickets": in_views,
            "events_added": events,
            "copy_s": round(wrote, 1),
            "catch_up_s": round(caught, 1),
            "catch_up_eps": round(events / caught) if caught else 0,
        }
        step.update(reads_at(server, added, requests))
        step["api_rss_mb"] = rss_mb(server.pid)
        steps.append(step)
        log(f"  reads at {in_views:,} tickets: {step}")
    last = steps[-1]
    return {
        "tickets": last["tickets"],
        "requests": requests,
        **{k: v for k, v in last.items() if k.endswith(("_ms", "_by_query"))},
        "measured_as": "round trip, one request at a time on a keep-alive loopback connection",
        "by_size": steps,
    }


# -- 5. rebuild --------------------------------------------------------------------------


def rebuild_phase(url: str, schema: str, batch: int) -> dict[str, Any]:
    from projections.catalog import VIEWS
    from replay.rebuild import rebuild

    events, raw_eps = raw_rate(url, schema, batch)
    log(f"  raw read + decode: {events:,} events at {raw_eps:,.0f} events/s")
    report = rebuild(url, schema, list(VIEWS.values()), batch_size=batch)
    return {
        "events": report.events,
        "raw_eps": round(raw_eps),
        "rebuild_eps": round(report.rate),
        "rebuild_s": round(report.seconds, 1),
        "views": report.views,
    }


# -- 6. times ----------------------------------------------------------------------------


def times_phase(url: str, tickets: int, requests: int) -> dict[str, Any]:
    with desk_schema_on(url, times_bench.SCHEMA):
        return times_bench.run(url, tickets, requests)


# -- the run -----------------------------------------------------------------------------

QUICK = {"tickets": 400, "seconds": 1.0, "lag_rate": 100.0, "lag_seconds": 2.0, "requests": 30,
         "times_tickets": 400}  # fmt: skip
DEFAULT = {
    "tickets": 20_000,
    "times_tickets": 20_000,
    "seconds": 4.0,
    "lag_rate": 300.0,
    "lag_seconds": 10.0,
    "requests": 300,
}


def run(args: argparse.Namespace) -> dict[str, Any]:
    sizes = QUICK if args.quick else DEFAULT
    tickets = args.tickets or int(sizes["tickets"])
    seconds = args.seconds or sizes["seconds"]
    lag_rate = args.lag_rate or sizes["lag_rate"]
    lag_seconds = args.lag_seconds or sizes["lag_seconds"]
    requests = args.requests or int(sizes["requests"])
    times_tickets = args.times_tickets or int(sizes["times_tickets"])
    custom = any(
        (args.tickets, args.seconds, args.lag_rate, args.lag_seconds, args.requests,
         args.times_tickets)
    )  # fmt: skip
    results: dict[str, Any] = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "mode": "quick" if args.quick else "custom" if custom else "default",
        "parameters": {
            "tickets": tickets,
            "seconds": seconds,
            "lag_rate": lag_rate,
            "lag_seconds": lag_seconds,
            "requests": requests,
            "times_tickets": times_tickets,
            "connections": args.connections,
        },
        "phase_seconds": {},
    }

    def phase(name: str, work: Callable[[], dict[str, Any]]) -> None:
        log(f"{name} ...")
        began = time.perf_counter()
        results[name] = work()
        results["phase_seconds"][name] = round(time.perf_counter() - began, 1)

    warmup = min(1.0, seconds / 4)
    with embedded_database() as url:
        results["machine"] = machine(url)
        phase("append", lambda: append_phase(url, seconds))
        with docket_server(url) as server:
            phase("http", lambda: http_phase(url, server, seconds, args.connections, warmup))
            phase("lag", lambda: lag_phase(url, server, lag_rate, lag_seconds))
            phase("reads", lambda: reads_phase(url, server, tickets, requests))
            results["memory"] = {"api_rss_mb": rss_mb(server.pid), "after": "reads"}
            phase("rebuild", lambda: rebuild_phase(url, server.schema, args.batch))
        if not args.quick:
            phase(
                "http_threads", lambda: http_threads_phase(url, seconds, args.connections, warmup)
            )
            results["http"].update(results.pop("http_threads"))
        replies, events, rounds = (20, 50, 2) if args.quick else (200, 500, 10)
        phase("reply_cost", lambda: reply_cost_run(url, replies, events, rounds))
        phase("times", lambda: times_phase(url, times_tickets, requests))
    results["targets"] = targets(results)
    return results


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench", description=(__doc__ or "").splitlines()[0]
    )
    parser.add_argument("--quick", action="store_true", help="a smoke run of under a minute")
    parser.add_argument("--tickets", type=int, help="tickets added to the views (20,000)")
    parser.add_argument("--seconds", type=float, help="seconds per append/HTTP measurement")
    parser.add_argument("--lag-rate", type=float, help="writes/s for the lag phase (300)")
    parser.add_argument("--lag-seconds", type=float, help="seconds of the lag phase")
    parser.add_argument("--requests", type=int, help="requests per read kind and size step")
    parser.add_argument(
        "--times-tickets", type=int, help="tickets for the times dashboard phase (20,000)"
    )
    parser.add_argument("--connections", type=int, default=32, help="HTTP clients (32)")
    parser.add_argument("--batch", type=int, default=5000, help="events per rebuild batch")
    parser.add_argument("--out", type=Path, default=HERE, help="folder for results.json/.png")
    args = parser.parse_args(argv)
    began = time.perf_counter()
    results = run(args)
    results["total_seconds"] = round(time.perf_counter() - began, 1)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    chart(results, args.out / "results.png")
    print(table(results))
    print(f"\n{results['total_seconds']} s; wrote {args.out / 'results.json'} and results.png")


if __name__ == "__main__":
    main()
