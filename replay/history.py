"""A ticket's history as the log holds it, and its write model as it stood at any point.

The write model "as of" a version or an instant is always the fold of the stored
events up to that point, through the same aggregate code that made them
(upcasting old versions on the way), so it cannot disagree with the log. What
people saw then, the ticket detail as of, is :mod:`replay.as_of`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import psycopg
from eventsourcing.persistence import Mapper
from psycopg.rows import dict_row

from domain.chain import canonical
from domain.stamp import Stamp
from projections.audit_feed import ENVELOPE, FEED, plain
from projections.directory import ACCOUNTS
from projections.kit import Tables
from replay.store import StoredAt, stream

TICKET_TOPIC = "domain.ticket:Ticket"
TEXT_STAMP_FIELDS = ("actor_id", "actor_kind", "via", "correlation_id", "causation_id")


@dataclass(frozen=True)
class Unreadable:
    """A stored event that does not read back as the event Docket wrote."""

    version: int
    position: int
    reason: str


class UnreadableEvents(Exception):
    """Some of a stream's stored events do not decode: what could be read, and what not."""

    def __init__(self, readable: list[dict[str, Any]], unreadable: list[Unreadable]) -> None:
        versions = ", ".join(str(u.version) for u in unreadable)
        super().__init__(f"versions {versions} do not decode")
        self.readable = readable
        self.unreadable = unreadable


def history(entries: Sequence[StoredAt], mapper: Mapper[UUID]) -> list[dict[str, Any]]:
    """Every event of a stream in order: who, through which channel, when, why, what.

    Raises :class:`UnreadableEvents` (with every event that did read) when a stored
    event's bytes do not decode into the event they claim to be.
    """
    out = []
    unreadable = []
    for entry in entries:
        try:
            out.append(read_event(entry, mapper))
        except Exception as error:  # bytes someone other than Docket wrote
            reason = f"undecodable stored bytes: {type(error).__name__}: {error}"[:300]
            unreadable.append(Unreadable(entry.stored.originator_version, entry.position, reason))
    if unreadable:
        raise UnreadableEvents(out, unreadable)
    return out


def read_event(entry: StoredAt, mapper: Mapper[UUID]) -> dict[str, Any]:
    """One stored event as the history shows it; ``ValueError`` if it is not in the shape
    Docket writes (its stamp, instant and hashes of the kinds they always are)."""
    e: Any = mapper.to_domain_event(entry.stored)
    stamp = getattr(e, "stamp", None)
    texts = (
        [getattr(stamp, name, None) for name in TEXT_STAMP_FIELDS]
        + [getattr(e, "prev_hash", None), getattr(e, "event_hash", None)]
    )  # fmt: skip
    if not isinstance(stamp, Stamp) or not all(isinstance(t, str) for t in texts):
        raise ValueError("its stamp or hashes are not of the kinds Docket writes")
    if not isinstance(getattr(e, "timestamp", None), datetime):
        raise ValueError("its instant is not an instant")
    return {
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
                             WHEN 'Ticket.MergedInto' THEN 'merged'
                             ELSE 'open' END AS status
            FROM {t(FEED)}
            WHERE at <= %(as_of)s
              AND kind IN ('Ticket.Opened', 'Ticket.StatusChanged', 'Ticket.Reopened',
                           'Ticket.MergedInto')
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
