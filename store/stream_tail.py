"""A stream's events after a version, with proof that the rows up to it are unchanged.

A process that keeps a stream folded up to version ``v`` (the desk's ticket cache) asks,
in one statement, for the rows written after ``v`` and for a digest of the *identity* of
the rows at versions ``1..v``: each row's ``ctid`` and ``xmin``, in version order.
PostgreSQL never changes a row in place: an ``UPDATE`` writes a new row version, with
the id of the transaction that wrote it (``xmin``) and a new place (``ctid``), and a row
deleted and written again has a new ``xmin`` too. So if the identities of versions
``1..v`` are those the caller saw when it proved their bytes, those bytes are the ones it
proved — without reading them. The digest is computed by the server over a few bytes a
row, and only the new rows cross the wire. A rewrite that moves rows without changing
them (``VACUUM FULL``, ``CLUSTER``, a restore from a dump) changes identities too: the
caller then proves the stream from its first event again, and finds it whole.

With any other recorder (the in-memory one of the unit tests) a row's identity is the
SHA-256 of its bytes, computed here.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from eventsourcing.persistence import ApplicationRecorder, StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder
from psycopg.rows import tuple_row
from psycopg.sql import SQL, Composed, Identifier


@dataclass(frozen=True)
class StreamTail:
    """What the store holds of a stream: ``count`` rows at versions ``<= after`` (the
    least being ``first``) whose identities digest to ``digest``, the rows past ``after``
    and the identity of each of those."""

    count: int
    first: int | None
    digest: str
    events: Sequence[StoredEvent]
    identities: Sequence[str]


class RowsDigest:
    """The digest :func:`read_tail` answers for rows of these identities, in order; an
    instance is never changed, :meth:`extended` makes another."""

    def __init__(self, h: Any = None, count: int = 0) -> None:
        self._h = h if h is not None else hashlib.md5(usedforsecurity=False)
        self.count = count

    def extended(self, identities: Iterable[str]) -> RowsDigest:
        h, count = self._h.copy(), self.count
        for identity in identities:
            h.update(("," + identity if count else identity).encode())
            count += 1
        return RowsDigest(h, count)

    def hexdigest(self) -> str:
        return str(self._h.hexdigest()) if self.count else ""


_STATEMENTS: dict[tuple[str, str], Composed] = {}


def _statement(schema: str, table: str) -> Composed:
    key = (schema, table)
    if key not in _STATEMENTS:
        _STATEMENTS[key] = SQL(
            "WITH prefix AS ("
            "SELECT count(*) AS n, min(originator_version) AS first, md5(string_agg("
            "ctid::text || '/' || xmin::text, ',' ORDER BY originator_version)) AS d "
            "FROM {t} WHERE originator_id = %(id)s AND originator_version <= %(after)s) "
            "SELECT p.n, p.first, p.d, e.originator_version, e.topic, e.state, "
            "e.ctid::text || '/' || e.xmin::text "
            "FROM prefix p LEFT JOIN {t} e "
            "ON e.originator_id = %(id)s AND e.originator_version > %(after)s "
            "ORDER BY e.originator_version"
        ).format(t=Identifier(schema, table))
    return _STATEMENTS[key]


def read_tail(recorder: ApplicationRecorder, stream_id: UUID, after: int) -> StreamTail:
    """The stream's rows past version ``after`` (all of them for 0), and the digest of the
    identities of those up to it."""
    if isinstance(recorder, PostgresApplicationRecorder):
        datastore = recorder.datastore
        statement = _statement(datastore.schema, recorder.events_table_name)
        with datastore.get_connection() as conn, conn.cursor(row_factory=tuple_row) as cur:
            rows: list[Any] = cur.execute(
                statement, {"id": stream_id, "after": after}, prepare=True
            ).fetchall()
        new = [r for r in rows if r[3] is not None]
        return StreamTail(
            int(rows[0][0]),
            rows[0][1],
            str(rows[0][2] or ""),
            [StoredEvent(stream_id, int(r[3]), str(r[4]), bytes(r[5])) for r in new],
            [str(r[6]) for r in new],
        )
    stored = recorder.select_events(stream_id)
    prefix = [s for s in stored if s.originator_version <= after]
    tail = [s for s in stored if s.originator_version > after]
    return StreamTail(
        len(prefix),
        min((s.originator_version for s in prefix), default=None),
        RowsDigest().extended(_identity(s) for s in prefix).hexdigest(),
        tail,
        [_identity(s) for s in tail],
    )


def _identity(stored: StoredEvent) -> str:
    return hashlib.sha256(stored.state).hexdigest()
