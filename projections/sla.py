"""The SLA view: every ticket's clocks, for ticket detail, the deadline watch and compliance.

``sla_tickets`` keeps each ticket's folded :class:`~domain.sla.SlaState`
(as JSON) and its soonest due instant; ``sla_clocks`` has one row per clock
(target, cycle, start) with its terms, due instant and outcome, which is what
the compliance summary counts and the deadline watch scans. Both are pure
functions of the ticket events (:func:`domain.ticket.sla_after`), so the view
rebuilt from position 0 equals the view kept live.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import psycopg
from psycopg.types.json import Jsonb

from domain.sla import TARGETS, Clock, SlaState, state_from_data, state_to_data
from domain.ticket import SLA_EVENTS, Ticket, sla_after
from projections.kit import Fact, Tables, View, rows_by_ticket
from store.bulk import upsert_rows

NAME = "sla"
TICKETS = "sla_tickets"
CLOCKS = "sla_clocks"
GROUPINGS = {"tier": "tier", "priority": "priority", "account": "account_id"}


def create_tables(conn: psycopg.Connection[Any], t: Tables) -> None:
    t.create(
        conn,
        {
            TICKETS: """
                ticket_id uuid PRIMARY KEY,
                account_id text NOT NULL,
                state jsonb NOT NULL,
                next_due_at timestamptz
            """,
            CLOCKS: """
                ticket_id uuid NOT NULL,
                target text NOT NULL,
                cycle integer NOT NULL,
                seq integer NOT NULL,
                started_at timestamptz NOT NULL,
                account_id text NOT NULL,
                tier text NOT NULL,
                calendar text NOT NULL,
                priority text NOT NULL,
                budget_seconds double precision NOT NULL,
                running boolean NOT NULL,
                due_at timestamptz,
                stopped_at timestamptz,
                breached_at timestamptz,
                breach_recorded boolean NOT NULL,
                PRIMARY KEY (ticket_id, target, cycle, seq)
            """,
        },
    )
    t.create_index(conn, CLOCKS, "_unrecorded", "(due_at) WHERE NOT breach_recorded")
    t.create_index(conn, CLOCKS, "_started", "(started_at)")


def apply(conn: psycopg.Connection[Any], t: Tables, facts: Sequence[Fact]) -> None:
    """Load the touched tickets' states, fold the batch, write each ticket's state and clocks."""
    ids = list({f.stream_id for f in facts})
    known = {
        tid: (r["account_id"], state_from_data(r["state"]))
        for tid, r in rows_by_ticket(
            conn, t(TICKETS), ("ticket_id", "account_id", "state"), ids
        ).items()
    }
    touched: set[UUID] = set()
    for fact in facts:
        account_id, state = known.get(fact.stream_id, ("", None))
        if isinstance(fact.event, Ticket.Opened):
            account_id = fact.event.account_id
        state = evolve(state, fact.event)
        if state is None:  # an event of a ticket this view never saw opened
            continue
        known[fact.stream_id] = (account_id, state)
        touched.add(fact.stream_id)
    tickets: list[tuple[Any, ...]] = []
    clocks: list[tuple[Any, ...]] = []
    for ticket_id in touched:
        account_id, state = known[ticket_id]
        tickets.append((ticket_id, account_id, Jsonb(state_to_data(state)), state.next_due()))
        clocks.extend(_clock_row(ticket_id, account_id, state, c) for c in state.clocks)
    with conn.cursor() as cur:
        upsert_rows(
            cur,
            t(TICKETS),
            ("ticket_id", "account_id", "state", "next_due_at"),
            tickets,
            "ON CONFLICT (ticket_id) DO UPDATE "
            "SET state = excluded.state, next_due_at = excluded.next_due_at",
        )
        if clocks:
            upsert_rows(
                cur,
                t(CLOCKS),
                CLOCK_COLUMNS,
                clocks,
                "ON CONFLICT (ticket_id, target, cycle, seq) DO UPDATE SET "
                "priority = excluded.priority, budget_seconds = excluded.budget_seconds, "
                "running = excluded.running, due_at = excluded.due_at, "
                "stopped_at = excluded.stopped_at, breached_at = excluded.breached_at, "
                "breach_recorded = excluded.breach_recorded",
            )


def evolve(state: SlaState | None, event: Any) -> SlaState | None:
    """A ticket's clocks after one of its events (``None`` until it is opened): the
    view's fold, pure."""
    if isinstance(event, Ticket.Opened):
        state = SlaState()
    return None if state is None else sla_after(state, event)


def clocks_as_folded(events: Sequence[Any]) -> SlaState | None:
    """One ticket's clocks folded in memory from its events by :func:`evolve`, as the view
    keeps them (the audit's ticket "as of" folds a prefix of its events)."""
    state: SlaState | None = None
    for event in events:
        state = evolve(state, event)
    return state


CLOCK_COLUMNS = (
    "ticket_id",
    "target",
    "cycle",
    "seq",
    "started_at",
    "account_id",
    "tier",
    "calendar",
    "priority",
    "budget_seconds",
    "running",
    "due_at",
    "stopped_at",
    "breached_at",
    "breach_recorded",
)
"""The columns of a clock's row, in the order of :func:`_clock_row`."""


def _clock_row(ticket_id: UUID, account_id: str, state: SlaState, c: Clock) -> tuple[Any, ...]:
    terms = state.terms or {}
    return (
        ticket_id,
        c.target,
        c.cycle,
        c.seq,
        c.started_at,
        account_id,
        terms.get("tier", ""),
        terms.get("calendar", ""),
        c.priority,
        c.budget.total_seconds(),
        c.running_since is not None,
        c.due_at,
        c.stopped_at,
        c.breached_at,
        c.breach_recorded,
    )


IGNORES = (
    Ticket.InternalNoteAdded,
    Ticket.Assigned,
    Ticket.TypeChanged,
    Ticket.ProductChanged,
    Ticket.AttachmentAdded,
    Ticket.NoteAttachmentAdded,
    Ticket.SatisfactionRated,
    Ticket.SurveyOffered,
    Ticket.ChatTranscriptRecorded,
    Ticket.CallbackRequested,
    Ticket.CallbackMade,
    Ticket.TagsAdded,
    Ticket.TagsRemoved,
    Ticket.MergeReceived,
    Ticket.CcAdded,
    Ticket.CcRemoved,
    Ticket.CustomFieldsSet,
    Ticket.AutomationFired,
)
"""Ticket events that start, stop or move no clock."""
VIEW = View(
    NAME,
    frozenset(SLA_EVENTS),
    create_tables,
    apply,
    (TICKETS, CLOCKS),
    ignores=frozenset(IGNORES),
)


# --- reads ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ClockReading:
    """One clock as of an instant: what the detail and the inbox show."""

    target: str
    cycle: int
    priority: str
    state: str
    started_at: datetime
    due_at: datetime | None
    stopped_at: datetime | None
    business_seconds_left: float | None
    breached: bool
    breach_recorded: bool


def readings(state: SlaState, now: datetime) -> list[ClockReading]:
    calendar = state.calendar
    out = []
    for c in state.clocks:
        left = c.business_left(calendar, now) if calendar else None
        clock_state = c.state(now)
        out.append(
            ClockReading(
                target=c.target,
                cycle=c.cycle,
                priority=c.priority,
                state=clock_state,
                started_at=c.started_at,
                due_at=c.due_at,
                stopped_at=c.stopped_at,
                business_seconds_left=left.total_seconds() if left is not None else None,
                breached=clock_state == "breached",
                breach_recorded=c.breach_recorded,
            )
        )
    return out


def ticket_state(conn: psycopg.Connection[Any], t: Tables, ticket_id: UUID) -> SlaState | None:
    row = conn.execute(
        f"SELECT state FROM {t(TICKETS)} WHERE ticket_id = %s", (ticket_id,)
    ).fetchone()
    return state_from_data(row[0]) if row else None


def breaching(conn: psycopg.Connection[Any], t: Tables, now: datetime, limit: int) -> list[UUID]:
    """Tickets with a clock breached by ``now`` whose breach is not yet on record."""
    rows = conn.execute(
        f"SELECT ticket_id FROM {t(CLOCKS)} WHERE NOT breach_recorded "
        "AND due_at IS NOT NULL AND (breached_at IS NOT NULL "
        "OR (running AND stopped_at IS NULL AND due_at < %s)) "
        "GROUP BY ticket_id ORDER BY min(due_at) LIMIT %s",
        (now, limit),
    ).fetchall()
    return [r[0] for r in rows]


def summary(
    conn: psycopg.Connection[Any],
    t: Tables,
    *,
    start: datetime | None,
    end: datetime | None,
    now: datetime,
    account_ids: tuple[str, ...] = (),
) -> dict[str, list[dict[str, Any]]]:
    """Compliance of clocks started in ``[start, end)``, grouped by tier, priority, account.

    A clock counts as *met* once stopped by its due instant, *breached* once
    past it (stopped late, or still running after it), and *running* while
    its due instant is still ahead; compliance is met / (met + breached).
    """
    clauses = ["TRUE"]
    named: dict[str, Any] = {"now": now, "start": start, "end": end, "accounts": list(account_ids)}
    if start is not None:
        clauses.append("started_at >= %(start)s")
    if end is not None:
        clauses.append("started_at < %(end)s")
    if account_ids:
        clauses.append("account_id = ANY(%(accounts)s)")
    where = " AND ".join(clauses)
    outcome = (
        "CASE WHEN breached_at IS NOT NULL OR breach_recorded "
        "OR (running AND stopped_at IS NULL AND due_at < %(now)s) THEN 'breached' "
        "WHEN stopped_at IS NOT NULL THEN 'met' ELSE 'running' END"
    )
    out: dict[str, list[dict[str, Any]]] = {}
    for name, column in GROUPINGS.items():
        rows = conn.execute(
            f"SELECT {column} AS key, target, {outcome} AS outcome, count(*) "
            f"FROM {t(CLOCKS)} WHERE {where} GROUP BY 1, 2, 3",
            named,
        ).fetchall()
        out[name] = _compliance(rows)
    return out


def _compliance(rows: list[tuple[Any, ...]]) -> list[dict[str, Any]]:
    groups: dict[tuple[str, str], dict[str, int]] = {}
    for key, target, outcome, count in rows:
        tally = groups.setdefault((key, target), {"met": 0, "breached": 0, "running": 0})
        tally[outcome] += int(count)
    out = []
    for (key, target), tally in sorted(
        groups.items(), key=lambda kv: (kv[0][0], TARGETS.index(kv[0][1]))
    ):
        decided = tally["met"] + tally["breached"]
        out.append(
            {
                "key": key,
                "target": target,
                **tally,
                "compliance": round(tally["met"] / decided, 4) if decided else None,
            }
        )
    return out
