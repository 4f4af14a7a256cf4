"""What a view is made of: its tables' names, the facts it folds, and how it says so.

A view module defines a :class:`View`: the event classes it handles, the ones
it leaves out on purpose, its tables, and how a batch of :class:`Fact` changes
them. The runner (:mod:`projections.runner`) feeds it; nothing here reads the log.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any
from uuid import UUID

import psycopg
from psycopg.abc import Params
from psycopg.rows import dict_row

from store.log import Fact

__all__ = [
    "EventClass",
    "Fact",
    "Layout",
    "Tables",
    "View",
    "clean_text",
    "each_fact",
    "fetch_all",
    "fetch_one",
    "rows_by_ticket",
]

EventClass = type[Any]
"""An event class of the domain, e.g. ``Ticket.Opened``."""


def clean_text(value: str) -> str:
    """``value`` as PostgreSQL ``text`` can hold it: no NUL, no lone surrogates."""
    if value.isascii():  # most text: no surrogate to look for (and isascii costs next to nothing)
        return value.replace("\x00", "\ufffd") if "\x00" in value else value
    if "\x00" in value:
        value = value.replace("\x00", "\ufffd")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        value = value.encode("utf-8", "replace").decode("utf-8")
    return value


def fetch_all(
    conn: psycopg.Connection[Any], query: str, params: Params = ()
) -> list[dict[str, Any]]:
    """Every row a read of a view finds, each by its column names (what reads answer)."""
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(query, params).fetchall()


def fetch_one(
    conn: psycopg.Connection[Any], query: str, params: Params = ()
) -> dict[str, Any] | None:
    """The first row a read of a view finds, by its column names, or None."""
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(query, params).fetchone()


def rows_by_ticket(
    conn: psycopg.Connection[Any],
    table: str,
    columns: Iterable[str],
    ids: Sequence[UUID],
    *,
    where: str = "",
) -> dict[UUID, dict[str, Any]]:
    """The rows of ``table`` (its qualified name) of the tickets ``ids``, by ticket id:
    what a view loads before it folds a batch of their events."""
    also = f" AND {where}" if where else ""
    found = fetch_all(
        conn,
        f"SELECT {', '.join(columns)} FROM {table} WHERE ticket_id = ANY(%s){also}",
        (list(ids),),
    )
    return {row["ticket_id"]: row for row in found}


class Tables:
    """Qualified table names of one view in one schema (a suffix builds shadow copies)."""

    def __init__(self, schema: str, suffix: str = "") -> None:
        self.schema = schema
        self.suffix = suffix

    def __call__(self, name: str) -> str:
        return f'"{self.schema}"."{name}{self.suffix}"'

    def index(self, name: str) -> str:
        return f'"{name}{self.suffix}"'

    def create(self, conn: psycopg.Connection[Any], columns: Mapping[str, str]) -> None:
        """Each table of ``columns`` (its name: its columns and constraints) not there yet."""
        for name, definition in columns.items():
            conn.execute(f"CREATE TABLE IF NOT EXISTS {self(name)} ({definition})")

    def create_index(
        self, conn: psycopg.Connection[Any], table: str, suffix: str, on: str
    ) -> None:
        """The index ``table + suffix`` ``on`` its columns (``on`` may begin with USING or
        end with WHERE), if not there yet."""
        conn.execute(
            f"CREATE INDEX IF NOT EXISTS {self.index(table + suffix)} ON {self(table)} {on}"
        )


Apply = Callable[[psycopg.Connection[Any], Tables, Sequence[Fact]], None]
"""How a batch of facts changes a view's tables (:attr:`View.apply`)."""


def each_fact(apply_fact: Callable[[psycopg.Cursor[Any], Tables, Fact], None]) -> Apply:
    """The batch ``apply`` of a view whose rows each fact changes by a statement or two:
    ``apply_fact`` takes the facts in order, all on one cursor. (A partial, not a closure:
    a rebuild hands its views to other processes.)"""
    return partial(_each_fact, apply_fact)


def _each_fact(
    apply_fact: Callable[[psycopg.Cursor[Any], Tables, Fact], None],
    conn: psycopg.Connection[Any],
    t: Tables,
    facts: Sequence[Fact],
) -> None:
    with conn.cursor() as cur:
        for fact in facts:
            apply_fact(cur, t, fact)


@dataclass(frozen=True)
class Layout:
    """A view's tables, each by its name with its columns and constraints, and the indexes
    on them (``(table, suffix, on)``, see :meth:`Tables.create_index`)."""

    columns: Mapping[str, str]
    indexes: Sequence[tuple[str, str, str]] = ()

    @property
    def tables(self) -> tuple[str, ...]:
        """The tables' names (a :class:`View`'s ``tables``)."""
        return tuple(self.columns)

    def create(self, conn: psycopg.Connection[Any], t: Tables) -> None:
        """Each table and index not there yet (a :class:`View`'s ``create_tables``)."""
        t.create(conn, self.columns)
        for table, suffix, on in self.indexes:
            t.create_index(conn, table, suffix, on)

    def view(self, name: str, handles: Iterable[EventClass], apply: Apply) -> View:
        """The view ``name`` kept in these tables, fed ``handles``."""
        return View(name, frozenset(handles), self.create, apply, self.tables)


@dataclass(frozen=True)
class View:
    """A read model: the events it handles, its tables, and how a batch changes them."""

    name: str
    handles: frozenset[EventClass]
    """The event classes the view is fed (exactly these: a subclass is another event)."""
    create_tables: Callable[[psycopg.Connection[Any], Tables], None]
    apply: Callable[[psycopg.Connection[Any], Tables, Sequence[Fact]], None]
    tables: tuple[str, ...]
    """Every table the view owns (a rebuild builds shadow copies of these)."""
    prune: Callable[[psycopg.Connection[Any], Tables, int], int] | None = None
    """Drop history no reader can still ask for: rows superseded at or before a position."""
    shape: int = 1
    """The version of the tables' layout. A view found in an older shape is dropped and
    folded again from position 0 (its events are all in the log)."""
    ignores: frozenset[EventClass] = frozenset()
    """Event classes of the streams it folds that the view leaves out on purpose (see
    ``tests/unit/test_every_view_handles_every_event.py``)."""

    def wants(self, fact: Fact) -> bool:
        return type(fact.event) in self.handles
