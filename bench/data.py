"""Tickets written straight into a live server's event log, for the reads and rebuild phases.

The events are made by the real aggregates (chained, decodable exactly as live ones)
and copied in with COPY inside one transaction that first takes the append lock of
Docket's recorder, so the log stays gap-safe for the server's projection runner,
which folds them into every view as it would any other write.

Tickets vary: every fourth is fully worked (six replies, a note, closed); the others
are short (filed, an agent's reply, sometimes pending), so a given number of tickets
costs about five events each. Numbers start at ``T-1000001``, far from those the
server hands out.
"""

from __future__ import annotations

import hashlib
import time
import uuid
from datetime import timedelta
from typing import Any

import psycopg

from bench.rebuild import T0, ticket_events
from domain.account import Account
from domain.numbers import TicketNumber, format_number
from domain.stamp import Stamp
from domain.ticket import Ticket
from projections.tracking import TRACKING_TABLE
from store.eventstore import docket_mapper
from store.log import EVENTS_TABLE

FIRST_NUMBER = 1_000_001
ACCOUNTS = 20


def append_lock_key(schema: str) -> int:
    """The advisory lock :class:`GroupCommitRecorder` takes around every append."""
    digest = hashlib.sha256(f"docket-append:{schema}.{EVENTS_TABLE}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def short_ticket(n: int, account_id: str) -> list[Any]:
    """Filed by a member, answered once by an agent; every third one then pending."""
    at = T0 + timedelta(minutes=n)
    customer = Stamp(f"member-{n % 500}", "requester", "web", at)
    ticket = Ticket.file(
        ticket_id=uuid.uuid4(), number=format_number(n),
        subject=f"Cannot share folder {n % 997}",
        description="The share dialog spins and never finishes.",
        type=("question", "bug", "billing", "technical")[n % 4],
        priority=("low", "normal", "high", "urgent")[n % 4], product=("Files", "Dash")[n % 2],
        topic=("sharing", "sync", "billing", "login")[n % 4], channel="web",
        requester_id=customer.actor_id, account_id=account_id, stamp=customer,
    )  # fmt: skip
    agent = Stamp("agent-1", "agent", "web", at + timedelta(minutes=30))
    answer = "Which browser?"
    ticket.add_message(
        author_id="agent-1", author_role="agent", body=answer, attachments=[], stamp=agent
    )
    if n % 3 == 0:
        ticket.change_status(to_status="pending", stamp=agent)
    claim = TicketNumber.claim(number=ticket.number, ticket_id=ticket.id, stamp=customer)
    return [*ticket.collect_events(), *claim.collect_events()]


def accounts() -> list[Account]:
    system = Stamp("bench", "system", "api", T0)
    return [
        Account.open(
            account_id=uuid.uuid5(uuid.NAMESPACE_URL, f"docket:bench-account:{i}"),
            name=f"Bench account {i}",
            plan="business",
            support_tier="standard",
            stamp=system,
        )
        for i in range(ACCOUNTS)
    ]


def add_tickets(url: str, schema: str, first: int, count: int) -> int:
    """Tickets ``first`` .. ``first + count - 1`` (0 opens the bench accounts); events written."""
    mapper = docket_mapper()
    teams = accounts()
    written = 0
    with psycopg.connect(url) as conn:
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (append_lock_key(schema),))
        columns = "originator_id, originator_version, topic, state"
        with conn.cursor().copy(f'COPY "{schema}".{EVENTS_TABLE} ({columns}) FROM STDIN') as copy:
            events: list[Any] = []
            if first == 0:
                for account in teams:
                    events.extend(account.collect_events())
            for i in range(max(first, 1), first + count):
                n = FIRST_NUMBER + i
                account_id = str(teams[n % ACCOUNTS].id)
                if i % 4 == 0:
                    events.extend(ticket_events(n, account_id, T0 + timedelta(minutes=n)))
                else:
                    events.extend(short_ticket(n, account_id))
                if len(events) > 5000:
                    written += _copy(copy, mapper, events)
                    events = []
            written += _copy(copy, mapper, events)
        conn.commit()
    return written


def _copy(copy: Any, mapper: Any, events: list[Any]) -> int:
    for e in events:
        s = mapper.to_stored_event(e)
        copy.write_row((s.originator_id, s.originator_version, s.topic, s.state))
    return len(events)


def wait_caught_up(url: str, schema: str, timeout: float) -> float:
    """Seconds until every view has applied the log's head (raises after ``timeout``)."""
    began = time.perf_counter()
    with psycopg.connect(url, autocommit=True) as conn:
        while True:
            row = conn.execute(
                f'SELECT (SELECT max(notification_id) FROM "{schema}".{EVENTS_TABLE}), '
                f'(SELECT min(position) FROM "{schema}".{TRACKING_TABLE})'
            ).fetchone()
            assert row is not None
            if row[1] is not None and int(row[1]) >= int(row[0] or 0):
                return time.perf_counter() - began
            if time.perf_counter() - began > timeout:
                raise TimeoutError(f"views at {row[1]} of {row[0]} after {timeout} s")
            time.sleep(0.2)
