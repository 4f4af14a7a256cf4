"""The automations view: what each ticket's automation conditions read, for the watch.

``automation_tickets`` keeps one row per ticket with the facts of
:class:`~domain.automation.RuleFacts` (folded by :func:`domain.ticket.rule_facts_after`,
the fold the ticket itself keeps); ``automation_firings`` the (rule, cycle) pairs that
fired. :func:`due` answers the tickets a rule is due on and has not fired on this cycle,
through partial indexes on each instant a rule counts from (open and pending tickets
only): the watch never scans every ticket. The view only finds candidates; the ticket
decides (a view behind the log finds a ticket the ticket then refuses).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import psycopg

from domain.automation import Conditions, RuleFacts
from domain.ticket import PUBLIC_EVENTS, STAFF_ONLY_EVENTS, Ticket, rule_facts_after
from projections.kit import Fact, Tables, View, rows_by_ticket
from store.bulk import upsert_rows

NAME = "automations"
TICKETS = "automation_tickets"
FIRINGS = "automation_firings"
ANCHORS = {
    "last_update": "updated_at",
    "last_customer_message": "customer_message_at",
    "last_agent_reply": "coalesce(agent_reply_at, opened_at)",
    "status_entered": "status_since",
}
"""The column (or expression, indexed as such) each time condition counts from."""
FACT_COLUMNS = (
    "status", "priority", "tier", "grp", "tags", "opened_at", "updated_at",
    "customer_message_at", "agent_reply_at", "status_since", "priority_since", "group_since",
    "tags_since",
)  # fmt: skip


def create_tables(conn: psycopg.Connection[Any], t: Tables) -> None:
    t.create(
        conn,
        {
            TICKETS: """
                ticket_id uuid PRIMARY KEY,
                status text NOT NULL,
                priority text NOT NULL,
                tier text NOT NULL,
                grp text,
                tags text[] NOT NULL,
                opened_at timestamptz NOT NULL,
                updated_at timestamptz NOT NULL,
                customer_message_at timestamptz NOT NULL,
                agent_reply_at timestamptz,
                status_since timestamptz NOT NULL,
                priority_since timestamptz NOT NULL,
                group_since timestamptz NOT NULL,
                tags_since timestamptz NOT NULL
            """,
            FIRINGS: """
                ticket_id uuid NOT NULL,
                rule_id text NOT NULL,
                cycle_start timestamptz NOT NULL,
                PRIMARY KEY (ticket_id, rule_id, cycle_start)
            """,
        },
    )
    for since, column in ANCHORS.items():
        t.create_index(conn, TICKETS, f"_{since}", f"(({column})) WHERE status <> 'closed'")


def apply(conn: psycopg.Connection[Any], t: Tables, facts: Sequence[Fact]) -> None:
    ids = list({f.stream_id for f in facts})
    loaded = rows_by_ticket(conn, t(TICKETS), ("ticket_id", *FACT_COLUMNS), ids)
    known: dict[UUID, RuleFacts | None] = {tid: from_row(r) for tid, r in loaded.items()}
    touched: set[UUID] = set()
    firings: list[tuple[UUID, str, datetime]] = []
    for fact in facts:
        state = rule_facts_after(known.get(fact.stream_id), fact.event)
        if state is None:  # an event of a ticket this view never saw opened
            continue
        known[fact.stream_id] = state
        touched.add(fact.stream_id)
        if isinstance(fact.event, Ticket.AutomationFired):
            firings.append((fact.stream_id, fact.event.rule_id, fact.event.cycle_start))
    rows = []
    for ticket_id in touched:
        s = known[ticket_id]
        assert s is not None
        rows.append(
            (ticket_id, s.status, s.priority, s.tier, s.group, sorted(s.tags), s.opened_at,
             s.updated_at, s.customer_message_at, s.agent_reply_at, s.status_since,
             s.priority_since, s.group_since, s.tags_since)
        )  # fmt: skip
    with conn.cursor() as cur:
        if rows:
            columns = ", ".join(FACT_COLUMNS)
            excluded = ", ".join("excluded." + c for c in FACT_COLUMNS)
            upsert_rows(
                cur,
                t(TICKETS),
                ("ticket_id", *FACT_COLUMNS),
                rows,
                f"ON CONFLICT (ticket_id) DO UPDATE SET ({columns}) = ROW({excluded})",
            )
        upsert_rows(
            cur,
            t(FIRINGS),
            ("ticket_id", "rule_id", "cycle_start"),
            firings,
            "ON CONFLICT DO NOTHING",
        )


def from_row(r: dict[str, Any]) -> RuleFacts:
    return RuleFacts(
        status=r["status"], priority=r["priority"], tier=r["tier"], group=r["grp"],
        tags=frozenset(r["tags"]), opened_at=r["opened_at"], updated_at=r["updated_at"],
        customer_message_at=r["customer_message_at"], agent_reply_at=r["agent_reply_at"],
        status_since=r["status_since"], priority_since=r["priority_since"],
        group_since=r["group_since"], tags_since=r["tags_since"],
    )  # fmt: skip


def due(
    conn: psycopg.Connection[Any],
    t: Tables,
    rule_id: str,
    conditions: Conditions,
    now: datetime,
    limit: int,
) -> list[UUID]:
    """The tickets ``conditions`` hold on at ``now`` whose current cycle has no firing of
    ``rule_id`` on record, soonest due first (the same test as
    :meth:`~domain.automation.Conditions.holds` and ``cycle_start``, in SQL)."""
    anchor = ANCHORS[conditions.since]
    clauses = ["status <> 'closed'", f"{anchor} <= %(latest)s"]
    params: dict[str, Any] = {
        "latest": now - timedelta(hours=conditions.hours),
        "rule_id": rule_id,
        "limit": limit,
    }
    starts = [anchor]
    for name, column, since in (
        ("status", "status", "status_since"),
        ("priority", "priority", "priority_since"),
        ("tier", "tier", None),
        ("group", "grp", "group_since"),
    ):
        values = getattr(conditions, name)
        if values:
            clauses.append(f"{column} = ANY(%({name})s)")
            params[name] = list(values)
            if since:
                starts.append(since)
    if conditions.tags_all:
        clauses.append("tags @> %(tags_all)s")
        params["tags_all"] = list(conditions.tags_all)
    if conditions.tags_none:
        clauses.append("NOT tags && %(tags_none)s")
        params["tags_none"] = list(conditions.tags_none)
    if conditions.tags_all or conditions.tags_none:
        starts.append("tags_since")
    cycle = f"greatest({', '.join(starts)})" if len(starts) > 1 else anchor
    rows = conn.execute(
        f"SELECT ticket_id FROM {t(TICKETS)} t WHERE {' AND '.join(clauses)} "
        f"AND NOT EXISTS (SELECT 1 FROM {t(FIRINGS)} f WHERE f.ticket_id = t.ticket_id "
        f"AND f.rule_id = %(rule_id)s AND f.cycle_start = {cycle}) "
        f"ORDER BY {anchor} LIMIT %(limit)s",
        params,
    ).fetchall()
    return [row[0] for row in rows]


VIEW = View(
    NAME,
    frozenset(PUBLIC_EVENTS + STAFF_ONLY_EVENTS),
    create_tables,
    apply,
    (TICKETS, FIRINGS),
)
