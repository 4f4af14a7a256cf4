"""What checking the bearer token on every request costs: ``python -m bench.tokens``.

Usage: ``python -m bench.tokens [--seconds S] [--connections N] [KEY=VALUE …]``: a real
``docket serve`` (its own embedded PostgreSQL, or ``DOCKET_DATABASE_URL``) with the
settings given as ``DOCKET_KEY=VALUE``, then ``GET /v1/me`` in a closed loop (the
cheapest authenticated request, so the token check is as large a share of it as it can
be). Prints requests/s and p50/p99 in milliseconds as JSON.
"""

from __future__ import annotations

import argparse
import json
import sys

from bench.harness import docket_server, embedded_database
from bench.load import Request, closed_loop, percentile


def measure(seconds: float, connections: int, settings: dict[str, str]) -> dict[str, float]:
    with (
        embedded_database() as url,
        docket_server(url, schema=None, seed=True, **settings) as server,
    ):
        me = Request("GET", "/v1/me", server.tokens["agent"])
        closed_loop(server.base_url, lambda i: me, connections=connections, seconds=2)  # warm
        tally = closed_loop(
            server.base_url, lambda i: me, connections=connections, seconds=seconds
        )
    return {
        "rps": round(tally.rps, 1),
        "p50_ms": round(percentile(tally.latencies_ms, 0.5), 2),
        "p99_ms": round(percentile(tally.latencies_ms, 0.99), 2),
        "non_2xx": float(tally.count - tally.ok),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.tokens")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("settings", nargs="*", metavar="KEY=VALUE")
    args = parser.parse_args(argv)
    settings = dict(s.split("=", 1) for s in args.settings)
    settings = {
        ("DOCKET_" + k.upper()).replace("DOCKET_DOCKET_", "DOCKET_"): v
        for k, v in settings.items()
    }
    print(json.dumps({"settings": settings, **measure(args.seconds, args.connections, settings)}))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
