"""The pages' speed with 100,000 tickets in the views: ``python -m bench.pages``.

Usage: ``python -m bench.pages [--tickets N] [--requests N] [--out DIR]``.

Starts its own embedded PostgreSQL (or uses ``DOCKET_DATABASE_URL``) and a real
``docket serve`` seeded with the demo desk, writes ``--tickets`` tickets into its log
(``bench.data``: about five events each) and waits for every view to fold them, then
files a few dozen tickets of the demo requester's own through the API (so their pages
list something), signs each demo person in through a sign-in link as a browser would,
and asks every page ``--requests`` times, one request at a time on a keep-alive
connection, with the person's session cookie.

What it reports per page: p50 and p99 of the round trip in milliseconds (the server's
time and the loopback; an upper bound of the server's time), its status, and the bytes
of its HTML, raw and gzip-compressed. For the inbox page, the transfer size of
everything a first visit loads (the HTML, the stylesheet and the scripts). The figures
are merged into ``bench/results.json`` under ``pages`` (the other phases' figures stay).
The target, p99 ≤ 50 ms for every page, is judged in ``pages.targets``.
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from bench.data import add_tickets, wait_caught_up
from bench.harness import Server, docket_server, embedded_database, sign_in_link
from bench.load import percentile

HERE = Path(__file__).parent
TARGET_P99_MS = 50.0
ASSET = re.compile(r'(?:href|src)="(/static/[^"]+)"')


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def session_for(server: Server, person: str) -> httpx.Client:
    """A client holding ``person``'s session cookie, signed in through a link."""
    client = httpx.Client(base_url=server.base_url, timeout=30, headers={"Accept": "text/html"})
    signed = client.post(sign_in_link(server, person))
    assert signed.status_code == 303, signed.text
    return client


def own_tickets(server: Server, count: int) -> list[dict[str, Any]]:
    """Tickets of the demo requester's, each answered by an agent and noted internally."""
    made = []
    with server.client("requester") as requester, server.client("agent") as agent:
        for i in range(count):
            filed = requester.post(
                "/v1/tickets",
                json={
                    "subject": f"Sync stops at {i} percent",
                    "description": "The desktop client stops syncing halfway.",
                    "type": "bug",
                    "product": "Files",
                },
            )
            assert filed.status_code == 201, filed.text
            ticket = filed.json()
            agent.post(f"/v1/tickets/{ticket['id']}/messages", json={"body": "Which version?"})
            agent.post(f"/v1/tickets/{ticket['id']}/notes", json={"body": "Known issue."})
            made.append(ticket)
    return made


def pages(number: str) -> dict[str, list[tuple[str, str]]]:
    """Each demo person and the pages they are timed on."""
    return {
        "requester": [
            ("home", "/"),
            ("support home", "/support"),
            ("support, closed tab", "/support?tab=closed"),
            ("new ticket", "/support/new"),
            ("ticket page", f"/support/tickets/{number}"),
            ("settings", "/settings"),
            ("callback", "/support/callback"),
        ],
        "team_admin": [
            ("team tickets", "/support/team"),
            ("subscription", "/support/subscription"),
        ],
        "agent": [
            ("inbox", "/console"),
            ("console ticket page", f"/console/tickets/{number}"),
            ("contact-form queue", "/console/contact"),
        ],
        "analyst": [("dashboard", "/console/dashboard")],
        "auditor": [
            ("audit", "/console/audit"),
            ("ticket timeline", f"/console/audit/tickets/{number}"),
        ],
    }


def timed(client: httpx.Client, path: str, requests: int) -> dict[str, Any]:
    first = client.get(path)
    took = []
    for _ in range(requests):
        began = time.perf_counter()
        answer = client.get(path)
        took.append((time.perf_counter() - began) * 1000)
        answer.read()
    html = first.content
    return {
        "path": path,
        "status": first.status_code,
        "p50_ms": round(percentile(took, 0.5), 2),
        "p99_ms": round(percentile(took, 0.99), 2),
        "html_bytes": len(html),
        "html_gzip_bytes": len(gzip.compress(html)),
    }


def first_visit(client: httpx.Client, path: str) -> dict[str, int]:
    """What a first visit to ``path`` transfers: its HTML and every asset it names."""
    html = client.get(path).content
    assets = sorted(set(ASSET.findall(html.decode("utf-8", "replace"))))
    bodies = [client.get(asset).content for asset in assets]
    raw = len(html) + sum(len(b) for b in bodies)
    packed = len(gzip.compress(html)) + sum(len(gzip.compress(b)) for b in bodies)
    return {"assets": len(assets), "bytes": raw, "gzip_bytes": packed}


def run(tickets: int, requests: int) -> dict[str, Any]:
    began = time.perf_counter()
    with embedded_database() as url, docket_server(url) as server:
        schema = server.schema
        written = 0
        step = 25_000
        for first in range(0, tickets, step):
            written += add_tickets(url, schema, first, min(step, tickets - first))
            log(f"{min(first + step, tickets)} tickets written ({written} events)")
        log(f"views caught up in {wait_caught_up(url, schema, 3600):.1f} s")
        own = own_tickets(server, 30)
        wait_caught_up(url, schema, 600)
        number = own[-1]["number"]
        figures: dict[str, Any] = {}
        for person, timed_pages in pages(number).items():
            client = session_for(server, person)
            try:
                for name, path in timed_pages:
                    figures[name] = {"as": person, **timed(client, path, requests)}
                    log(f"{name}: {figures[name]}")
                if person == "agent":
                    inbox = first_visit(client, "/console")
            finally:
                client.close()
        slowest = max(figures.values(), key=lambda f: f["p99_ms"])
        return {
            "tickets": tickets,
            "events": written,
            "requests_per_page": requests,
            "pages": figures,
            "inbox_first_visit": inbox,
            "targets": {
                "every page p99 <= 50 ms": {
                    "met": all(
                        f["p99_ms"] <= TARGET_P99_MS and f["status"] == 200
                        for f in figures.values()
                    ),
                    "slowest": slowest["path"],
                    "slowest_p99_ms": slowest["p99_ms"],
                },
            },
            "seconds": round(time.perf_counter() - began, 1),
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--out", type=Path, default=HERE)
    args = parser.parse_args()
    result = run(args.tickets, args.requests)
    path = args.out / "results.json"
    kept = json.loads(path.read_text()) if path.exists() else {}
    kept["pages"] = result
    path.write_text(json.dumps(kept, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
