"""The deadline watch: puts SLA breaches on record as their due instants pass.

It runs beside the projection workers. Each sweep asks the SLA view
(:mod:`projections.sla`) which tickets have a clock past due with no breach on
record, and asks the desk to record them. The ticket itself decides (its own
clocks, as of the sweep's instant) and records each clock's breach once, ever:
a second watch, a restart, or a view still behind all end in "nothing to
record", never in a second ``SlaBreached``. Breaches that fell due while no
watch ran are found by the first sweep after start, since the view keeps
every clock until its breach is on record.

Between sweeps it sleeps until the soonest due instant still ahead, at most
``interval`` (new clocks fall due no sooner than their shortest target, a
minute or more away; a clock made overdue by a priority change, or stopped
late, waits at most ``interval`` to be put on record).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import psycopg

from desk.service import SupportDesk
from domain.errors import DocketError, NothingChanged
from domain.stamp import Stamp
from projections.kit import Tables
from projections.sla import CLOCKS, breaching
from store.background import Background

log = logging.getLogger("docket.deadlines")
ACTOR = "sla-deadlines"


def system_now() -> datetime:
    return datetime.now(UTC)


class DeadlineWatch(Background):
    thread_name = "docket-deadlines"

    def __init__(
        self,
        desk: SupportDesk,
        url: str,
        schema: str,
        *,
        clock: Callable[[], datetime] = system_now,
        interval: float = 10.0,
        batch: int = 200,
    ) -> None:
        self.desk = desk
        self.url = url
        self.tables = Tables(schema)
        self.clock = clock
        self.interval = interval
        self.batch = batch
        self.recorded = 0
        self.last_error: str | None = None
        super().__init__()

    def connect(self) -> psycopg.Connection[Any]:
        return psycopg.connect(
            self.url, autocommit=True, connect_timeout=5, application_name="docket-deadlines"
        )

    def sweep(self, conn: psycopg.Connection[Any] | None = None) -> int:
        """Record every breach due by now; answers how many tickets got breaches on record."""
        if conn is None:
            with self.connect() as own:
                return self.sweep(own)
        total = 0
        while True:
            now = self.clock()
            tickets = breaching(conn, self.tables, now, self.batch)
            recorded = sum(self._record(ticket_id, now) for ticket_id in tickets)
            total += recorded
            if len(tickets) < self.batch or recorded == 0:
                break
        self.recorded += total
        return total

    def _record(self, ticket_id: UUID, now: datetime) -> int:
        stamp = Stamp(ACTOR, "system", "system", now, causation_id=f"sla-deadline:{ticket_id}")
        try:
            self.desk.record_sla_breaches(ticket_id, stamp=stamp)
        except NothingChanged:  # recorded by another watch, or the ticket answered in time
            return 0
        except DocketError as refused:
            log.warning("deadline watch: ticket %s: %s", ticket_id, refused)
            return 0
        return 1

    def seconds_to_next_due(self, conn: psycopg.Connection[Any]) -> float:
        row = conn.execute(
            f"SELECT min(due_at) FROM {self.tables(CLOCKS)} "
            "WHERE NOT breach_recorded AND running AND stopped_at IS NULL "
            "AND breached_at IS NULL AND due_at > %s",
            (self.clock(),),
        ).fetchone()
        if row is None or row[0] is None:
            return self.interval
        ahead: float = (row[0] - self.clock()).total_seconds()
        return max(0.0, min(self.interval, ahead))

    # --- running in the background ---------------------------------------------------

    def _run(self) -> None:
        backoff = 0.5
        while not self._stop.is_set():
            try:
                with self.connect() as conn:
                    while not self._stop.is_set():
                        self.sweep(conn)
                        pause = self.seconds_to_next_due(conn)
                        self.last_error = None
                        backoff = 0.5
                        # a moment after the due instant, so the clock is past it
                        self._stop.wait(pause + 0.01)
            except Exception as error:  # a lost database: try again, visibly
                self.last_error = f"{type(error).__name__}: {error}"
                log.warning("deadline watch: %s; retrying", error)
                self._stop.wait(backoff)
                backoff = min(backoff * 2, 10.0)
