"""The agent inbox: every ticket, for agents, with what needs an answer first.

Handles every ticket event, internal notes included (they count as activity and
are searchable by staff). Rows are temporal (:mod:`projections.ticket_rows`).
The default order, ``attention``, puts open tickets whose latest customer
message has no agent reply first, most urgent and longest waiting first; then
answered open tickets, then pending, then closed ones, most recent first.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import psycopg

from projections.listing import SORTS, ListFilter, Page, page
from projections.runner import Fact, Tables, View
from projections.ticket_rows import (
    ALL_TICKET_EVENTS,
    apply_rows,
    apply_search,
    create_row_table,
    create_search_table,
    prune_rows,
)

NAME = "inbox"
ROWS = "inbox_tickets"
SEARCH = "inbox_search"
COLUMNS = (
    "ticket_id",
    "number",
    "account_id",
    "requester_id",
    "subject",
    "type",
    "priority",
    "product",
    "topic",
    "channel",
    "status",
    "assignee_id",
    "support_group",
    "created_at",
    "last_activity_at",
    "waiting_since",
    "needs_answer",
    "message_count",
    "note_count",
    "version",
    "collaborators",
)
DEFAULT_SORT = "attention"


def create_tables(conn: psycopg.Connection[Any], t: Tables) -> None:
    create_row_table(conn, t, ROWS)
    create_search_table(conn, t, SEARCH)


def apply(conn: psycopg.Connection[Any], t: Tables, facts: Sequence[Fact]) -> None:
    apply_rows(conn, t, ROWS, facts)
    apply_search(conn, t, SEARCH, facts, with_internal_notes=True)


def prune(conn: psycopg.Connection[Any], t: Tables, horizon: int) -> int:
    return prune_rows(conn, t, ROWS, horizon)


VIEW = View(NAME, ALL_TICKET_EVENTS, create_tables, apply, (ROWS, SEARCH), prune)


def tickets(
    conn: psycopg.Connection[Any],
    t: Tables,
    where: ListFilter,
    *,
    sort: str = DEFAULT_SORT,
    reverse: bool = False,
    limit: int = 25,
    cursor: str | None = None,
) -> Page:
    return page(
        conn,
        t,
        view=NAME + t.suffix,
        table=ROWS,
        search_table=SEARCH,
        columns=COLUMNS,
        where=where,
        sort=SORTS[sort],
        reverse=reverse,
        limit=limit,
        cursor=cursor,
    )
