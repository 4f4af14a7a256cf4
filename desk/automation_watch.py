"""The automation watch: fires time-based automations as tickets become due.

It runs beside the SLA deadline watch (:mod:`desk.deadline_watch`). Each sweep takes the
enabled rules from the rule book and asks the automations view
(:mod:`projections.automations`) for the tickets each is due on and has not fired on
this cycle, through its indexes; then asks the desk to fire the rule on each. The ticket
decides, as of the sweep's instant, and records each (rule, cycle) once: a second watch,
a restart, or a view still behind end in "nothing to do", never in a second firing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any
from uuid import UUID

import psycopg

from desk.deadline_watch import system_now
from desk.service import SupportDesk
from domain.automation import Rule
from domain.errors import DocketError, NothingChanged
from domain.stamp import Stamp
from projections.automations import due
from projections.kit import Tables
from store.background import Background

log = logging.getLogger("docket.automations")
ACTOR = "automations"


class AutomationWatch(Background):
    thread_name = "docket-automations"

    def __init__(
        self,
        desk: SupportDesk,
        url: str,
        schema: str,
        *,
        clock: Callable[[], datetime] = system_now,
        interval: float = 30.0,
        batch: int = 200,
    ) -> None:
        self.desk = desk
        self.url = url
        self.tables = Tables(schema)
        self.clock = clock
        self.interval = interval
        self.batch = batch
        self.fired = 0
        self.last_error: str | None = None
        super().__init__()

    def connect(self) -> psycopg.Connection[Any]:
        return psycopg.connect(
            self.url, autocommit=True, connect_timeout=5, application_name="docket-automations"
        )

    def sweep(self, conn: psycopg.Connection[Any] | None = None) -> int:
        """Fire every enabled rule on every ticket it is due on; answers how many firings."""
        if conn is None:
            with self.connect() as own:
                return self.sweep(own)
        total = 0
        for rule in self.desk.automation_rules():
            if rule.enabled:
                total += self._sweep_rule(conn, rule)
        self.fired += total
        return total

    def _sweep_rule(self, conn: psycopg.Connection[Any], rule: Rule) -> int:
        total = 0
        while True:
            now = self.clock()
            tickets = due(conn, self.tables, rule.id, rule.conditions, now, self.batch)
            fired = sum(self._fire(ticket_id, rule, now) for ticket_id in tickets)
            total += fired
            if len(tickets) < self.batch or fired == 0:
                return total

    def _fire(self, ticket_id: UUID, rule: Rule, now: datetime) -> int:
        stamp = Stamp(ACTOR, "system", "system", now, causation_id=rule.causation_id)
        try:
            self.desk.run_automation(ticket_id, rule_id=rule.id, stamp=stamp)
        except NothingChanged:  # fired by another watch, or no longer due
            return 0
        except DocketError as refused:
            log.warning("automation %s: ticket %s: %s", rule.id, ticket_id, refused)
            return 0
        return 1

    def _run(self) -> None:
        backoff = 0.5
        while not self._stop.is_set():
            try:
                with self.connect() as conn:
                    while not self._stop.is_set():
                        self.sweep(conn)
                        self.last_error = None
                        backoff = 0.5
                        self._stop.wait(self.interval)
            except Exception as error:  # a lost database: try again, visibly
                self.last_error = f"{type(error).__name__}: {error}"
                log.warning("automation watch: %s; retrying", error)
                self._stop.wait(backoff)
                backoff = min(backoff * 2, 10.0)
