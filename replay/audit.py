"""The auditor's reads, for the ways in: history, the ticket as of, backlog as of, verify."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Mapper
from psycopg_pool import ConnectionPool

from domain.errors import AsOfInTheFuture
from projections.audit_feed import NAME as FEED_VIEW
from projections.kit import Fact, Tables
from projections.reads import ticket_names
from projections.tracking import view_position
from replay.as_of import TicketAsOf, ticket_as_of
from replay.history import backlog, history, ticket_events
from replay.store import StoredAt, find_ticket_id
from replay.verify import VerifyReport, verify_log


class Audit:
    def __init__(self, pool: ConnectionPool, schema: str, mapper: Mapper[UUID]) -> None:
        self.pool = pool
        self.schema = schema
        self.mapper = mapper

    def ticket_stream(self, ref: str) -> list[StoredAt]:
        """The ticket's stored events, or nothing if there is no such ticket."""
        with self.pool.connection() as conn:
            ticket_id = find_ticket_id(conn, self.schema, ref)
            if ticket_id is None:
                return []
            return ticket_events(conn, self.schema, ticket_id, self.mapper)

    def ticket_id(self, ref: str) -> UUID | None:
        """The ticket's stream id by its id or number, even if its events were removed."""
        with self.pool.connection() as conn:
            return find_ticket_id(conn, self.schema, ref)

    def history(self, entries: list[StoredAt]) -> list[dict[str, Any]]:
        return history(entries, self.mapper)

    def ticket_as_of(
        self,
        entries: list[StoredAt],
        *,
        version: int | None,
        as_of: datetime | None,
        now: datetime,
        with_internal_notes: bool,
    ) -> tuple[TicketAsOf, dict[str, str]]:
        """The ticket's detail as it stood then, and the directory's names for its people
        (as the live detail names them)."""
        facts = [Fact(e.position, self.mapper.to_domain_event(e.stored)) for e in entries]
        found = ticket_as_of(
            facts,
            version=version,
            as_of=as_of,
            now=now,
            with_internal_notes=with_internal_notes,
        )
        with self.pool.connection() as conn:
            return found, ticket_names(conn, Tables(self.schema), found.detail)

    def backlog(self, as_of: datetime, now: datetime) -> tuple[dict[str, Any], int]:
        """The backlog and the feed position it was computed at; an instant still to
        come is refused as the ticket state refuses it (the backlog then is not known)."""
        if as_of > now:
            raise AsOfInTheFuture(as_of, now)
        with self.pool.connection() as conn:
            position = view_position(conn, self.schema, FEED_VIEW)
            return backlog(conn, Tables(self.schema), as_of), position

    def verify(self, ticket_id: UUID | None) -> VerifyReport:
        with self.pool.connection() as conn:
            return verify_log(conn, self.schema, self.mapper.transcoder, only=ticket_id)
