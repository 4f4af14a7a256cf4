"""The audit feed: every event of the log, in global order, as plain data.

Staff integrations read it as a change feed (``GET /v1/feed``) resumable by
position. Each row records who did what, through which channel, when, and why
(correlation and causation ids), and whether only staff may read it (internal
notes). Ticket rows carry the ticket's number and account for filtering.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import psycopg
from psycopg.types.json import Jsonb

from domain.account import Account
from domain.article import HelpArticle, HelpSession
from domain.base import ChainedAggregate
from domain.contact import ContactRequest
from domain.custom_fields import TicketFieldBook
from domain.macro import Macro
from domain.numbers import TicketNumber
from domain.saved_view import SavedView
from domain.sla_policy import SlaPolicyBook
from domain.staff import StaffMember, SupportGroup
from domain.ticket import Ticket
from projections.kit import EventClass, Fact, Tables, View, clean_text, fetch_all
from store.bulk import copy_rows

NAME = "audit_feed"
FEED = "audit_feed"
STREAMS = "audit_feed_streams"
STAFF_ONLY_IN_FEED = frozenset(
    {
        Ticket.InternalNoteAdded,
        Ticket.NoteAttachmentAdded,
        Ticket.SlaBreached,
        Ticket.CallbackRequested,
        Ticket.TagsAdded,
        Ticket.TagsRemoved,
        Macro.Created,  # agents' personal macros are theirs
        Macro.Changed,
        Macro.Archived,
        Ticket.AutomationFired,
        ContactRequest.Received,
        ContactRequest.Answered,
        ContactRequest.TurnedIntoTicket,
        SavedView.Saved,
        SavedView.Changed,
        SavedView.Removed,
    }
)
"""Events only note readers get from the feed (a note's file with the note); a callback
request carries a phone number (that one was made, and how it went, is not kept from
them), tags are staff-only, a contact request the name and address of someone who may be
no customer at all, and a saved view is staff work (an agent's own views are theirs, and
the feed does not name them to analysts)."""
FEED_COLUMNS = (
    "position", "stream_id", "version", "kind", "ticket_number", "account_id", "at", "actor_id",
    "actor_kind", "via", "correlation_id", "causation_id", "staff_only", "prev_hash",
    "event_hash", "fields",
)  # fmt: skip
ENVELOPE = frozenset(
    {
        "originator_id",
        "originator_version",
        "originator_topic",
        "timestamp",
        "stamp",
        "prev_hash",
        "event_hash",
    }
)


def create_tables(conn: psycopg.Connection[Any], t: Tables) -> None:
    t.create(
        conn,
        {
            FEED: """
                position bigint PRIMARY KEY,
                stream_id uuid NOT NULL,
                version integer NOT NULL,
                kind text NOT NULL,
                ticket_number text,
                account_id text,
                at timestamptz NOT NULL,
                actor_id text NOT NULL,
                actor_kind text NOT NULL,
                via text NOT NULL,
                correlation_id text NOT NULL,
                causation_id text NOT NULL,
                staff_only boolean NOT NULL,
                prev_hash text NOT NULL,
                event_hash text NOT NULL,
                fields jsonb NOT NULL
            """,
            STREAMS: """
                stream_id uuid PRIMARY KEY,
                ticket_number text,
                account_id text
            """,
        },
    )
    t.create_index(conn, FEED, "_stream", "(stream_id, version)")
    t.create_index(conn, FEED, "_cause", "(actor_id, causation_id) WHERE causation_id <> ''")


def plain(value: Any) -> Any:
    """A JSON-ready copy of an event field."""
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, (UUID, datetime)):
        return str(value) if isinstance(value, UUID) else value.isoformat()
    if isinstance(value, dict):
        return {clean_text(str(k)): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [plain(v) for v in value]
    return value


def dump_fields(obj: Any) -> str:
    return json.dumps(obj, default=str)


def apply(conn: psycopg.Connection[Any], t: Tables, facts: Sequence[Fact]) -> None:
    ids = list({f.stream_id for f in facts})
    known: dict[UUID, tuple[str | None, str | None]] = {
        row[0]: (row[1], row[2])
        for row in conn.execute(
            f"SELECT stream_id, ticket_number, account_id FROM {t(STREAMS)} "
            "WHERE stream_id = ANY(%s)",
            (ids,),
        ).fetchall()
    }
    new_streams: list[tuple[UUID, str | None, str]] = []
    rows = []
    for fact in facts:
        e = fact.event
        match e:
            case Ticket.Opened():
                known[fact.stream_id] = (e.number, e.account_id)
                new_streams.append((fact.stream_id, e.number, e.account_id))
            case Account.Opened():
                known[fact.stream_id] = (None, str(fact.stream_id))
                new_streams.append((fact.stream_id, None, str(fact.stream_id)))
        number, account = known.get(fact.stream_id, (None, None))
        stamp = e.stamp
        fields = {k: plain(v) for k, v in vars(e).items() if k not in ENVELOPE}
        rows.append(
            (
                fact.position,
                fact.stream_id,
                fact.version,
                fact.kind,
                number,
                account,
                e.timestamp,
                clean_text(stamp.actor_id),
                stamp.actor_kind,
                stamp.via,
                clean_text(stamp.correlation_id),
                clean_text(stamp.causation_id),
                type(e) in STAFF_ONLY_IN_FEED,
                e.prev_hash,
                e.event_hash,
                Jsonb(fields, dumps=dump_fields),
            )
        )
    with conn.cursor() as cur:
        if new_streams:
            cur.executemany(
                f"INSERT INTO {t(STREAMS)} (stream_id, ticket_number, account_id) "
                "VALUES (%s, %s, %s) ON CONFLICT (stream_id) DO NOTHING",
                new_streams,
            )
        copy_rows(cur, t(FEED), FEED_COLUMNS, rows)


AGGREGATES = (
    Ticket,
    Account,
    StaffMember,
    SupportGroup,
    TicketNumber,
    SlaPolicyBook,
    TicketFieldBook,
    HelpArticle,
    HelpSession,
    ContactRequest,
    SavedView,
    Macro,
)
"""Every kind of stream in the log: the feed and the log's seals take every one of their events."""


def _every_event() -> frozenset[EventClass]:
    return frozenset(
        value
        for aggregate in AGGREGATES
        for value in vars(aggregate).values()
        if isinstance(value, type) and issubclass(value, ChainedAggregate.Event)
    )


EVERY_EVENT = _every_event()
"""The event classes of every aggregate (their ``Created`` and ``Event`` bases too: an
aggregate without a named creation event records its ``Created``)."""
# shape 2: the policy book's, articles' and help sessions' events too
VIEW = View(NAME, EVERY_EVENT, create_tables, apply, (FEED, STREAMS), shape=2)


@dataclass(frozen=True)
class FeedPage:
    events: list[dict[str, Any]]
    next_after: int


def events_after(
    conn: psycopg.Connection[Any],
    t: Tables,
    *,
    after: int,
    limit: int,
    view_position: int,
    with_staff_only: bool,
) -> FeedPage:
    """Events after ``after`` up to the view's position; the cursor to resume from.

    A short page means everything up to ``view_position`` has been read (events a
    role may not see are skipped over, not left behind).
    """
    hidden = "" if with_staff_only else "AND NOT staff_only"
    rows = fetch_all(
        conn,
        f"SELECT position, stream_id, version, kind, ticket_number, account_id, at, "
        f"actor_id, actor_kind, via, correlation_id, causation_id, fields "
        f"FROM {t(FEED)} WHERE position > %s AND position <= %s {hidden} "
        "ORDER BY position LIMIT %s",
        (after, view_position, limit),
    )
    if len(rows) == limit:
        return FeedPage(rows, int(rows[-1]["position"]))
    return FeedPage(rows, max(after, view_position))


def caused_by(
    conn: psycopg.Connection[Any],
    t: Tables,
    actor_id: str,
    causation_id: str,
    *,
    column: str = "causation_id",
) -> list[dict[str, Any]]:
    """Per ticket, the events an actor recorded for one cause (e.g. an Idempotency-Key).

    Only ticket streams: filing also claims a number, under the same cause. A write whose
    events name another cause (a macro's) keeps its key as ``correlation_id``: its
    ``column``."""
    if column not in ("causation_id", "correlation_id"):
        raise ValueError(column)
    return fetch_all(
        conn,
        f"SELECT stream_id, ticket_number, max(version) AS version, "
        f"max(position) AS position, bool_or(kind = %s) AS opened "
        f"FROM {t(FEED)} WHERE actor_id = %s AND {column} = %s "
        "AND kind LIKE %s GROUP BY stream_id, ticket_number",
        (
            Ticket.Opened.__qualname__,
            clean_text(actor_id),
            clean_text(causation_id),
            f"{Ticket.__qualname__}.%",
        ),
    )
