"""Reading the event log: its rows in position order, decoded as the application would.

The recorder (:mod:`store.eventstore`) commits notification ids in order, so
reading "after position P" never skips an event that commits later. Readers
name the event classes they want; rows of other kinds are read but never
decoded, which is most of what a view that wants few kinds saves.
"""

from __future__ import annotations

import bisect
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import psycopg
from eventsourcing.persistence import Mapper, StoredEvent

EVENTS_TABLE = "docket_events"
NOTIFY_CHANNEL = EVENTS_TABLE
"""Writers ``NOTIFY`` this channel on append."""
TAIL_EVENTS = 10_000
"""How many of the newest decoded events a :class:`LogTail` keeps."""


@dataclass(frozen=True)
class Fact:
    """One event of the log at its global position."""

    position: int
    event: Any

    @property
    def kind(self) -> str:
        return type(self.event).__qualname__

    @property
    def stream_id(self) -> UUID:
        stream: UUID = self.event.originator_id
        return stream

    @property
    def version(self) -> int:
        version: int = self.event.originator_version
        return version


def kind_of(topic: str) -> str:
    """``domain.ticket:Ticket.Opened`` → ``Ticket.Opened``."""
    return topic.rpartition(":")[2]


def kinds_of(events: Iterable[type[Any]]) -> frozenset[str]:
    """The kinds (as :func:`kind_of` reads them from topics) of some event classes."""
    return frozenset(e.__qualname__ for e in events)


def log_rows(conn: psycopg.Connection[Any], schema: str, after: int, limit: int) -> list[Any]:
    """Up to ``limit`` stored events after ``after``: (position, stream, version, topic, state)."""
    return conn.execute(
        f"SELECT notification_id, originator_id, originator_version, topic, state "
        f'FROM "{schema}".{EVENTS_TABLE} WHERE notification_id > %s '
        "ORDER BY notification_id LIMIT %s",
        (after, limit),
        prepare=True,
    ).fetchall()


def fact_of(row: Any, mapper: Mapper[UUID]) -> Fact:
    """A row of :func:`log_rows`, decoded (and upcast) as the application would."""
    n, stream, version, topic, state = row
    return Fact(int(n), mapper.to_domain_event(StoredEvent(stream, version, topic, bytes(state))))


def read_facts(
    conn: psycopg.Connection[Any],
    schema: str,
    after: int,
    limit: int,
    mapper: Mapper[UUID],
    events: Iterable[type[Any]],
    unreadable: Callable[[Any, Exception], None] | None = None,
) -> tuple[int, int, list[Fact]]:
    """Up to ``limit`` log events after ``after``, decoding only those of the ``events``
    classes.

    Answers how many events were read, the position of the last one (``after``
    when none), and the decoded facts of the wanted classes. A row that does not decode
    raises, unless ``unreadable`` is given: then it is told the row and the error, and
    the row is left out.
    """
    kinds = kinds_of(events)
    rows = log_rows(conn, schema, after, limit)
    facts = []
    for row in rows:
        if kind_of(row[3]) not in kinds:
            continue
        try:
            facts.append(fact_of(row, mapper))
        except Exception as error:  # bytes Docket did not write: the caller reports them
            if unreadable is None:
                raise
            unreadable(row, error)
    return len(rows), int(rows[-1][0]) if rows else after, facts


def log_head(conn: psycopg.Connection[Any], schema: str) -> int:
    """The highest committed position of the log."""
    row = conn.execute(f'SELECT max(notification_id) FROM "{schema}".{EVENTS_TABLE}').fetchone()
    return int(row[0]) if row and row[0] is not None else 0


class LogTail:
    """The newest events of the log, read and decoded once for every reader that shares it.

    Holds a gap-free stretch of positions (``start``, ``head``]: every event in it,
    those of classes no reader wants kept as ``None``. A reader asking for events
    after a position inside the stretch gets them from memory; one asking at the
    head reads the next events from the log, under a lock, so readers woken
    together wait for one read instead of all making it.
    """

    def __init__(self, schema: str, mapper: Mapper[UUID], events: Iterable[type[Any]]) -> None:
        self.schema = schema
        self.mapper = mapper
        self.kinds = kinds_of(events)
        self.start = self.head = 0
        self.positions: list[int] = []
        self.facts: list[Fact | None] = []
        self._lock = threading.Lock()

    def read(
        self, conn: psycopg.Connection[Any], after: int, limit: int, upto: int | None = None
    ) -> tuple[int, int, list[Fact]]:
        """Like :func:`read_facts` (all the tail's classes): events read, last position, facts.

        With ``upto``, no event after that position.
        """
        with self._lock:
            if not self.start <= after < self.head:
                self._fetch(conn, after, limit)
            if not self.start <= after < self.head:
                return 0, after, []
            first = bisect.bisect_right(self.positions, after)
            last = min(first + limit, len(self.positions))
            if upto is not None:
                last = min(last, bisect.bisect_right(self.positions, upto))
                if last <= first:
                    return 0, after, []
            return (
                last - first,
                self.positions[last - 1],
                [f for f in self.facts[first:last] if f is not None],
            )

    def _fetch(self, conn: psycopg.Connection[Any], after: int, limit: int) -> None:
        rows = log_rows(conn, self.schema, after, limit)
        if not rows:
            return
        if after != self.head:  # not contiguous with what is held: start over from here
            self.start = self.head = after
            self.positions, self.facts = [], []
        for row in rows:
            self.positions.append(int(row[0]))
            self.facts.append(fact_of(row, self.mapper) if kind_of(row[3]) in self.kinds else None)
        self.head = self.positions[-1]
        if len(self.positions) > TAIL_EVENTS:
            drop = len(self.positions) - TAIL_EVENTS
            self.start = self.positions[drop - 1]
            del self.positions[:drop], self.facts[:drop]
