"""Projection lag: from commit to visible in the inbox view, while writing at a steady rate.

Usage: ``python -m bench.lag [--rate 50] [--seconds 20] [--out FILE]``

Starts its own embedded PostgreSQL (or uses ``DOCKET_DATABASE_URL``) and a real
``docket serve`` with its background projection runner. Writers file tickets
and reply over HTTP on a fixed schedule (open loop: a slow answer does not slow
the schedule). A watcher polls, on one connection, the log's head and the inbox
view's tracking position as fast as it can; a write's lag is the time from the
first poll that saw its position in the log to the first poll that saw the
inbox at or past it. Both instants come from the same clock and the same poll
loop, so the figure is independent of HTTP latency; its resolution is one poll
(reported as ``poll_ms``).
"""

from __future__ import annotations

import argparse
import json
import statistics
import threading
import time
from pathlib import Path
from typing import Any

import psycopg

from bench.harness import Server, docket_server, embedded_database


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


class Watcher(threading.Thread):
    """Polls (log head, inbox position) and remembers when each was first seen."""

    def __init__(self, url: str, schema: str, pause: float = 0.0) -> None:
        super().__init__(daemon=True)
        self.url = url
        self.schema = schema
        self.pause = pause
        """Seconds between polls: 0 spins (finest), more leaves the CPU to the server."""
        self.stop = threading.Event()
        self.samples: list[tuple[float, int, int]] = []

    def run(self) -> None:
        schema = self.schema
        query = (
            f'SELECT (SELECT coalesce(max(notification_id), 0) FROM "{schema}".docket_events), '
            f'(SELECT position FROM "{schema}".projection_tracking WHERE view = %s)'
        )
        with psycopg.connect(self.url, autocommit=True) as conn:
            while not self.stop.is_set():
                row = conn.execute(query, ("inbox",), prepare=True).fetchone()
                assert row is not None
                self.samples.append((time.perf_counter(), int(row[0]), int(row[1] or 0)))
                if self.pause:
                    time.sleep(self.pause)

    def first_seen(self, position: int) -> tuple[float | None, float | None]:
        in_log = next((t for t, head, _ in self.samples if head >= position), None)
        in_view = next((t for t, _, view in self.samples if view >= position), None)
        return in_log, in_view


def write_steadily(server: Server, rate: float, seconds: float, writers: int = 8) -> list[int]:
    """File and reply at ``rate`` writes/s for ``seconds``; the positions answered."""
    total = int(rate * seconds)
    start = time.perf_counter() + 0.5
    positions: list[int] = []
    lock = threading.Lock()
    tickets: list[str] = []

    def work(k: int) -> None:
        with server.client("requester") as customer, server.client("agent") as agent:
            for i in range(k, total, writers):
                delay = start + i / rate - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)
                if i % 3 == 0 or not tickets:
                    answer = customer.post(
                        "/v1/tickets",
                        json={"subject": f"Lag {i}", "description": "Measuring", "type": "bug"},
                    )
                    if answer.status_code == 201:
                        tickets.append(answer.json()["number"])
                else:
                    number = tickets[i % len(tickets)]
                    answer = agent.post(f"/v1/tickets/{number}/messages", json={"body": f"r{i}"})
                if answer.status_code in (200, 201):
                    with lock:
                        positions.append(answer.json()["position"])

    threads = [threading.Thread(target=work, args=(k,)) for k in range(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return positions


def measure(url: str, rate: float, seconds: float) -> dict[str, Any]:
    with docket_server(url) as server:
        watcher = Watcher(url, server.schema)
        watcher.start()
        began = time.perf_counter()
        positions = write_steadily(server, rate, seconds)
        elapsed = time.perf_counter() - began
        deadline = time.monotonic() + 30
        while watcher.samples[-1][2] < max(positions) and time.monotonic() < deadline:
            time.sleep(0.05)
        watcher.stop.set()
        watcher.join()
    lags = []
    for position in positions:
        in_log, in_view = watcher.first_seen(position)
        if in_log is not None and in_view is not None:
            lags.append((in_view - in_log) * 1000)
    polls = [b[0] - a[0] for a, b in zip(watcher.samples, watcher.samples[1:], strict=False)]
    return {
        "rate": round(len(positions) / elapsed, 1),
        "target_rate": rate,
        "writes": len(positions),
        "measured": len(lags),
        "p50_ms": round(percentile(lags, 0.50), 2),
        "p99_ms": round(percentile(lags, 0.99), 2),
        "max_ms": round(max(lags), 2),
        "poll_ms": round(statistics.median(polls) * 1000, 3),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=50.0, help="writes per second")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--out", type=Path, default=None, help="write the figures as JSON")
    args = parser.parse_args(argv)
    with embedded_database() as url:
        result = measure(url, args.rate, args.seconds)
    print(
        f"lag at {result['rate']} writes/s ({result['writes']} writes): "
        f"p50 {result['p50_ms']} ms, p99 {result['p99_ms']} ms, max {result['max_ms']} ms "
        f"(poll every {result['poll_ms']} ms)"
    )
    if args.out:
        args.out.write_text(json.dumps({"lag": result}, indent=2))


if __name__ == "__main__":
    main()
