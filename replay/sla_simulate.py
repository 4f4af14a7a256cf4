"""What-if: the recorded tickets of a period replayed under another SLA promise.

``docket sla simulate --tier premium_enhanced --from 2026-03-01 --to 2026-03-31``
reads the log, takes every ticket filed in the period with all its recorded
events (including those after the period), and folds its SLA clocks twice:
as recorded, and with the terms of every cycle replaced by the given tier's
targets (from the policy in force now, or from ``--policy FILE`` in the
``sla.toml`` format). It counts, per target, how many clocks were met,
breached or still running as of now. Nothing is written.
"""

from __future__ import annotations

import tomllib
from collections import defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import psycopg

from domain.sla import TARGETS, SlaState, Targets, targets_from_data, terms_for
from domain.ticket import SLA_EVENTS, Ticket, sla_after
from store.eventstore import docket_mapper
from store.log import Fact, read_facts

OUTCOMES = ("met", "breached", "running")


@dataclass
class Tally:
    counts: dict[str, dict[str, int]] = field(
        default_factory=lambda: {t: dict.fromkeys(OUTCOMES, 0) for t in TARGETS}
    )

    def add(self, state: SlaState, now: datetime) -> None:
        for clock in state.clocks:
            outcome = clock.state(now)
            self.counts[clock.target]["running" if outcome == "paused" else outcome] += 1

    def compliance(self, target: str) -> float | None:
        c = self.counts[target]
        decided = c["met"] + c["breached"]
        return c["met"] / decided if decided else None


@dataclass
class Simulation:
    tier: str
    start: datetime
    end: datetime
    tickets: int = 0
    recorded: Tally = field(default_factory=Tally)
    simulated: Tally = field(default_factory=Tally)

    def table(self) -> str:
        lines = [
            f"{self.tickets} tickets filed from {self.start:%Y-%m-%d} to before "
            f"{self.end:%Y-%m-%d} (UTC); outcomes as of now.",
            f"{'target':<16}{'recorded met/breached/running':>32}{'as ' + self.tier:>40}",
        ]
        for target in TARGETS:
            cells = []
            for tally in (self.recorded, self.simulated):
                c = tally.counts[target]
                rate = tally.compliance(target)
                shown = f"{rate:.1%}" if rate is not None else "-"
                cells.append(f"{c['met']}/{c['breached']}/{c['running']} ({shown})")
            lines.append(f"{target:<16}{cells[0]:>32}{cells[1]:>40}")
        return "\n".join(lines)

    def as_data(self) -> dict[str, Any]:
        return {
            "tier": self.tier,
            "from": self.start.isoformat(),
            "to": self.end.isoformat(),
            "tickets": self.tickets,
            "recorded": self.recorded.counts,
            "simulated": self.simulated.counts,
        }


def policy_from_file(path: Path) -> dict[str, Targets]:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    tiers: Mapping[str, Any] = data.get("policy", data)
    return {tier: targets_from_data(tier, table) for tier, table in tiers.items()}


def ticket_histories(
    conn: psycopg.Connection[Any], schema: str, batch: int = 5000
) -> Iterator[list[Any]]:
    """Every ticket's SLA-relevant events, in order, one ticket at a time (at the end)."""
    mapper = docket_mapper()
    streams: dict[UUID, list[Any]] = defaultdict(list)
    position = 0
    while True:
        read, position, facts = read_facts(conn, schema, position, batch, mapper, SLA_EVENTS)
        fact: Fact
        for fact in facts:
            streams[fact.stream_id].append(fact.event)
        if read < batch:
            break
    yield from streams.values()


def simulate(
    conn: psycopg.Connection[Any],
    schema: str,
    *,
    tier: str,
    start: datetime,
    end: datetime,
    policy: Mapping[str, Targets],
    now: datetime | None = None,
) -> Simulation:
    now = now or datetime.now(UTC)
    result = Simulation(tier, start, end)
    for events in ticket_histories(conn, schema):
        opened = events[0]
        if not isinstance(opened, Ticket.Opened) or not start <= opened.timestamp < end:
            continue
        result.tickets += 1
        recorded = simulated = SlaState()
        calendar = (opened.sla_terms or {}).get("calendar", "24x7")
        terms = terms_for(policy, tier, calendar)
        for event in events:
            recorded = sla_after(recorded, event)
            if isinstance(event, Ticket.SlaBreached):
                continue  # a breach recorded under the real terms says nothing of these
            promised = isinstance(event, Ticket.Opened | Ticket.Reopened)
            simulated = sla_after(simulated, _with_terms(event, terms) if promised else event)
        result.recorded.add(recorded, now)
        result.simulated.add(simulated, now)
    return result


def _with_terms(event: Any, terms: dict[str, Any]) -> Any:
    copy = object.__new__(type(event))
    copy.__dict__.update(event.__dict__)
    object.__setattr__(copy, "sla_terms", terms)
    return copy
