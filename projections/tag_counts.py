"""Tickets per tag and status: the tags dashboard, for staff and analysts.

Tags are staff-only, and the analysts' dashboard view is fed no staff-only event (see
:mod:`projections.dashboard.fold`), so tags are counted here, in a view of their own:
one row per ticket (its status and tags) and one roll-up row per tag and status, kept
as events arrive. The dashboard reads the roll-up: it costs what the number of distinct
tags does, never the number of tickets.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any
from uuid import UUID

import psycopg

from domain.ticket import PUBLIC_EVENTS, STAFF_ONLY_EVENTS, Ticket
from projections.kit import Fact, Layout, Tables, View, fetch_all
from store.bulk import upsert_rows

NAME = "tag_counts"
TICKETS = "tag_tickets"
COUNTS = "tag_counts"
HANDLES = (
    Ticket.Opened,
    Ticket.StatusChanged,
    Ticket.Reopened,
    Ticket.TagsAdded,
    Ticket.TagsRemoved,
    Ticket.MergedInto,
)
STATUSES = ("open", "pending", "closed")
"""The statuses the dashboard counts. A ticket merged into another counts as ``merged``
and not at all on the dashboard: it is the same request, counted once, as the other."""


TABLES = Layout(
    {
        TICKETS: """
            ticket_id uuid PRIMARY KEY,
            status text NOT NULL,
            tags text[] NOT NULL
        """,
        COUNTS: """
            tag text NOT NULL,
            status text NOT NULL,
            tickets integer NOT NULL,
            PRIMARY KEY (tag, status)
        """,
    }
)


def fold(
    tickets: dict[UUID, tuple[str, tuple[str, ...]]], facts: Sequence[Fact]
) -> tuple[set[UUID], Counter[tuple[str, str]]]:
    """``tickets`` (status and tags, changed in place) after ``facts``; the touched
    tickets and how each (tag, status) count moved. Pure."""
    moved: Counter[tuple[str, str]] = Counter()
    touched: set[UUID] = set()
    for fact in facts:
        e, tid = fact.event, fact.stream_id
        if isinstance(e, Ticket.Opened):
            tickets[tid] = ("open", ())
            touched.add(tid)
            continue
        if tid not in tickets:  # an event of a ticket this view never saw opened
            continue
        status, tags = tickets[tid]
        match e:
            case Ticket.StatusChanged():
                new = (e.to_status, tags)
            case Ticket.Reopened():
                new = ("open", tags)
            case Ticket.MergedInto():
                new = ("merged", tags)
            case Ticket.TagsAdded():
                new = (status, (*tags, *(tag for tag in e.tags if tag not in tags)))
            case Ticket.TagsRemoved():
                new = (status, tuple(tag for tag in tags if tag not in e.tags))
            case _:
                continue
        for tag in tags:
            moved[(tag, status)] -= 1
        for tag in new[1]:
            moved[(tag, new[0])] += 1
        tickets[tid] = new
        touched.add(tid)
    return touched, moved


def apply(conn: psycopg.Connection[Any], t: Tables, facts: Sequence[Fact]) -> None:
    ids = list({f.stream_id for f in facts})
    with conn.cursor() as cur:
        cur.execute(
            f"SELECT ticket_id, status, tags FROM {t(TICKETS)} WHERE ticket_id = ANY(%s)", (ids,)
        )
        tickets = {r[0]: (r[1], tuple(r[2])) for r in cur.fetchall()}
        touched, moved = fold(tickets, facts)
        upsert_rows(
            cur,
            t(TICKETS),
            ("ticket_id", "status", "tags"),
            [(tid, tickets[tid][0], list(tickets[tid][1])) for tid in touched],
            "ON CONFLICT (ticket_id) DO UPDATE SET status = excluded.status, tags = excluded.tags",
        )
        changes = [(tag, status, n) for (tag, status), n in sorted(moved.items()) if n]
        upsert_rows(
            cur,
            t(COUNTS),
            ("tag", "status", "tickets"),
            changes,
            "ON CONFLICT (tag, status) DO UPDATE SET tickets = c.tickets + excluded.tickets",
            alias="c",
        )


VIEW = View(
    NAME,
    frozenset(HANDLES),
    TABLES.create,
    apply,
    TABLES.tables,
    ignores=frozenset(set(PUBLIC_EVENTS + STAFF_ONLY_EVENTS) - set(HANDLES)),
)


def tags_dashboard(
    conn: psycopg.Connection[Any], t: Tables, *, limit: int = 100
) -> list[dict[str, Any]]:
    """Per tag, the tickets carrying it now, by status; most used first, ties by name."""
    per_status = ", ".join(
        f"coalesce(sum(tickets) FILTER (WHERE status = '{s}'), 0)::int AS {s}" for s in STATUSES
    )
    return fetch_all(
        conn,
        f"SELECT tag AS name, sum(tickets)::int AS tickets, {per_status} "
        f"FROM {t(COUNTS)} WHERE status <> 'merged' GROUP BY tag HAVING sum(tickets) > 0 "
        "ORDER BY tickets DESC, name LIMIT %s",
        (limit,),
    )
