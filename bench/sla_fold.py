"""What SLA clocks cost when a ticket is loaded: one ticket's events replayed, with and
without terms. ``python -m bench.sla_fold`` prints microseconds per load and the ratio."""

from __future__ import annotations

import argparse
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from domain.sla import FOUNDING_POLICY, terms_for
from domain.stamp import Stamp
from domain.ticket import Ticket

T0 = datetime(2026, 3, 2, 9, tzinfo=UTC)


def worked_ticket(terms: dict[str, Any] | None, replies: int) -> list[Any]:
    """A ticket with ``replies`` public replies, customer and agent in turn, 3 hours apart."""
    ticket = Ticket.file(
        ticket_id=uuid.uuid4(), number="T-000001", subject="Sync", description="Broken",
        type="bug", priority="normal", product="", topic="", channel="web",
        requester_id="req", account_id="acct", stamp=Stamp("req", "requester", "web", T0),
        sla_terms=terms,
    )  # fmt: skip
    for i in range(replies):
        at = T0 + timedelta(hours=3 * i)
        who, role = ("agent", "agent") if i % 2 else ("req", "requester")
        stamp = Stamp(who, role, "web", at)
        ticket.add_message(author_id=who, author_role=role, body="x", attachments=[], stamp=stamp)
    return list(ticket.collect_events())


def load_seconds(events: list[Any], rounds: int) -> float:
    """The best of five: seconds to fold ``events`` into a ticket, once."""
    best = float("inf")
    for _ in range(5):
        began = time.perf_counter()
        for _ in range(rounds):
            ticket = None
            for event in events:
                ticket = event.mutate(ticket)
        best = min(best, (time.perf_counter() - began) / rounds)
    return best


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--replies", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=200)
    args = parser.parse_args(argv)
    cases = {
        "no terms": None,
        "24x7": terms_for(FOUNDING_POLICY, "premium_essentials", "24x7"),
        "us-public-sector": terms_for(FOUNDING_POLICY, "premium_essentials", "us-public-sector"),
    }
    baseline = 0.0
    for name, terms in cases.items():
        events = worked_ticket(terms, args.replies)
        seconds = load_seconds(events, args.rounds)
        baseline = baseline or seconds
        print(f"{name:<18}{len(events):>4} events {seconds * 1e6:>8.0f} µs/load "
              f"{seconds / baseline:>6.2f} x no terms")  # fmt: skip


if __name__ == "__main__":
    main()
