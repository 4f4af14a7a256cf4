"""What-if: what one automation rule would have done to the recorded tickets of a period.

``docket automations simulate --rule pending-close --from 2026-03-01T00:00 --to
2026-03-31T00:00`` reads the log and folds every ticket's automation facts
(:func:`domain.ticket.rule_facts_after`, the fold the ticket keeps) event by event.
Between two events a ticket stands still: if the rule's conditions hold there and its
due instant falls before the next event, it would have fired then (once per cycle, as
the watch fires it). Each firing is reported with the rule's actions; history is not
rewritten after it (what really happened next is what the ticket did). Whether the rule
is switched on does not matter. Nothing is written.

An ``apply_macro`` action is described by the macro's changes as it now stands (its text
unrendered: placeholders are filled per ticket when it really fires).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

import psycopg

from domain.automation import Action, Rule, RuleFacts
from domain.macro import Macro
from domain.ticket import PUBLIC_EVENTS, STAFF_ONLY_EVENTS, Ticket, rule_facts_after
from store.eventstore import docket_mapper
from store.log import read_facts


@dataclass(frozen=True)
class WouldFire:
    ticket_id: UUID
    number: str
    at: datetime
    cycle_start: datetime


@dataclass
class RuleSimulation:
    rule: Rule
    start: datetime
    end: datetime
    tickets: int = 0
    firings: list[WouldFire] = field(default_factory=list)
    macros: Mapping[str, Macro] = field(default_factory=dict)
    """The shared macros the rule applies, by id (one missing would refuse the firing)."""

    def table(self) -> str:
        actions = "; ".join(describe(a, self.macros) for a in self.rule.actions)
        lines = [
            f"{self.rule.id} v{self.rule.version} ({self.rule.name}) from "
            f"{self.start.isoformat()} to {self.end.isoformat()}: {self.tickets} tickets "
            f"looked at, {len(self.firings)} firings. Nothing was written.",
            f"each firing: {actions}",
        ]
        lines += [
            f"{f.number:<10} {f.at.isoformat():<34} cycle from {f.cycle_start.isoformat()}"
            for f in self.firings
        ]
        return "\n".join(lines)

    def as_data(self) -> dict[str, Any]:
        return {
            "rule": self.rule.as_data(),
            "from": self.start.isoformat(),
            "to": self.end.isoformat(),
            "tickets": self.tickets,
            "firings": [
                {
                    "ticket": f.number,
                    "ticket_id": str(f.ticket_id),
                    "at": f.at.isoformat(),
                    "cycle_start": f.cycle_start.isoformat(),
                    "actions": [self._action_data(a) for a in self.rule.actions],
                }
                for f in self.firings
            ],
        }

    def _action_data(self, action: Action) -> dict[str, Any]:
        data = action.as_data()
        if action.macro_id is not None:
            macro = self.macros.get(action.macro_id)
            data["macro"] = None if macro is None else {
                "title": macro.title, "version": macro.version,
                "changes": macro.actions.as_data(),
            }  # fmt: skip
        return data


def describe(action: Action, macros: Mapping[str, Macro] | None = None) -> str:
    if action.type == "apply_macro":
        return describe_macro(str(action.macro_id), (macros or {}).get(str(action.macro_id)))
    said = {
        "set_status": f"set status {action.status}",
        "add_tag": f"add tag {action.tag}",
        "assign_group": f"assign to group {action.group}",
        "reply": f"reply {short(action.body)}",
        "notify": f"notify the {action.to}: {short(action.body)}",
    }
    return said[action.type]


def describe_macro(macro_id: str, macro: Macro | None) -> str:
    """What applying the macro changes, in its own order (fields, text, status last)."""
    if macro is None:
        return f"apply macro {macro_id}, which is no shared macro: the firing would be refused"
    a = macro.actions
    changes = []
    if a.assignee is not None:
        changes.append(f"assign to {a.assignee}" + (f" in group {a.group}" if a.group else ""))
    elif a.group is not None:
        changes.append(f"assign to group {a.group}")
    if a.priority is not None:
        changes.append(f"set priority {a.priority}")
    changes += [f"add tag {t}" for t in a.tags_add] + [f"remove tag {t}" for t in a.tags_remove]
    if a.text is not None:
        kind, texts = a.text
        changes += [f"{kind} ({lang}) {short(texts[lang])}" for lang in texts]
    if a.status is not None:
        changes.append(f"set status {a.status}")
    return f"apply macro {macro.title!r} v{macro.version} ({', '.join(changes)})"


def short(text: str | None) -> str:
    text = " ".join((text or "").split())
    return repr(text if len(text) <= 60 else text[:57] + "...")


def simulate(
    conn: psycopg.Connection[Any],
    schema: str,
    *,
    rule: Rule,
    start: datetime,
    end: datetime,
    macros: Mapping[str, Macro] | None = None,
    batch: int = 5000,
) -> RuleSimulation:
    """The rule's firings due in ``[start, end)`` had it been on all along; ``macros``:
    the shared macros it applies, by id, to describe (see ``SupportDesk.rule_macros``)."""
    mapper = docket_mapper()
    streams: dict[UUID, list[Any]] = defaultdict(list)
    position = 0
    while True:
        read, position, page = read_facts(
            conn, schema, position, batch, mapper, PUBLIC_EVENTS + STAFF_ONLY_EVENTS
        )
        for fact in page:
            streams[fact.stream_id].append(fact.event)
        if read < batch:
            break
    result = RuleSimulation(rule, start, end, macros=dict(macros or {}))
    conditions = rule.conditions
    for ticket_id, events in streams.items():
        opened = events[0]
        if not isinstance(opened, Ticket.Opened) or opened.timestamp >= end:
            continue
        result.tickets += 1
        fired: set[datetime] = set()
        facts: RuleFacts | None = None
        for i, event in enumerate(events):
            facts = rule_facts_after(facts, event)
            if facts is None or not conditions.state_holds(facts):
                continue
            cycle = conditions.cycle_start(facts)
            if cycle in fired:
                continue
            at = max(conditions.due_at(facts), event.timestamp)
            until = events[i + 1].timestamp if i + 1 < len(events) else end
            if at < until and start <= at < end:
                fired.add(cycle)
                result.firings.append(WouldFire(ticket_id, opened.number, at, cycle))
    result.firings.sort(key=lambda f: (f.at, f.number))
    return result
