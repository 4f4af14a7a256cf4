"""Rebuild rate: every view from position 0, beside the raw rate of reading and decoding.

Usage: ``python -m bench.rebuild [--events 1000000] [--processes N] [--one-process]
[--out FILE] [--results bench/results.json]``

Starts its own embedded PostgreSQL (or uses ``DOCKET_DATABASE_URL``), writes
about ``--events`` events straight into the store with COPY (tickets of ten
events each, made by the real aggregates, so every event is chained and
decodes exactly as live ones do), then measures in the same run:

* ``raw_eps``: read the log in batches of 5,000 and decode every event;
* ``rebuild_eps``: ``replay rebuild`` of every view (shadow tables, swap), its bulk
  spread over ``--processes`` processes (default: as ``docket replay rebuild`` chooses);
* with ``--one-process``, first ``one_process_eps``: the same rebuild folded in one
  process, as every rebuild was before the views were spread over processes.

``--reuse`` measures over the log an earlier run left in ``DOCKET_DATABASE_URL``
(writing none, dropping nothing). ``--out`` writes the figures to a file of their
own; ``--results`` puts them in ``bench/results.json`` as its ``rebuild`` entry,
leaving the other phases' figures.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg

from bench.harness import desk_schema
from bench.report import record_rebuild
from domain.account import Account
from domain.numbers import TicketNumber, format_number
from domain.stamp import Stamp
from domain.ticket import Ticket
from projections.audit_feed import EVERY_EVENT
from projections.catalog import VIEWS
from replay.rebuild import Progress, RebuildReport, rebuild
from store.eventstore import docket_mapper
from store.log import read_facts

T0 = datetime(2024, 1, 1, tzinfo=UTC)


def ticket_events(n: int, account_id: str, at: datetime) -> list[Any]:
    """One worked ticket: filed, six replies, a note, pending, open again, closed."""
    customer = Stamp(f"member-{n % 500}", "requester", "web", at)
    ticket = Ticket.file(
        ticket_id=uuid.uuid4(), number=format_number(n), subject=f"Sync fails on device {n}",
        description="Files stop syncing after an hour on the laptop.", type="bug",
        priority=("low", "normal", "high", "urgent")[n % 4], product=("Files", "Dash")[n % 2],
        topic="sync", channel="web", requester_id=customer.actor_id, account_id=account_id,
        stamp=customer,
    )  # fmt: skip
    for i in range(6):
        when = at + timedelta(minutes=10 * (i + 1))
        if i % 2 == 0:
            agent = Stamp("agent-1", "agent", "web", when)
            body = f"Could you try again? ({i})"
            ticket.add_message(
                author_id="agent-1", author_role="agent", body=body, attachments=[], stamp=agent
            )
        else:
            stamp = Stamp(customer.actor_id, "requester", "email", when)
            ticket.add_message(
                author_id=customer.actor_id,
                author_role="requester",
                body=f"Still failing ({i})",
                attachments=[],
                stamp=stamp,
            )
    agent = Stamp("agent-1", "agent", "web", at + timedelta(hours=2))
    ticket.add_internal_note(author_id="agent-1", body="Known sync bug", stamp=agent)
    ticket.change_status(to_status="closed", stamp=agent)
    claim = TicketNumber.claim(number=ticket.number, ticket_id=ticket.id, stamp=customer)
    return [*ticket.collect_events(), *claim.collect_events()]


def fill(url: str, schema: str, events: int) -> int:
    mapper = docket_mapper()
    system = Stamp("bench", "system", "api", T0)
    accounts = [
        Account.open(
            account_id=uuid.uuid4(),
            name=f"Account {i}",
            plan="business",
            support_tier="standard",
            stamp=system,
        )
        for i in range(20)
    ]
    written = 0
    n = 0
    with psycopg.connect(url) as conn:
        with conn.cursor().copy(
            f'COPY "{schema}".docket_events (originator_id, originator_version, topic, state) '
            "FROM STDIN"
        ) as copy:
            for account in accounts:
                for e in account.collect_events():
                    s = mapper.to_stored_event(e)
                    copy.write_row((s.originator_id, s.originator_version, s.topic, s.state))
                    written += 1
            while written < events:
                n += 1
                account = accounts[n % len(accounts)]
                for e in ticket_events(n, str(account.id), T0 + timedelta(minutes=n)):
                    s = mapper.to_stored_event(e)
                    copy.write_row((s.originator_id, s.originator_version, s.topic, s.state))
                    written += 1
                if n % 10_000 == 0:
                    print(f"\r  written {written:,} events", end="", file=sys.stderr, flush=True)
        conn.commit()
    print(file=sys.stderr)
    return written


def raw_rate(url: str, schema: str, batch: int = 5000) -> tuple[int, float]:
    """Read and decode every event, the way the runner does, without projecting."""
    mapper = docket_mapper()
    count, position = 0, 0
    began = time.perf_counter()
    with psycopg.connect(url, autocommit=True) as conn:
        while True:
            read, position, _ = read_facts(conn, schema, position, batch, mapper, EVERY_EVENT)
            if not read:
                break
            count += read
    return count, count / (time.perf_counter() - began)


@contextmanager
def reused(schema: str) -> Iterator[str]:
    """``DOCKET_DATABASE_URL``, whose ``schema`` holds the log an earlier run wrote (kept)."""
    url = os.environ["DOCKET_DATABASE_URL"]
    with psycopg.connect(url) as conn:
        found = conn.execute(f'SELECT count(*) FROM "{schema}".docket_events').fetchone()
    print(f"reusing the {found[0] if found else 0:,} events of {schema}", flush=True)
    yield url


def timed_rebuild(url: str, schema: str, batch: int, processes: int | None) -> RebuildReport:
    def show(p: Progress) -> None:
        print(f"\r  rebuild: {p.position:,}/{p.head:,}  {p.rate:,.0f} events/s",
              end="", file=sys.stderr, flush=True)  # fmt: skip

    report = rebuild(url, schema, list(VIEWS.values()), batch_size=batch, progress=show,
                     processes=processes)  # fmt: skip
    print(file=sys.stderr)
    how = "in one process" if processes == 1 else f"over {processes or 'the default'} processes"
    print(
        f"rebuild of {len(report.views)} views {how}: {report.events:,} events in "
        f"{report.seconds:.0f} s at {report.rate:,.0f} events/s",
        flush=True,
    )
    return report


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=5000)
    parser.add_argument("--processes", type=int, default=None)
    parser.add_argument("--one-process", action="store_true")
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--results", type=Path, default=None)
    parser.add_argument("--reuse", action="store_true")
    args = parser.parse_args(argv)
    schema = "bench_rebuild"
    with reused(schema) if args.reuse else desk_schema(schema) as url:
        if not args.reuse:
            began = time.perf_counter()
            written = fill(url, schema, args.events)
            print(f"wrote {written:,} events in {time.perf_counter() - began:.0f} s", flush=True)
        events, raw_eps = raw_rate(url, schema, args.batch)
        print(f"raw read + decode: {events:,} events at {raw_eps:,.0f} events/s", flush=True)
        result: dict[str, Any] = {"events": events, "raw_eps": round(raw_eps)}
        if args.one_process:
            one = timed_rebuild(url, schema, args.batch, 1)
            result["one_process_eps"] = round(one.rate)
            result["one_process_over_raw"] = round(one.rate / raw_eps, 3)
        report = timed_rebuild(url, schema, args.batch, args.processes)
        result.update(
            events=report.events,
            rebuild_eps=round(report.rate),
            rebuild_s=round(report.seconds, 1),
            rebuild_over_raw=round(report.rate / raw_eps, 3),
            processes=args.processes or "default",
            cpus=os.cpu_count(),
            views=report.views,
            when=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
            command="python -m bench.rebuild " + " ".join(argv or sys.argv[1:]),
        )
        print(f"rebuild / raw = {result['rebuild_over_raw']:.2f}", flush=True)
    if args.out:
        args.out.write_text(json.dumps({"rebuild": result}, indent=2) + "\n")
    if args.results:
        recorded = json.loads(args.results.read_text()) if args.results.exists() else {}
        record_rebuild(recorded, result)
        args.results.write_text(json.dumps(recorded, indent=2) + "\n")


if __name__ == "__main__":
    main()
