"""Per-request cost against the framework's floor: filing a ticket and replying to one
over HTTP, each against the bare endpoint of ``bench.baseline_app`` (one INSERT on the same
uvicorn + FastAPI + psycopg stack), measured in the same run.

Usage: ``python -m bench.per_request [--seconds S] [--rounds N] [--connections C]
[--results bench/results.json]`` (its own embedded PostgreSQL and servers; ``--results``
writes the figures into a results file as ``http.per_request``); ``python -m bench`` runs
it in its ``http`` phase against the server it started.

The load is ``wrk -c16`` when wrk is installed (``apt-get install wrk``), else
``bench.load``'s closed loop on as many connections; ``tool`` in the results says which.
Each round runs the baseline, then filings (the requester, a fresh ticket each), then
replies (an agent, spread over 100 tickets filed first), ``seconds`` each, so the machine's
drift touches all three alike; the ratios are per round and the figure is their median.
Beside each rate, the CPU each server process spent per answered request (from
``/proc/<pid>/stat``; the Docket figure is its API process only, the views' process apart).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.harness import Server, baseline_server, docket_server, embedded_database
from bench.load import Request, closed_loop

CONNECTIONS = 16
FILING = {"subject": "Sync fails", "description": "Since this morning.", "type": "bug"}


def cpu_seconds(pid: int) -> float:
    """User + system CPU the process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Load:
    """``connections`` clients in a closed loop for ``seconds``: answered 2xx per second."""

    def __init__(self, folder: Path, connections: int) -> None:
        self.folder = folder
        self.connections = connections
        self.wrk = shutil.which("wrk")
        self.tool = f"wrk -c{connections}" if self.wrk else f"bench.load -c{connections}"

    def run(self, base: str, requests: list[Request], seconds: float) -> tuple[float, int]:
        """Requests/s answered 2xx, and how many were answered otherwise."""
        if self.wrk is None:
            tally = closed_loop(
                base,
                lambda i: requests[i % len(requests)],
                connections=self.connections,
                seconds=seconds,
            )
            return tally.rps, tally.count - tally.ok
        script = self.folder / f"{uuid.uuid4().hex}.lua"
        script.write_text(lua(requests))
        done = subprocess.run(
            [self.wrk, "-t2", f"-c{self.connections}", f"-d{max(1, round(seconds))}s",
             "-s", str(script), base],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        total = re.search(r"(\d+) requests in ([\d.]+)(m?s)", done.stdout)
        if total is None:
            raise RuntimeError(f"wrk said no figure:\n{done.stdout}{done.stderr}")
        took = float(total.group(2)) / (1000 if total.group(3) == "ms" else 1)
        refused = re.search(r"Non-2xx or 3xx responses: (\d+)", done.stdout)
        bad = int(refused.group(1)) if refused else 0
        errors = re.search(r"Socket errors: .*", done.stdout)
        if errors:
            bad += sum(int(n) for n in re.findall(r"\d+", errors.group(0)))
        return (int(total.group(1)) - bad) / took, bad


def lua(requests: list[Request]) -> str:
    """A wrk script that sends ``requests`` in turn (one method, body and token)."""
    first = requests[0]
    lines = [
        f'wrk.method = "{first.method}"',
        'wrk.headers["Content-Type"] = "application/json"',
        f"wrk.body = {json.dumps(json.dumps(first.body))}",
        "paths = {" + ",".join(json.dumps(r.path) for r in requests) + "}",
        "i = 0",
        "request = function() i = i % #paths + 1 return wrk.format(nil, paths[i]) end",
    ]
    if first.token:
        lines.insert(1, f'wrk.headers["Authorization"] = "Bearer {first.token}"')
    return "\n".join(lines) + "\n"


def measured(
    load: Load, base: str, requests: list[Request], seconds: float, pid: int
) -> dict[str, float]:
    began = cpu_seconds(pid)
    rps, bad = load.run(base, requests, seconds)
    spent = cpu_seconds(pid) - began
    return {"rps": rps, "refused": bad, "cpu_ms": 1000 * spent / max(1.0, rps * seconds)}


def measure(
    url: str,
    server: Server,
    *,
    seconds: float = 5.0,
    rounds: int = 3,
    connections: int = CONNECTIONS,
    log: Callable[[str], None] = print,
) -> dict[str, Any]:
    """The bare endpoint, filings and replies, ``rounds`` times in turn."""
    with server.client("requester") as requester:
        numbers = [
            requester.post("/v1/tickets", json={**FILING, "product": "Files"}).json()["number"]
            for _ in range(100)
        ]
    filing = [Request("POST", "/v1/tickets", str(server.tokens["requester"]),
                      {**FILING, "product": "Files"})]  # fmt: skip
    replies = [Request("POST", f"/v1/tickets/{n}/messages", str(server.tokens["agent"]),
                       {"body": "Which version of the app?"}) for n in numbers]  # fmt: skip
    bare = [Request("POST", "/filings", None, FILING)]
    runs: list[dict[str, dict[str, float]]] = []
    with tempfile.TemporaryDirectory() as folder, baseline_server(url) as (base, base_pid):
        load = Load(Path(folder), connections)
        load.run(base, bare, 1)  # warm both up
        load.run(server.base_url, filing, 1)
        for n in range(rounds):
            run = {
                "baseline": measured(load, base, bare, seconds, base_pid),
                "filing": measured(load, server.base_url, filing, seconds, server.pid),
                "reply": measured(load, server.base_url, replies, seconds, server.pid),
            }
            runs.append(run)
            log(
                f"  round {n + 1}: baseline {run['baseline']['rps']:,.0f} req/s, filing "
                f"{run['filing']['rps']:,.0f}, replies {run['reply']['rps']:,.0f} ({load.tool})"
            )

    def median(kind: str, key: str) -> float:
        return round(statistics.median(r[kind][key] for r in runs), 2)

    def ratio(kind: str) -> float:
        return round(statistics.median(r[kind]["rps"] / r["baseline"]["rps"] for r in runs), 3)

    return {
        "tool": load.tool,
        "rounds": rounds,
        "seconds": seconds,
        "baseline_rps": median("baseline", "rps"),
        "filing_rps": median("filing", "rps"),
        "reply_rps": median("reply", "rps"),
        "filing_ratio": ratio("filing"),
        "reply_ratio": ratio("reply"),
        "baseline_cpu_ms": median("baseline", "cpu_ms"),
        "filing_cpu_ms": median("filing", "cpu_ms"),
        "reply_cpu_ms": median("reply", "cpu_ms"),
        "refused": sum(int(r[k]["refused"]) for r in runs for k in r),
        "runs": [{k: {m: round(v, 2) for m, v in r[k].items()} for k in r} for r in runs],
    }


def record(results: Path, found: dict[str, Any]) -> None:
    """Write ``found`` into a ``python -m bench`` results file as ``http.per_request``, and
    judge its targets again."""
    from bench.report import targets

    data = json.loads(results.read_text())
    data.setdefault("http", {})["per_request"] = {
        **found,
        "recorded_at": time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime()),
    }
    data["targets"] = targets(data)
    results.write_text(json.dumps(data, indent=2) + "\n")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.per_request", description=__doc__)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=CONNECTIONS)
    parser.add_argument(
        "--results", type=Path, help="also write the figures into this results.json"
    )
    args = parser.parse_args(argv)
    with embedded_database() as url, docket_server(url) as server:
        found = measure(
            url, server, seconds=args.seconds, rounds=args.rounds, connections=args.connections
        )
    print(json.dumps(found, indent=2))
    if args.results:
        record(args.results, found)


if __name__ == "__main__":
    main()
