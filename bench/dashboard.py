"""Full imports of both data sets, then the latency of every dashboard.

Usage: ``python -m bench.dashboard [--requests 200] [--data ../shared/data] [--out FILE]``

Starts its own embedded PostgreSQL (or uses ``DOCKET_DATABASE_URL``) and a real
``docket serve``; runs ``docket import incident-log`` and ``docket import
tickets-csv`` against the server's schema (the importers print their own
events/s); waits until the dashboard view has caught up; then sends each
dashboard query ``--requests`` times and reports p50/p99 of the round trip.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench.harness import Server, bench_options, docket_server, embedded_database, write_figures
from bench.lag import percentile

QUERIES: dict[str, dict[str, str | int]] = {
    "summary": {},
    "top-issues": {"limit": 10},
    "top-products": {"topic": "Category 26", "limit": 10},
    "volume": {"bucket": "week"},
    "times": {"group_by": "priority"},
    "satisfaction": {"group_by": "product"},
    "summary (filtered)": {"channel": "phone", "from": "2016-03-01", "to": "2016-03-31"},
}


def run_import(server: Server, kind: str, path: Path) -> str:
    began = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "api.cli", "import", kind, str(path)],
        env=server.env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    summary = done.stdout.strip().splitlines()[0]
    print(f"{kind}: {summary} [{time.perf_counter() - began:.0f} s wall]", flush=True)
    return summary


def caught_up(server: Server) -> None:
    with server.client() as c:
        while True:
            health = c.get("/healthz").json()
            if health["projections"]["dashboard"]["lag"] == 0:
                return
            time.sleep(1)


def measure(url: str, data: Path, requests: int) -> dict[str, Any]:
    results: dict[str, Any] = {}
    with docket_server(url) as server:
        results["incident_log"] = run_import(
            server, "incident-log", data / "incident_event_log.csv.gz"
        )
        results["tickets_csv"] = run_import(
            server, "tickets-csv", data / "customer_support_tickets.csv.gz"
        )
        caught_up(server)
        with server.client("analyst") as analyst:
            for name, params in QUERIES.items():
                path = "/v1/dashboard/" + name.split(" ")[0]
                took = []
                for _ in range(requests):
                    began = time.perf_counter()
                    answer = analyst.get(path, params=params)
                    took.append((time.perf_counter() - began) * 1000)
                    assert answer.status_code == 200, answer.text
                results[name] = {
                    "p50_ms": round(percentile(took, 0.5), 2),
                    "p99_ms": round(percentile(took, 0.99), 2),
                }
                figures = results[name]
                print(
                    f"{name:<20} p50 {figures['p50_ms']:>7} ms  p99 {figures['p99_ms']:>7} ms",
                    flush=True,
                )
    return results


def main(argv: list[str] | None = None) -> None:
    data = Path(__file__).parent.parent.parent / "shared" / "data"
    args = bench_options(__doc__, argv, requests=200, data=data)
    with embedded_database() as url:
        results = measure(url, args.data, args.requests)
    write_figures(args.out, {"dashboard": results})


if __name__ == "__main__":
    main()
