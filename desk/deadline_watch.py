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

from datetime import datetime
from typing import Any
from uuid import UUID

import psycopg

from desk.watch import DeskWatch
from projections.sla import CLOCKS, breaching


class DeadlineWatch(DeskWatch):
    thread_name = "docket-deadlines"
    what = "deadline watch"
    actor = "sla-deadlines"

    @property
    def recorded(self) -> int:
        """How many tickets got breaches on record, in all sweeps."""
        return self.acted

    def sweep_on(self, conn: psycopg.Connection[Any]) -> int:
        """Record every breach due by now; answers how many tickets got breaches on record."""
        return self.in_batches(
            lambda now: breaching(conn, self.tables, now, self.batch), self._record
        )

    def _record(self, ticket_id: UUID, now: datetime) -> int:
        return self.ask(
            ticket_id,
            lambda stamp: self.desk.record_sla_breaches(ticket_id, stamp=stamp),
            now,
            f"sla-deadline:{ticket_id}",
        )

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

    def pause(self, conn: psycopg.Connection[Any]) -> float:
        # a moment after the due instant, so the clock is past it
        return self.seconds_to_next_due(conn) + 0.01
