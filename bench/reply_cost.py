"""What a reply costs on a long ticket against a short one, with the ticket cache and without.

Usage: ``python -m bench.reply_cost [--replies N] [--events E] [--rounds R] [--into FILE]``

Files tickets of 5 events and of ``E`` events (500) on an embedded PostgreSQL (every
view's tables made and caught up, so the log seal's heads are there to check, as on a live
desk), then times replies in this process with :func:`time.process_time` (the desk's
CPU: deciding, proving, folding, encoding, the driver) on two desks over one store: one
keeping tickets folded (:mod:`desk.ticket_cache`), one with ``TICKET_CACHE_MAXSIZE=0``,
each on tickets of its own. The four cases take turns for ``R`` rounds, so all of them
see the same machine; every ticket gets one reply before the clock starts, as a ticket
being worked has had. The replies are spread over several tickets of each size so the
short ones stay short (a 5-event ticket ends at most ``5 + N / 20`` events long).

PostgreSQL's own CPU is reported beside it (the server processes' ``utime + stime`` from
``/proc``, over the same replies): with the cache it proves the versions before the new
ones unchanged by one digest over their stored bytes, which is work that still grows with
the history, on the server's side. Also reported: the first fold of an ``E``-event ticket
in a process (a cache miss: after a start, or once evicted).

``--into bench/results.json`` writes the figures as its ``reply_cost`` section (and the
target's row) into an existing results file; ``python -m bench`` runs this as a phase.
"""

from __future__ import annotations

import argparse
import json
import os
import time
import uuid
from pathlib import Path
from typing import Any
from uuid import UUID

import psycopg

from bench.harness import embedded_database
from bench.report import reply_line, reply_target
from desk.service import SupportDesk
from projections.catalog import VIEWS
from projections.runner import ProjectionRunner
from store.database import eventsourcing_env
from tests.builders import agent, desk_with_account, file, later

SMALL_EVENTS = 5
SMALL_TICKETS = 20
LARGE_TICKETS = 2
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def server_cpu(monitor: psycopg.Connection[Any]) -> float:
    """CPU seconds used so far by every PostgreSQL process the server lists but ``monitor``'s."""
    pids = [
        int(r[0])
        for r in monitor.execute(
            "SELECT pid FROM pg_stat_activity WHERE pid <> pg_backend_pid()"
        ).fetchall()
    ]
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # ended meanwhile, or not on this machine
            continue
        total += int(fields[11]) + int(fields[12])
    return total / CLOCK_TICKS


def reply(desk: SupportDesk, ticket: UUID, i: int) -> None:
    desk.add_message(ticket, author_id="agent-1", author_role="agent", body=f"reply {i}",
                     stamp=agent(later(days=30)))  # fmt: skip


def grow(desk: SupportDesk, account: UUID, events: int, count: int) -> list[UUID]:
    tickets = [file(desk, account).ticket_id for _ in range(count)]
    for t in tickets:
        for n in range(events - 1):
            desk.add_message(t, author_id="agent-1", author_role="agent", body=f"warm-up {n}",
                             stamp=agent(later(hours=n / 10)))  # fmt: skip
    return tickets


def run(url: str, replies: int, events: int, rounds: int) -> dict[str, Any]:
    """The figures, on a schema of its own in the PostgreSQL at ``url``."""
    schema = "bench_" + uuid.uuid4().hex[:8]
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    env = eventsourcing_env(url, schema)
    desks = {
        "cached": SupportDesk(env),
        "uncached": SupportDesk({**env, "TICKET_CACHE_MAXSIZE": "0"}),
    }
    runner = ProjectionRunner(url, schema, VIEWS.values())
    runner.create_tables()
    account = desk_with_account(desks["cached"])
    tickets: dict[tuple[str, str], list[UUID]] = {}
    for name in desks:
        tickets[name, "small"] = grow(desks["cached"], account, SMALL_EVENTS, SMALL_TICKETS)
        tickets[name, "large"] = grow(desks["cached"], account, events, LARGE_TICKETS)
    runner.catch_up()  # every head recorded, as a live desk has them
    cold_desk = SupportDesk(env)
    began = time.process_time()
    cold_desk.ticket_facts(tickets["uncached", "large"][0])
    cold_ms = (time.process_time() - began) * 1000
    cold_desk.close()
    for (name, _), ts in tickets.items():
        for t in ts:
            reply(desks[name], t, 0)
    cpu = dict.fromkeys(tickets, 0.0)
    server = dict.fromkeys(tickets, 0.0)
    done = dict.fromkeys(tickets, 0)
    per_round = max(1, replies // rounds)
    monitor = psycopg.connect(url, autocommit=True)
    for r in range(rounds):
        for key, ts in tickets.items():
            desk = desks[key[0]]
            server_before, began = server_cpu(monitor), time.process_time()
            for i in range(per_round):
                reply(desk, ts[i % len(ts)], r * per_round + i + 1)
            cpu[key] += time.process_time() - began
            server[key] += server_cpu(monitor) - server_before
            done[key] += per_round
    monitor.close()
    hits = desks["cached"].ticket_cache.hits
    for desk in desks.values():
        desk.close()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
    ms = {f"{n}_{size}": cpu[n, size] / done[n, size] * 1000 for n, size in tickets}
    pg = {f"{n}_{size}": server[n, size] / done[n, size] * 1000 for n, size in tickets}
    return {
        "small_events": SMALL_EVENTS,
        "large_events": events,
        "replies_each": done["cached", "small"],
        "rounds": rounds,
        "cpu_ms_per_reply": {k: round(v, 3) for k, v in ms.items()},
        "ratio_large_over_small_cached": round(ms["cached_large"] / ms["cached_small"], 3),
        "ratio_large_over_small_uncached": round(ms["uncached_large"] / ms["uncached_small"], 3),
        "postgres_cpu_ms_per_reply": {k: round(v, 3) for k, v in pg.items()},
        "cold_first_fold_ms_large": round(cold_ms, 2),
        "cache_hits": hits,
    }


def into(path: Path, section: dict[str, Any]) -> None:
    """Write ``section`` into an existing results file, replacing its earlier figures."""
    results = json.loads(path.read_text())
    results["reply_cost"] = section
    rows = [t for t in results.get("targets", []) if not t["target"].startswith("reply CPU")]
    results["targets"] = [*rows, reply_target(section)]
    path.write_text(json.dumps(results, indent=2) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.reply_cost")
    parser.add_argument("--replies", type=int, default=200, help="timed replies per case")
    parser.add_argument("--events", type=int, default=500, help="events of the long tickets")
    parser.add_argument("--rounds", type=int, default=10, help="turns the four cases take")
    parser.add_argument("--into", type=Path, help="a results.json to write the figures into")
    args = parser.parse_args()
    with embedded_database() as url:
        section = run(url, args.replies, args.events, args.rounds)
    section["when"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    print(json.dumps(section, indent=2))
    print(reply_line(section))
    if args.into:
        into(args.into, section)


if __name__ == "__main__":
    main()
