"""What proving a ticket whole costs a reply: with the check and without, in one run.

Usage: ``python -m bench.damage_check [--replies N] [--events E]``

Every change folds the ticket from its events; since the desk refuses to extend a
chain that does not verify, that fold also decodes each event once, hashes it,
links it to the one before, and reads the ticket's head from the log seal
(:meth:`desk.core.DeskCore._ticket`). This bench files tickets of ``E`` events
on an embedded PostgreSQL (with every view's tables, so the head is there to
read) and times ``N`` replies alternately with that fold and with the plain
repository fold it replaced, so both see the same tickets and the same machine.
"""

from __future__ import annotations

import argparse
import statistics
import time
import uuid
from typing import Any
from uuid import UUID

import psycopg

from bench.harness import embedded_database
from desk.service import SupportDesk
from domain.errors import UnknownTicket
from domain.ticket import Ticket
from projections.catalog import VIEWS
from projections.runner import ProjectionRunner
from store.database import eventsourcing_env
from tests.builders import agent, desk_with_account, file, later


def unchecked(desk: SupportDesk) -> Any:
    def fold(ticket_id: UUID) -> Ticket:
        return desk._get(Ticket, ticket_id, UnknownTicket(f"No ticket {ticket_id}."))

    return fold


def run(replies: int, events: int) -> dict[str, float]:
    with embedded_database() as url:
        schema = "bench_" + uuid.uuid4().hex[:8]
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f'CREATE SCHEMA "{schema}"')
        desk = SupportDesk(eventsourcing_env(url, schema))
        runner = ProjectionRunner(url, schema, VIEWS.values())
        runner.create_tables()
        account = desk_with_account(desk)
        tickets = [file(desk, account) for _ in range(2)]
        for t in tickets:
            for n in range(events - 1):
                desk.add_message(t.ticket_id, author_id="agent-1", author_role="agent",
                                 body=f"warm-up {n}", stamp=agent(later(hours=n)))  # fmt: skip
        runner.catch_up()  # every head recorded, as a live desk has them
        checked_fold = desk._ticket
        plain_fold = unchecked(desk)
        timings: dict[str, list[float]] = {"checked": [], "unchecked": [], "fold_checked": [],
                                           "fold_unchecked": []}  # fmt: skip
        for i in range(replies):
            for name, fold in (("checked", checked_fold), ("unchecked", plain_fold)):
                t = tickets[0] if name == "checked" else tickets[1]
                desk._ticket = fold  # type: ignore[method-assign]
                began = time.perf_counter()
                fold(t.ticket_id)
                timings[f"fold_{name}"].append(time.perf_counter() - began)
                began = time.perf_counter()
                desk.add_message(t.ticket_id, author_id="agent-1", author_role="agent",
                                 body=f"reply {i}", stamp=agent(later(days=1)))  # fmt: skip
                timings[name].append(time.perf_counter() - began)
        desk._ticket = checked_fold  # type: ignore[method-assign]
        desk.close()
    med = {k: statistics.median(v) * 1000 for k, v in timings.items()}
    return {
        "events_per_ticket_at_start": events,
        "replies": replies,
        "reply_ms_unchecked": med["unchecked"],
        "reply_ms_checked": med["checked"],
        "reply_ratio": med["checked"] / med["unchecked"],
        "fold_ms_unchecked": med["fold_unchecked"],
        "fold_ms_checked": med["fold_checked"],
        "fold_ratio": med["fold_checked"] / med["fold_unchecked"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replies", type=int, default=200)
    parser.add_argument("--events", type=int, default=10)
    args = parser.parse_args()
    for key, value in run(args.replies, args.events).items():
        print(f"{key:>28}: {value:.3f}" if isinstance(value, float) else f"{key:>28}: {value}")


if __name__ == "__main__":
    main()
