"""The analysts' dashboard: one fact row per ticket, one row per filing, close and reopen.

Kept per event like every view, so each dashboard is one indexed aggregate over
these rows, never a replay of conversations. Times are event times (an imported
ticket counts when it happened, not when it was imported):

* first response: filing → the first public agent reply;
* resolution: filing → the latest close (cleared by a reopen until closed again);
* satisfaction: the latest rating, credited to the assignee then, else to the
  agent who replied last.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import psycopg
from psycopg.rows import dict_row

from projections.runner import Fact, Tables, View, clean_text
from projections.ticket_rows import PUBLIC_TICKET_EVENTS

NAME = "dashboard"
TICKETS = "dashboard_tickets"
MOMENTS = "dashboard_moments"
COLUMNS = (
    "ticket_id",
    "account_id",
    "product",
    "topic",
    "type",
    "channel",
    "priority",
    "status",
    "assignee_id",
    "last_agent_id",
    "created_at",
    "first_response_at",
    "resolved_at",
    "rating",
    "rating_agent_id",
)


def create_tables(conn: psycopg.Connection[Any], t: Tables) -> None:
    conn.execute(
        f"""
        CREATE TABLE IF NOT EXISTS {t(TICKETS)} (
            ticket_id uuid PRIMARY KEY,
            account_id text NOT NULL,
            product text NOT NULL,
            topic text NOT NULL,
            type text NOT NULL,
            channel text NOT NULL,
            priority text NOT NULL,
            status text NOT NULL,
            assignee_id text,
            last_agent_id text,
            created_at timestamptz NOT NULL,
            first_response_at timestamptz,
            resolved_at timestamptz,
            rating smallint,
            rating_agent_id text
        )
        """
    )
    conn.execute(
        f"CREATE INDEX IF NOT EXISTS {t.index(TICKETS + '_created')} ON {t(TICKETS)} (created_at)"
    )
    conn.execute(
        f"""
        CREATE TABLE IF NOT EXISTS {t(MOMENTS)} (
            ticket_id uuid NOT NULL,
            version integer NOT NULL,
            kind text NOT NULL,
            at timestamptz NOT NULL,
            PRIMARY KEY (ticket_id, version)
        )
        """
    )
    conn.execute(f"CREATE INDEX IF NOT EXISTS {t.index(MOMENTS + '_at')} ON {t(MOMENTS)} (at)")


def apply(conn: psycopg.Connection[Any], t: Tables, facts: Sequence[Fact]) -> None:
    ids = list({f.stream_id for f in facts})
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(
            f"SELECT {', '.join(COLUMNS)} FROM {t(TICKETS)} WHERE ticket_id = ANY(%s)", (ids,)
        )
        tickets: dict[UUID, dict[str, Any]] = {r["ticket_id"]: r for r in cur.fetchall()}
    touched: set[UUID] = set()
    moments: list[tuple[Any, ...]] = []
    for fact in facts:
        e = fact.event
        kind = fact.kind
        tid = fact.stream_id
        if kind == "Ticket.Opened":
            tickets[tid] = dict.fromkeys(COLUMNS)
            tickets[tid].update(
                ticket_id=tid, account_id=e.account_id, product=clean_text(e.product),
                topic=clean_text(e.topic), type=e.type, channel=e.channel, priority=e.priority,
                status="open", created_at=e.timestamp,
            )  # fmt: skip
            moments.append((tid, fact.version, "filed", e.timestamp))
        row = tickets.get(tid)
        if row is None:
            continue
        touched.add(tid)
        if kind == "Ticket.MessageAdded" and e.author_role == "agent":
            row["last_agent_id"] = e.author_id
            if row["first_response_at"] is None:
                row["first_response_at"] = e.timestamp
        elif kind == "Ticket.StatusChanged":
            row["status"] = e.to_status
            if e.to_status == "closed":
                row["resolved_at"] = e.timestamp
                moments.append((tid, fact.version, "closed", e.timestamp))
        elif kind == "Ticket.Reopened":
            row.update(status="open", resolved_at=None, rating=None, rating_agent_id=None)
            moments.append((tid, fact.version, "reopened", e.timestamp))
        elif kind in ("Ticket.PriorityRaised", "Ticket.PriorityLowered"):
            row["priority"] = e.to_priority
        elif kind == "Ticket.Assigned":
            row["assignee_id"] = clean_text(e.agent_id) if e.agent_id else None
        elif kind == "Ticket.TypeChanged":
            row["type"] = e.to_type
        elif kind == "Ticket.ProductChanged":
            row["product"] = clean_text(e.to_product)
        elif kind == "Ticket.SatisfactionRated":
            row["rating"] = e.score
            row["rating_agent_id"] = row["assignee_id"] or row["last_agent_id"]
    updates = ", ".join(f"{c} = excluded.{c}" for c in COLUMNS[1:])
    with conn.cursor() as cur:
        cur.executemany(
            f"INSERT INTO {t(TICKETS)} ({', '.join(COLUMNS)}) "
            f"VALUES ({', '.join(['%s'] * len(COLUMNS))}) "
            f"ON CONFLICT (ticket_id) DO UPDATE SET {updates}",
            [tuple(tickets[tid][c] for c in COLUMNS) for tid in touched],
        )
        if moments:
            cur.executemany(
                f"INSERT INTO {t(MOMENTS)} (ticket_id, version, kind, at) VALUES (%s, %s, %s, %s)",
                moments,
            )


VIEW = View(NAME, PUBLIC_TICKET_EVENTS, create_tables, apply, (TICKETS, MOMENTS))


# --- the dashboards --------------------------------------------------------------------------


@dataclass(frozen=True)
class DashboardFilter:
    """What every dashboard can be narrowed to. The range is on filing (volume: on the moment)."""

    account_ids: tuple[str, ...] = ()
    products: tuple[str, ...] = ()
    topics: tuple[str, ...] = ()
    channels: tuple[str, ...] = ()
    since: datetime | None = None
    before: datetime | None = None


def _where(f: DashboardFilter, at: str = "d.created_at") -> tuple[str, list[Any]]:
    clauses: list[str] = ["TRUE"]
    params: list[Any] = []
    for column, values in (
        ("account_id", f.account_ids),
        ("product", f.products),
        ("topic", f.topics),
        ("channel", f.channels),
    ):
        if values:
            clauses.append(f"d.{column} = ANY(%s)")
            params.append([clean_text(v) for v in values])
    if f.since is not None:
        clauses.append(f"{at} >= %s")
        params.append(f.since)
    if f.before is not None:
        clauses.append(f"{at} < %s")
        params.append(f.before)
    return " AND ".join(clauses), params


def _rows(conn: psycopg.Connection[Any], sql: str, params: Sequence[Any]) -> list[dict[str, Any]]:
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(sql, params).fetchall()


def summary(conn: psycopg.Connection[Any], t: Tables, f: DashboardFilter) -> list[dict[str, Any]]:
    where, params = _where(f)
    return _rows(
        conn,
        f"SELECT status, count(*) AS tickets FROM {t(TICKETS)} d WHERE {where} "
        "GROUP BY status ORDER BY status",
        params,
    )


def top_issues(
    conn: psycopg.Connection[Any], t: Tables, f: DashboardFilter, limit: int
) -> list[dict[str, Any]]:
    where, params = _where(f)
    out = []
    for dimension in ("topic", "type"):
        out += _rows(
            conn,
            f"SELECT %s AS dimension, {dimension} AS name, count(*) AS tickets "
            f"FROM {t(TICKETS)} d WHERE {where} GROUP BY {dimension} "
            f"ORDER BY tickets DESC, name LIMIT %s",
            [dimension, *params, limit],
        )
    return out


def top_products(
    conn: psycopg.Connection[Any], t: Tables, f: DashboardFilter, topic: str | None, limit: int
) -> list[dict[str, Any]]:
    where, params = _where(f)
    out = []
    scopes: list[tuple[str, str | None]] = [("all", None)]
    if topic is not None:
        scopes.insert(0, ("topic", topic))
    for scope, value in scopes:
        narrowed = " AND d.topic = %s" if value is not None else ""
        extra = [clean_text(value)] if value is not None else []
        out += _rows(
            conn,
            f"SELECT %s AS scope, %s AS topic, product, count(*) AS tickets "
            f"FROM {t(TICKETS)} d WHERE {where}{narrowed} GROUP BY product "
            f"ORDER BY tickets DESC, product LIMIT %s",
            [scope, value, *params, *extra, limit],
        )
    return out


BUCKETS = ("day", "week", "month")


def volume(
    conn: psycopg.Connection[Any], t: Tables, f: DashboardFilter, bucket: str
) -> list[dict[str, Any]]:
    if bucket not in BUCKETS:
        raise ValueError(f"bucket is one of {BUCKETS}")
    where, params = _where(f, at="m.at")
    return _rows(
        conn,
        f"SELECT (date_trunc(%s, m.at AT TIME ZONE 'UTC'))::date AS bucket, "
        "count(*) FILTER (WHERE m.kind = 'filed') AS filed, "
        "count(*) FILTER (WHERE m.kind = 'closed') AS closed, "
        "count(*) FILTER (WHERE m.kind = 'reopened') AS reopened "
        f"FROM {t(MOMENTS)} m JOIN {t(TICKETS)} d USING (ticket_id) WHERE {where} "
        "GROUP BY 1 ORDER BY 1",
        [bucket, *params],
    )


TIME_GROUPS = ("priority", "topic", "product", "channel")


def times(
    conn: psycopg.Connection[Any], t: Tables, f: DashboardFilter, group_by: str
) -> list[dict[str, Any]]:
    if group_by not in TIME_GROUPS:
        raise ValueError(f"group_by is one of {TIME_GROUPS}")
    where, params = _where(f)
    first = "extract(epoch FROM d.first_response_at - d.created_at) / 3600.0"
    resolve = "extract(epoch FROM d.resolved_at - d.created_at) / 3600.0"
    stats = []
    for name, hours in (("first_response", first), ("resolution", resolve)):
        stats.append(
            f"count({hours}) AS {name}_count, "
            f"percentile_cont(0.5) WITHIN GROUP (ORDER BY {hours}) AS {name}_median_hours, "
            f"percentile_cont(0.9) WITHIN GROUP (ORDER BY {hours}) AS {name}_p90_hours, "
            f"avg({hours}) AS {name}_mean_hours"
        )
    rows = _rows(
        conn,
        f"SELECT d.{group_by} AS name, count(*) AS tickets, {', '.join(stats)} "
        f"FROM {t(TICKETS)} d WHERE {where} GROUP BY d.{group_by} ORDER BY name",
        params,
    )
    for row in rows:
        for key, value in row.items():
            if key.endswith("_hours") and value is not None:
                row[key] = round(float(value), 4)
    return rows


SATISFACTION_GROUPS = ("product", "topic", "agent")


def satisfaction(
    conn: psycopg.Connection[Any], t: Tables, f: DashboardFilter, group_by: str
) -> list[dict[str, Any]]:
    if group_by not in SATISFACTION_GROUPS:
        raise ValueError(f"group_by is one of {SATISFACTION_GROUPS}")
    column = "rating_agent_id" if group_by == "agent" else group_by
    where, params = _where(f)
    rows = _rows(
        conn,
        f"SELECT coalesce(d.{column}, '') AS name, count(*) AS ratings, "
        f"avg(d.rating) AS mean_rating FROM {t(TICKETS)} d "
        f"WHERE {where} AND d.rating IS NOT NULL GROUP BY 1 ORDER BY name",
        params,
    )
    for row in rows:
        row["mean_rating"] = round(float(row["mean_rating"]), 4)
    return rows
