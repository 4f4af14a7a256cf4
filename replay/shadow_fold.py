"""Folding a stretch of the log into a view's shadow tables, in one process.

Each view writes on a connection of its own, a few at a time, while one thread
reads and decodes the next batch; every view commits each batch with its shadow
tracking row. :mod:`replay.spread` runs this in several processes at once, each
with a group of the views; :mod:`replay.rebuild` builds on both.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import psycopg
from eventsourcing.persistence import Mapper

from projections.kit import Tables, View
from projections.tracking import TRACKING_TABLE
from store.log import Fact, kind_of, read_facts

SHADOW = "__shadow"
RETRIED = (
    psycopg.errors.DeadlockDetected,
    psycopg.errors.LockNotAvailable,
    psycopg.OperationalError,
)
"""Errors of the database, not of the log: they stop the rebuild (or its swap is tried
again), never count as an event that cannot be folded."""
APPLY_THREADS = 3
"""Views writing a batch at once during the bulk of a rebuild."""


@dataclass
class Progress:
    events: int = 0
    position: int = 0
    head: int = 0
    seconds: float = 0.0

    @property
    def rate(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0


@dataclass
class RebuildReport:
    views: list[str]
    events: int = 0
    seconds: float = 0.0
    position: int = 0
    differences: dict[str, list[str]] = field(default_factory=dict)
    failures: dict[str, list[str]] = field(default_factory=dict)
    """Per view, the events it could not fold (left out), with their positions."""
    unreadable: dict[int, str] = field(default_factory=dict)
    """Stored rows that do not decode, by position (left out of every view)."""
    swapped: bool = False

    @property
    def rate(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0

    @property
    def damaged(self) -> bool:
        return bool(self.unreadable) or any(self.failures.values())

    def unreadable_row(self, row: Any, error: Exception) -> None:
        position, stream, version, topic, _ = row
        self.unreadable[int(position)] = (
            f"position {position}: {kind_of(topic)} of stream {stream} version {version} "
            f"does not decode ({type(error).__name__}: {error})"[:500]
        )


def bulk(
    url: str,
    conn: psycopg.Connection[Any],
    schema: str,
    views: Sequence[View],
    shadow: Tables,
    batch_size: int,
    mapper: Mapper[UUID],
    report: RebuildReport,
    show: Callable[[int], None],
    *,
    start: int,
    target: int,
) -> int:
    """Fold the log after ``start`` into the shadows up to ``target`` (or to its head, if
    that is nearer); the position reached.

    Each view writes on a connection of its own, ``APPLY_THREADS`` at a time, while
    this thread reads and decodes the next batch: PostgreSQL's work on one view's
    rows overlaps Python's on another's. Every view commits each batch with its
    shadow tracking row, and all finish a batch before any starts the next.
    """
    wanted = set().union(*(v.handles for v in views))

    def apply(writer: psycopg.Connection[Any], view: View, facts: list[Fact], at: int) -> None:
        with writer.transaction():
            apply_to_shadow(writer, schema, view, shadow, facts, at, report.failures[view.name])

    def limit_at(position: int) -> int:  # never past target: positions only grow
        return max(0, min(batch_size, target - position))

    def read_from(position: int, limit: int) -> tuple[int, int, list[Fact]]:
        if not limit:
            return 0, position, []
        return read_facts(conn, schema, position, limit, mapper, wanted, report.unreadable_row)

    writers = [psycopg.connect(url, autocommit=True) for _ in views]
    try:
        with ThreadPoolExecutor(APPLY_THREADS, thread_name_prefix="docket-rebuild") as pool:
            position, limit = start, limit_at(start)
            read, upto, facts = read_from(position, limit)
            while read:
                work = [
                    pool.submit(apply, writer, v, facts, upto)
                    for writer, v in zip(writers, views, strict=True)
                ]
                position, count, more = upto, read, read == limit and upto < target
                if more:  # the next batch, read and decoded while the views write this one
                    limit = limit_at(upto)
                    read, upto, facts = read_from(upto, limit)
                for done in work:
                    done.result()
                report.events += count
                show(position)
                if not more:
                    break
        return position
    finally:
        for writer in writers:
            writer.close()


def apply_to_shadow(
    conn: psycopg.Connection[Any],
    schema: str,
    view: View,
    shadow: Tables,
    facts: Sequence[Fact],
    position: int,
    failures: list[str],
) -> None:
    """The facts ``view`` handles into its shadow tables, and its shadow tracking moved to
    ``position``; within the caller's transaction.

    A batch the view cannot fold is folded again one event at a time, and each event
    that still fails is left out and put in ``failures`` with its position.
    """
    handles = view.handles  # View.wants, without a call per event per view
    mine = [f for f in facts if type(f.event) in handles]
    try:
        with conn.transaction():  # a savepoint: a failed batch leaves nothing behind
            if mine:
                view.apply(conn, shadow, mine)
    except RETRIED:
        raise
    except Exception:
        for fact in mine:
            try:
                with conn.transaction():
                    view.apply(conn, shadow, [fact])
            except RETRIED:
                raise
            except Exception as error:  # a damaged log: report the event, fold the rest
                failures.append(
                    f"position {fact.position}: {fact.kind} of stream {fact.stream_id} "
                    f"version {fact.version} cannot be folded ({type(error).__name__}: "
                    f"{error})"[:500]
                )
    conn.execute(
        f'UPDATE "{schema}".{TRACKING_TABLE} SET position = %s WHERE view = %s',
        (position, view.name + SHADOW),
    )
