"""The automation watch: fires time-based automations as tickets become due.

It runs beside the SLA deadline watch (:mod:`desk.deadline_watch`). Each sweep takes the
enabled rules from the rule book and asks the automations view
(:mod:`projections.automations`) for the tickets each is due on and has not fired on
this cycle, through its indexes; then asks the desk to fire the rule on each. The ticket
decides, as of the sweep's instant, and records each (rule, cycle) once: a second watch,
a restart, or a view still behind end in "nothing to do", never in a second firing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import psycopg

from desk.watch import DeskWatch
from domain.automation import Rule
from projections.automations import due


class AutomationWatch(DeskWatch):
    thread_name = "docket-automations"
    what = "automation watch"
    actor = "automations"
    interval = 30.0

    @property
    def fired(self) -> int:
        """How many times a rule fired, in all sweeps."""
        return self.acted

    def sweep_on(self, conn: psycopg.Connection[Any]) -> int:
        """Fire every enabled rule on every ticket it is due on; answers how many firings."""
        return sum(
            self._sweep_rule(conn, rule) for rule in self.desk.automation_rules() if rule.enabled
        )

    def _sweep_rule(self, conn: psycopg.Connection[Any], rule: Rule) -> int:
        return self.in_batches(
            lambda now: due(conn, self.tables, rule.id, rule.conditions, now, self.batch),
            lambda ticket_id, now: self._fire(ticket_id, rule, now),
        )

    def _fire(self, ticket_id: UUID, rule: Rule, now: datetime) -> int:
        return self.ask(
            ticket_id,
            lambda stamp: self.desk.run_automation(ticket_id, rule_id=rule.id, stamp=stamp),
            now,
            rule.causation_id,
            f"automation {rule.id}",
        )
