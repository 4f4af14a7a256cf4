"""The event store: eventsourcing's PostgreSQL recorder with group commit.

eventsourcing's default recorder takes ``LOCK TABLE ... IN EXCLUSIVE MODE`` for
every save, so saves queue up one transaction (and one WAL flush) at a time. Its
db-functions mode drops the lock, but then notification ids can commit out of
order and a reader that tails "after id N" may skip an event for ever.

:class:`GroupCommitRecorder` keeps the ordering guarantee and removes the queue:

* **Gap-safe.** Each append transaction first takes a transaction-scoped advisory
  lock, so notification ids are drawn and committed by one transaction at a time,
  across every process that writes the same table. An id is never visible before
  a smaller id that will still commit (burnt ids of rolled-back transactions are
  never filled in, so readers never wait on them).
* **Fast.** Concurrent saves in one process share a transaction: the first saver
  becomes the leader and writes everything queued behind it in one INSERT and one
  commit, while the others wait for their ids. A save whose events conflict with
  another (the same aggregate version) fails alone: the batch is retried save by
  save, so the others still commit.
* **Safe to start side by side.** Creating the table, its type and its insert function
  takes an advisory lock first: ``CREATE OR REPLACE FUNCTION`` rewrites the function's
  catalogue row every time, and two processes doing it at once (the workers of
  ``docket serve --workers N``, or two writers started together) would fail one of
  them with "tuple concurrently updated".
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.persistence import (
    DatetimeAsISO,
    DecimalAsStr,
    IntegrityError,
    JSONTranscoder,
    Mapper,
    StoredEvent,
    Transcoding,
    UUIDAsHex,
)
from eventsourcing.postgres import (
    PostgresApplicationRecorder,
    PostgresDatastore,
    PostgresFactory,
)
from psycopg.errors import DuplicateObject
from psycopg.sql import SQL, Identifier, Literal

from domain.stamp import Stamp


@dataclass
class _Append:
    """One save waiting for its notification ids."""

    events: Sequence[StoredEvent]
    done: bool = False
    ids: list[int] = field(default_factory=list)
    error: BaseException | None = None


class GroupCommitRecorder(PostgresApplicationRecorder):
    max_batch_events = 2000

    def __init__(self, datastore: PostgresDatastore, *, events_table_name: str = "stored_events"):
        super().__init__(datastore, events_table_name=events_table_name)
        qualified = f"{datastore.schema}.{events_table_name}"
        digest = hashlib.sha256(f"docket-append:{qualified}".encode()).digest()
        self.append_lock_key = int.from_bytes(digest[:8], "big", signed=True)
        digest = hashlib.sha256(f"docket-create:{qualified}".encode()).digest()
        self.create_lock_key = int.from_bytes(digest[:8], "big", signed=True)
        # One statement, so an append is one round trip: the CTE takes the lock
        # before any row (and so any notification id) is produced, and the lock
        # is held until the statement's implicit transaction has committed.
        self.group_insert_statement = SQL(
            "WITH append_lock AS MATERIALIZED ("
            "SELECT pg_advisory_xact_lock(%s), pg_notify({channel}, '')) "
            "INSERT INTO {schema}.{table} (originator_id, originator_version, topic, state) "
            "SELECT e.i, e.v, e.t, e.s FROM append_lock, unnest("
            "%s::{id_type}[], %s::bigint[], %s::text[], %s::bytea[]) "
            "WITH ORDINALITY AS e(i, v, t, s, n) ORDER BY e.n "
            "RETURNING notification_id"
        ).format(
            channel=Literal(self.channel_name),
            schema=Identifier(datastore.schema),
            table=Identifier(events_table_name),
            id_type=SQL(datastore.originator_id_type),
        )
        self.inside_transaction: Callable[[], None] | None = None
        """Called inside each append transaction before commit (tests use it)."""
        self._queue: list[_Append] = []
        self._turn = threading.Condition()
        self._leading = False

    def create_table(self) -> None:
        """eventsourcing's statements in one transaction behind one lock, a ``CREATE
        TYPE`` that already exists skipped inside its own savepoint (it has no ``IF NOT
        EXISTS``)."""
        with self.datastore.transaction(commit=True) as curs:
            curs.execute("SELECT pg_advisory_xact_lock(%s)", (self.create_lock_key,))
            for statement in self.sql_create_statements:
                if "CREATE TYPE" in statement.as_string():
                    try:
                        with curs.connection.transaction():
                            curs.execute(statement, prepare=False)
                    except DuplicateObject:
                        pass
            self._create_table(curs)
        self.datastore.register_type_adapters()

    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int]:
        if not stored_events:
            return []
        append = _Append(stored_events)
        with self._turn:
            self._queue.append(append)
        while True:
            with self._turn:
                while not append.done and self._leading:
                    self._turn.wait()
                if append.done:
                    break
                self._leading = True
                batch, self._queue = self._take_batch(self._queue)
            try:
                self._commit(batch)
            finally:
                with self._turn:
                    self._leading = False
                    self._turn.notify_all()
        if append.error is not None:
            raise append.error
        return append.ids

    def _take_batch(self, queue: list[_Append]) -> tuple[list[_Append], list[_Append]]:
        size = 0
        for i, append in enumerate(queue):
            size += len(append.events)
            if size > self.max_batch_events and i > 0:
                return queue[:i], queue[i:]
        return queue, []

    def _commit(self, batch: list[_Append]) -> None:
        try:
            ids = self._write([e for append in batch for e in append.events])
        except IntegrityError as error:
            if len(batch) == 1:
                batch[0].error = error
                batch[0].done = True
            else:
                for append in batch:  # find the save that conflicts; commit the rest
                    self._commit([append])
            return
        except BaseException as error:
            for append in batch:
                append.error = error
                append.done = True
            return
        start = 0
        for append in batch:
            append.ids = ids[start : start + len(append.events)]
            append.done = True
            start += len(append.events)

    def _write(self, events: Sequence[StoredEvent]) -> list[int]:
        columns: tuple[list[Any], list[int], list[str], list[bytes]] = ([], [], [], [])
        for e in events:
            columns[0].append(e.originator_id)
            columns[1].append(e.originator_version)
            columns[2].append(e.topic)
            columns[3].append(e.state)
        params = (self.append_lock_key, *columns)
        with self.datastore.get_connection() as conn:
            if self.inside_transaction is None:
                rows = conn.execute(self.group_insert_statement, params, prepare=True).fetchall()
            else:
                with conn.transaction():
                    rows = conn.execute(self.group_insert_statement, params).fetchall()
                    self.inside_transaction()
        return [row["notification_id"] for row in rows]


class DocketFactory(PostgresFactory):
    """eventsourcing's PostgreSQL persistence with the group-commit recorder."""

    application_recorder_class = GroupCommitRecorder


class StampAsDict(Transcoding):
    type = Stamp
    name = "stamp"

    def encode(self, obj: Stamp) -> dict[str, str]:
        return {
            "actor_id": obj.actor_id,
            "actor_kind": obj.actor_kind,
            "via": obj.via,
            "at": obj.at.isoformat(),
            "correlation_id": obj.correlation_id,
            "causation_id": obj.causation_id,
        }

    def decode(self, data: dict[str, str]) -> Stamp:
        return Stamp(
            actor_id=data["actor_id"],
            actor_kind=data["actor_kind"],
            via=data["via"],
            at=datetime.fromisoformat(data["at"]),
            correlation_id=data["correlation_id"],
            causation_id=data["causation_id"],
        )


def register_docket_transcodings(transcoder: JSONTranscoder) -> None:
    transcoder.register(StampAsDict())


def docket_mapper() -> Mapper[UUID]:
    """Decodes stored events (upcasting old versions) exactly as the application does."""
    transcoder = JSONTranscoder()
    transcoder.register(UUIDAsHex())
    transcoder.register(DecimalAsStr())
    transcoder.register(DatetimeAsISO())
    register_docket_transcodings(transcoder)
    return Mapper(transcoder=transcoder)
