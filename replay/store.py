"""Reading the event store as it is: streams, positions and raw bytes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import psycopg
from eventsourcing.persistence import StoredEvent

from domain.numbers import TicketNumber, format_number, parse_number
from projections.ticket_detail import DETAILS
from store.log import EVENTS_TABLE


@dataclass(frozen=True)
class StoredAt:
    """A stored event and its position in the log."""

    position: int
    stored: StoredEvent


def events_table(schema: str) -> str:
    return f'"{schema}".{EVENTS_TABLE}'


def stream(conn: psycopg.Connection[Any], schema: str, stream_id: UUID) -> list[StoredAt]:
    rows = conn.execute(
        f"SELECT notification_id, originator_id, originator_version, topic, state "
        f"FROM {events_table(schema)} WHERE originator_id = %s ORDER BY originator_version",
        (stream_id,),
    ).fetchall()
    return [StoredAt(int(r[0]), StoredEvent(r[1], int(r[2]), r[3], bytes(r[4]))) for r in rows]


def every_event(
    conn: psycopg.Connection[Any], schema: str, *, order: str = "position", batch: int = 5000
) -> Iterator[StoredAt]:
    """Every stored event, by position or by stream, read through a server-side cursor."""
    by = "notification_id" if order == "position" else "originator_id, originator_version"
    with conn.transaction(), conn.cursor(name="docket_replay_walk") as cur:
        cur.itersize = batch
        cur.execute(
            f"SELECT notification_id, originator_id, originator_version, topic, state "
            f"FROM {events_table(schema)} ORDER BY {by}"
        )
        for r in cur:
            yield StoredAt(int(r[0]), StoredEvent(r[1], int(r[2]), r[3], bytes(r[4])))


def find_ticket_id(conn: psycopg.Connection[Any], schema: str, ref: str) -> UUID | None:
    """The ticket's stream id, from its id or from the claim of its number."""
    number = parse_number(ref)
    if number is None:
        try:
            return UUID(ref)
        except ValueError:
            return None
    claim = stream(conn, schema, TicketNumber.id_for(format_number(number)))
    try:
        decoded = json.loads(claim[0].stored.state) if claim else None
    except (ValueError, RecursionError):  # a damaged claim: the views still know the number
        decoded = None
    if isinstance(decoded, dict):
        try:
            return UUID(str(decoded.get("ticket_id")))
        except ValueError:
            pass
    return numbered_in_views(conn, schema, format_number(number))


def numbered_in_views(conn: psycopg.Connection[Any], schema: str, number: str) -> UUID | None:
    """The ticket the detail view knows by that number (its claim gone or damaged)."""
    table = f'"{schema}".{DETAILS}'
    found = conn.execute("SELECT to_regclass(%s) IS NOT NULL", (table,)).fetchone()
    if not found or not found[0]:
        return None
    row = conn.execute(f"SELECT ticket_id FROM {table} WHERE number = %s", (number,)).fetchone()
    return UUID(str(row[0])) if row else None
