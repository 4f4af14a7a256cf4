"""The customers' lists: a requester's own tickets, and an account's team tickets.

The same rows as the inbox (:mod:`projections.ticket_rows`) folded from public
events only: this view never receives an internal note, so no list, count,
activity time or search hit it serves can reveal one. Team tickets show who
filed each ticket and which colleagues replied as collaborators.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import psycopg

from projections.listing import SORTS, ListFilter, Page, page
from projections.runner import Fact, Tables, View
from projections.ticket_rows import (
    PUBLIC_TICKET_EVENTS,
    apply_rows,
    apply_search,
    create_row_table,
    create_search_table,
    prune_rows,
)

NAME = "customer_tickets"
ROWS = "customer_tickets"
SEARCH = "customer_search"
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
    "created_at",
    "last_activity_at",
    "message_count",
    "collaborators",
)
DEFAULT_SORT = "last_activity"


def create_tables(conn: psycopg.Connection[Any], t: Tables) -> None:
    create_row_table(conn, t, ROWS)
    create_search_table(conn, t, SEARCH)


def apply(conn: psycopg.Connection[Any], t: Tables, facts: Sequence[Fact]) -> None:
    apply_rows(conn, t, ROWS, facts)
    apply_search(conn, t, SEARCH, facts, with_internal_notes=False)


def prune(conn: psycopg.Connection[Any], t: Tables, horizon: int) -> int:
    return prune_rows(conn, t, ROWS, horizon)


VIEW = View(NAME, PUBLIC_TICKET_EVENTS, create_tables, apply, (ROWS, SEARCH), prune)


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
    """``where`` must already hold the caller's scope (requester or account)."""
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
