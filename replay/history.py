"""A ticket's history as the log holds it, and its write model as it stood at any point.

The write model "as of" a version or an instant is always the fold of the stored
events up to that point, through the same aggregate code that made them
(upcasting old versions on the way), so it cannot disagree with the log. What
people saw then, the ticket detail as of, is :mod:`replay.as_of`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

import psycopg
from eventsourcing.persistence import Mapper
from psycopg.rows import dict_row

from domain.chain import canonical
from projections.audit_feed import ENVELOPE, FEED, plain
from projections.directory import ACCOUNTS
from projections.kit import Tables
from replay.store import StoredAt, stream

TICKET_TOPIC = "domain.ticket:Ticket"


def history(entries: Sequence[StoredAt], mapper: Mapper[UUID]) -> list[dict[str, Any]]:
    """Every event of a stream in order: who, through which channel, when, why, what."""
    out = []
    for entry in entries:
        e: Any = mapper.to_domain_event(entry.stored)
        out.append(
            {
                "position": entry.position,
                "version": entry.stored.originator_version,
                "kind": type(e).__qualname__,
                "at": e.timestamp,
                "actor": {"id": e.stamp.actor_id, "kind": e.stamp.actor_kind},
                "via": e.stamp.via,
                "correlation_id": e.stamp.correlation_id,
                "causation_id": e.stamp.causation_id,
                "fields": {k: plain(v) for k, v in vars(e).items() if k not in ENVELOPE},
                "prev_hash": e.prev_hash,
                "event_hash": e.event_hash,
            }
        )
    return out


def state_at(
    events: Sequence[Any], *, version: int | None = None, as_of: datetime | None = None
) -> dict[str, Any] | None:
    """The aggregate folded from ``events`` up to ``version`` or up to instant ``as_of``."""
    aggregate: Any = None
    for e in events:
        if version is not None and e.originator_version > version:
            break
        if as_of is not None and e.timestamp > as_of:
            break
        aggregate = e.mutate(aggregate)
    if aggregate is None:
        return None
    return snapshot(aggregate)


def snapshot(aggregate: Any) -> dict[str, Any]:
    """An aggregate's state as plain data (sets sorted, instants as ISO text)."""
    state: dict[str, Any] = {}
    for key, value in vars(aggregate).items():
        if key == "_pending_events":
            continue
        plain_value = sorted(value) if isinstance(value, set | frozenset) else value
        state[key.lstrip("_")] = canonical(plain_value)
    return state


def ticket_events(
    conn: psycopg.Connection[Any], schema: str, ticket_id: UUID, mapper: Mapper[UUID]
) -> list[StoredAt]:
    """The stored stream, if it is a ticket's."""
    entries = stream(conn, schema, ticket_id)
    if not entries or not entries[0].stored.topic.startswith(TICKET_TOPIC + "."):
        return []
    return entries


def backlog(conn: psycopg.Connection[Any], t: Tables, as_of: datetime) -> dict[str, Any]:
    """Open and pending tickets at ``as_of``, by status, priority and account.

    Read from the audit feed (every event with its instant): a ticket's status and
    priority at ``as_of`` are those its latest events up to then set.
    """
    sql = f"""
        WITH statuses AS (
            SELECT DISTINCT ON (stream_id) stream_id, account_id,
                   CASE kind WHEN 'Ticket.StatusChanged' THEN fields->>'to_status'
                             ELSE 'open' END AS status
            FROM {t(FEED)}
            WHERE at <= %(as_of)s
              AND kind IN ('Ticket.Opened', 'Ticket.StatusChanged', 'Ticket.Reopened')
            ORDER BY stream_id, version DESC
        ), priorities AS (
            SELECT DISTINCT ON (stream_id) stream_id,
                   CASE kind WHEN 'Ticket.Opened' THEN fields->>'priority'
                             ELSE fields->>'to_priority' END AS priority
            FROM {t(FEED)}
            WHERE at <= %(as_of)s
              AND kind IN ('Ticket.Opened', 'Ticket.PriorityRaised', 'Ticket.PriorityLowered')
            ORDER BY stream_id, version DESC
        )
        SELECT s.status, p.priority, s.account_id, a.name AS account_name, count(*) AS tickets
        FROM statuses s JOIN priorities p USING (stream_id)
        LEFT JOIN {t(ACCOUNTS)} a ON a.account_id = s.account_id
        WHERE s.status IN ('open', 'pending')
        GROUP BY s.status, p.priority, s.account_id, a.name
        ORDER BY s.account_id, s.status, p.priority
    """
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(sql, {"as_of": as_of}).fetchall()
    by_status: dict[str, int] = {}
    by_priority: dict[str, int] = {}
    by_account: dict[str, dict[str, Any]] = {}
    for r in rows:
        n = int(r["tickets"])
        by_status[r["status"]] = by_status.get(r["status"], 0) + n
        by_priority[r["priority"]] = by_priority.get(r["priority"], 0) + n
        account = by_account.setdefault(
            r["account_id"],
            {"account_id": r["account_id"], "name": r["account_name"], "tickets": 0},
        )
        account["tickets"] += n
    return {
        "as_of": as_of,
        "tickets": sum(by_status.values()),
        "by_status": by_status,
        "by_priority": by_priority,
        "by_account": list(by_account.values()),
    }
