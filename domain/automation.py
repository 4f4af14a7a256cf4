"""Time-based automations: rules kept as data in one rule book, and what makes one due.

A rule has conditions on the ticket as it stands (status, priority, support tier, tags,
support group) and one time condition: at least ``hours`` **calendar** hours since an
instant of the ticket (its last update, the requester's last message, the last agent
reply, or when it entered its status). Business hours are not counted here: a pending
ticket waits for its requester, whose days do not stop at 18:00.

A rule fires at most once per ticket and *cycle*. A cycle begins at the later of the
time condition's instant and the last change of every field the rule's conditions read
(:func:`cycle_start`): a ticket that leaves pending and comes back starts a new cycle,
so it is reminded again; one that merely waits longer does not. The ticket keeps which
(rule, cycle) pairs fired (:meth:`domain.ticket.Ticket.record_automation`), so the
once-ness is a fact of its stream, decided by the write.

There is one rule book (:class:`RuleBook`). Until an admin first changes it the
shipped rules (:data:`DEFAULT_RULES`, all switched off) are in force; the first change
records them as the book's opening event. Every change of a rule raises its version.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import event

from domain.base import ChainedAggregate
from domain.errors import AlreadyExists, InvalidField, NothingChanged, UnknownAutomation
from domain.messages import Msg
from domain.stamp import Stamp
from domain.tags import TAG_MAX_CHARS, normalised_tag, normalised_tags
from domain.vocabulary import (
    BODY_MAX_BYTES,
    NAME_MAX_CHARS,
    NOTIFY_TARGETS,
    PRIORITIES,
    RULE_ACTION_KINDS,
    RULE_CLOCKS,
    STATUSES,
    SUPPORT_TIERS,
    checked_choice,
    checked_text,
)

BOOK_ID: UUID = uuid5(NAMESPACE_URL, "docket:automation-rule-book")
MAX_HOURS = 24 * 366
"""A time condition waits at most a year."""
MAX_ACTIONS = 10
RULE_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
TAG_CHARS = TAG_MAX_CHARS


@dataclass(frozen=True)
class RuleFacts:
    """What a ticket's automation conditions read, kept by the ticket and by the view the
    watch asks (:func:`domain.ticket.rule_facts_after` folds both)."""

    status: str
    priority: str
    tier: str
    group: str | None
    tags: frozenset[str]
    opened_at: datetime
    updated_at: datetime
    customer_message_at: datetime
    agent_reply_at: datetime | None
    status_since: datetime
    priority_since: datetime
    group_since: datetime
    tags_since: datetime


@dataclass(frozen=True)
class Conditions:
    """Every non-empty field must hold (an empty one holds always), and the time."""

    since: str
    hours: float
    status: tuple[str, ...] = ()
    priority: tuple[str, ...] = ()
    tier: tuple[str, ...] = ()
    group: tuple[str, ...] = ()
    tags_all: tuple[str, ...] = ()
    tags_none: tuple[str, ...] = ()

    def anchor(self, facts: RuleFacts) -> datetime:
        """The instant the time condition counts from."""
        if self.since == "last_update":
            return facts.updated_at
        if self.since == "last_customer_message":
            return facts.customer_message_at
        if self.since == "last_agent_reply":  # no reply yet: since the ticket was filed
            return facts.agent_reply_at or facts.opened_at
        return facts.status_since

    def due_at(self, facts: RuleFacts) -> datetime:
        return self.anchor(facts) + timedelta(hours=self.hours)

    def state_holds(self, facts: RuleFacts) -> bool:
        return (
            facts.status != "closed"
            and (not self.status or facts.status in self.status)
            and (not self.priority or facts.priority in self.priority)
            and (not self.tier or facts.tier in self.tier)
            and (not self.group or facts.group in self.group)
            and set(self.tags_all) <= facts.tags
            and not set(self.tags_none) & facts.tags
        )

    def holds(self, facts: RuleFacts, now: datetime) -> bool:
        return self.state_holds(facts) and self.due_at(facts) <= now

    def cycle_start(self, facts: RuleFacts) -> datetime:
        """When the current cycle began: the anchor, or a later change of a field read."""
        instants = [self.anchor(facts)]
        if self.status:
            instants.append(facts.status_since)
        if self.priority:
            instants.append(facts.priority_since)
        if self.group:
            instants.append(facts.group_since)
        if self.tags_all or self.tags_none:
            instants.append(facts.tags_since)
        return max(instants)

    def as_data(self) -> dict[str, Any]:
        return {
            "since": self.since,
            "hours": self.hours,
            "status": list(self.status),
            "priority": list(self.priority),
            "tier": list(self.tier),
            "group": list(self.group),
            "tags_all": list(self.tags_all),
            "tags_none": list(self.tags_none),
        }


@dataclass(frozen=True)
class Action:
    """One thing a rule does: ``type`` says which, and which of the other fields it takes."""

    type: str
    status: str | None = None
    tag: str | None = None
    group: str | None = None
    body: str | None = None
    to: str | None = None
    macro_id: str | None = None

    def as_data(self) -> dict[str, Any]:
        return {k: v for k, v in vars(self).items() if v is not None}


@dataclass(frozen=True)
class Rule:
    id: str
    name: str
    enabled: bool
    conditions: Conditions
    actions: tuple[Action, ...]
    version: int = 1

    @property
    def causation_id(self) -> str:
        return f"rule:{self.id}:v{self.version}"

    def groups_assigned(self) -> list[str]:
        return [a.group for a in self.actions if a.type == "assign_group" and a.group]

    def macros_applied(self) -> list[tuple[int, str]]:
        """Each ``apply_macro`` action's place among the actions, and its macro's id."""
        return [(i, a.macro_id) for i, a in enumerate(self.actions) if a.macro_id]

    def as_data(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "enabled": self.enabled,
            "version": self.version,
            "conditions": self.conditions.as_data(),
            "actions": [a.as_data() for a in self.actions],
        }


# --- reading a rule from data, with clear refusals --------------------------------------


def _choices(name: str, value: Any, choices: tuple[str, ...]) -> tuple[str, ...]:
    values = _strings(name, value)
    for v in values:
        checked_choice(name, v, choices)
    return values


def _strings(name: str, value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise InvalidField(name, Msg("{name} is a list of names.", name=name))
    return tuple(dict.fromkeys(value))


def checked_tag(name: str, tag: Any) -> str:
    """A tag as tickets carry it (normalised, see :mod:`domain.tags`)."""
    return normalised_tag(name, tag)


def conditions_from_data(data: Any) -> Conditions:
    if not isinstance(data, Mapping):
        raise InvalidField("conditions", Msg("conditions is an object with since and hours."))
    unknown = sorted(set(data) - set(Conditions.__dataclass_fields__))
    if unknown:
        raise InvalidField(
            f"conditions.{unknown[0]}", Msg("No condition {unknown}.", unknown=repr(unknown[0]))
        )
    since = data.get("since")
    if not isinstance(since, str):
        raise InvalidField(
            "conditions.since",
            Msg(
                "Every automation waits for a time: since is one of {RULE_CLOCKS}.",
                RULE_CLOCKS=", ".join(RULE_CLOCKS),
            ),
        )
    checked_choice("conditions.since", since, RULE_CLOCKS)
    hours = data.get("hours")
    if isinstance(hours, bool) or not isinstance(hours, int | float) or not math.isfinite(hours):
        raise InvalidField(
            "conditions.hours", Msg("hours is a number of calendar hours, e.g. 96.")
        )
    if hours < 0:
        raise InvalidField(
            "conditions.hours",
            Msg("hours is {hours}: a time since an event is never negative.", hours=hours),
        )
    if hours > MAX_HOURS:
        raise InvalidField(
            "conditions.hours", Msg("hours is at most {MAX_HOURS} (a year).", MAX_HOURS=MAX_HOURS)
        )
    status = _choices("conditions.status", data.get("status"), STATUSES)
    if "closed" in status:
        raise InvalidField(
            "conditions.status",
            Msg("Automations work open and pending tickets; a closed ticket is only reopened."),
        )
    groups = _strings("conditions.group", data.get("group"))
    for g in groups:
        checked_text("conditions.group", g, max_chars=NAME_MAX_CHARS)
    tags_all = tuple(
        normalised_tags("conditions.tags_all", _strings("tags", data.get("tags_all")))
    )
    tags_none = tuple(
        normalised_tags("conditions.tags_none", _strings("tags", data.get("tags_none")))
    )
    if set(tags_all) & set(tags_none):
        raise InvalidField(
            "conditions.tags_none",
            Msg("A tag cannot be both required and excluded: no ticket holds."),
        )
    return Conditions(
        since=since,
        hours=float(hours),
        status=status,
        priority=_choices("conditions.priority", data.get("priority"), PRIORITIES),
        tier=_choices("conditions.tier", data.get("tier"), SUPPORT_TIERS),
        group=groups,
        tags_all=tags_all,
        tags_none=tags_none,
    )


ACTION_FIELDS: dict[str, tuple[str, ...]] = {
    "set_status": ("status",),
    "add_tag": ("tag",),
    "assign_group": ("group",),
    "reply": ("body",),
    "notify": ("to", "body"),
    "apply_macro": ("macro_id",),
}


def action_from_data(data: Any, i: int) -> Action:
    where = f"actions[{i}]"
    if not isinstance(data, Mapping) or not isinstance(data.get("type"), str):
        raise InvalidField(
            f"{where}.type",
            Msg(
                "Each action has a type: one of {RULE_ACTION_KINDS}.",
                RULE_ACTION_KINDS=", ".join(RULE_ACTION_KINDS),
            ),
        )
    kind = checked_choice(f"{where}.type", data["type"], RULE_ACTION_KINDS)
    wanted = ACTION_FIELDS[kind]
    extra = sorted(k for k in data if k != "type" and data[k] is not None and k not in wanted)
    if extra:
        raise InvalidField(
            f"{where}.{extra[0]}",
            Msg("A {kind} action takes {wanted}.", kind=kind, wanted=", ".join(wanted)),
        )
    for name in wanted:
        if not isinstance(data.get(name), str):
            raise InvalidField(
                f"{where}.{name}", Msg("A {kind} action needs {name}.", kind=kind, name=name)
            )
    if kind == "set_status":
        checked_choice(f"{where}.status", data["status"], STATUSES)
    elif kind == "add_tag":
        data = {**data, "tag": checked_tag(f"{where}.tag", data["tag"])}
    elif kind == "assign_group":
        checked_text(f"{where}.group", data["group"], max_chars=NAME_MAX_CHARS)
    elif kind == "apply_macro":
        data = {**data, "macro_id": checked_macro_id(f"{where}.macro_id", data["macro_id"])}
    if kind in ("reply", "notify"):
        checked_text(f"{where}.body", data["body"], max_bytes=BODY_MAX_BYTES)
    if kind == "notify":
        checked_choice(f"{where}.to", data["to"], NOTIFY_TARGETS)
    return Action(type=kind, **{name: data[name] for name in wanted})


def checked_macro_id(name: str, value: str) -> str:
    """A macro's id as the macros list it (a UUID); which macro it is, and whether a rule
    may apply it (shared, not archived), the desk checks when the rule is switched on."""
    try:
        return str(UUID(value))
    except ValueError:
        raise InvalidField(
            name,
            Msg("{name} is a shared macro's id (a UUID), as GET /v1/macros lists it.", name=name),
        ) from None


def actions_from_data(data: Any) -> tuple[Action, ...]:
    if not isinstance(data, list | tuple) or not data:
        raise InvalidField("actions", Msg("A rule does at least one thing: actions is a list."))
    if len(data) > MAX_ACTIONS:
        raise InvalidField(
            "actions", Msg("A rule has at most {MAX_ACTIONS} actions.", MAX_ACTIONS=MAX_ACTIONS)
        )
    actions = tuple(action_from_data(a, i) for i, a in enumerate(data))
    for once in ("set_status", "reply", "notify", "assign_group", "apply_macro"):
        if sum(a.type == once for a in actions) > 1:
            raise InvalidField("actions", Msg("A rule has at most one {once} action.", once=once))
    statuses = [a for a in actions if a.type == "set_status"]
    if statuses and statuses[0] is not actions[-1] and statuses[0].status == "closed":
        raise InvalidField(
            "actions", Msg("Closing is a rule's last action: nothing is added to a closed ticket.")
        )
    return actions


def rule_from_data(data: Mapping[str, Any]) -> Rule:
    """A rule from its data (as stored, or as an admin sent it), or :class:`InvalidField`."""
    rule_id = data.get("id")
    if not isinstance(rule_id, str) or not RULE_ID.match(rule_id):
        raise InvalidField(
            "id",
            Msg(
                "A rule's id is 1 to 63 lower-case letters, digits or dashes, e.g. pending-close."
            ),
        )
    name = data.get("name")
    if not isinstance(name, str):
        raise InvalidField("name", Msg("A rule has a name."))
    checked_text("name", name, max_chars=NAME_MAX_CHARS)
    enabled = data.get("enabled", False)
    if not isinstance(enabled, bool):
        raise InvalidField("enabled", Msg("enabled is true or false."))
    version = data.get("version", 1)
    return Rule(
        id=rule_id,
        name=name,
        enabled=enabled,
        conditions=conditions_from_data(data.get("conditions")),
        actions=actions_from_data(data.get("actions")),
        version=version if isinstance(version, int) else 1,
    )


def slug_for(name: str) -> str:
    """A rule id from its name: ``Close after 7 days`` → ``close-after-7-days``."""
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:63].strip("-")
    return slug or "rule"


# --- the rules Docket ships, switched off ----------------------------------------------

REMINDER = (
    "We have not heard from you for four days. Could you tell us whether this is still a "
    "problem, or send us the information we asked for? If we do not hear from you within "
    "three more days, we will close this ticket."
)
CLOSING = (
    "We are closing this ticket, as we have not heard from you for seven days. If the "
    "problem is still there, just reply within 30 days and the ticket opens again."
)
ESCALATION = "An urgent ticket has had no agent reply for 30 minutes: it is escalated to tier-2."

DEFAULT_RULES: tuple[Rule, ...] = (
    Rule(
        id="pending-reminder",
        name="Remind the requester after 4 days pending",
        enabled=False,
        conditions=Conditions(since="status_entered", hours=96, status=("pending",)),
        actions=(Action(type="reply", body=REMINDER),),
    ),
    Rule(
        id="pending-close",
        name="Close after 7 days pending",
        enabled=False,
        conditions=Conditions(since="status_entered", hours=168, status=("pending",)),
        actions=(Action(type="reply", body=CLOSING), Action(type="set_status", status="closed")),
    ),
    Rule(
        id="urgent-escalation",
        name="Escalate an urgent ticket with no agent reply after 30 minutes",
        enabled=False,
        conditions=Conditions(
            since="last_agent_reply",
            hours=0.5,
            status=("open",),
            priority=("urgent",),
            tags_none=("escalated",),
        ),
        actions=(
            Action(type="add_tag", tag="escalated"),
            Action(type="assign_group", group="tier-2"),
            Action(type="notify", to="assignee", body=ESCALATION),
        ),
    ),
)


# --- the rule book ---------------------------------------------------------------------


class RuleBook(ChainedAggregate):
    """Every automation rule, by id, as recorded changes (rules are data: dicts)."""

    class Founded(ChainedAggregate.Created):
        rules: list[dict[str, Any]]

    class RuleAdded(ChainedAggregate.Event):
        rule: dict[str, Any]

    class RuleChanged(ChainedAggregate.Event):
        rule: dict[str, Any]
        """The whole rule as it now is, with its new version."""

    @classmethod
    def found(cls, *, stamp: Stamp) -> RuleBook:
        return cls(id=BOOK_ID, rules=[r.as_data() for r in DEFAULT_RULES], stamp=stamp)

    @event(Founded)
    def __init__(self, id: UUID, rules: list[dict[str, Any]], stamp: Stamp) -> None:
        self.rules: dict[str, dict[str, Any]] = {r["id"]: dict(r) for r in rules}

    def rule(self, rule_id: str) -> Rule:
        data = self.rules.get(rule_id)
        if data is None:
            raise UnknownAutomation(
                Msg(
                    "No automation {rule_id}; GET /v1/automations lists the rules.",
                    rule_id=repr(rule_id),
                )
            )
        return rule_from_data(data)

    def all_rules(self) -> list[Rule]:
        return [rule_from_data(data) for data in self.rules.values()]

    def add_rule(self, *, data: Mapping[str, Any], stamp: Stamp) -> Rule:
        rule = replace(rule_from_data({**data, "version": 1}), version=1)
        if rule.id in self.rules:
            raise AlreadyExists(
                Msg(
                    "An automation {id} exists; change it with PATCH /v1/automations/{id}.",
                    id=rule.id,
                )
            )
        self._rule_added(rule=rule.as_data(), stamp=stamp)
        return rule

    @event(RuleAdded)
    def _rule_added(self, rule: dict[str, Any], stamp: Stamp) -> None:
        self.rules[rule["id"]] = rule

    def change_rule(self, *, rule_id: str, changes: Mapping[str, Any], stamp: Stamp) -> Rule:
        """``changes`` holds any of name, enabled, conditions, actions (each replaced whole)."""
        old = self.rule(rule_id)
        unknown = sorted(set(changes) - {"name", "enabled", "conditions", "actions"})
        if unknown:
            raise InvalidField(
                unknown[0], Msg("A rule's {unknown} cannot be changed.", unknown=unknown[0])
            )
        merged = {**old.as_data(), **changes, "id": rule_id, "version": old.version}
        new = rule_from_data(merged)
        if new == old:
            raise NothingChanged(
                Msg("The automation {rule_id} is already so.", rule_id=repr(rule_id))
            )
        new = replace(new, version=old.version + 1)
        self._rule_changed(rule=new.as_data(), stamp=stamp)
        return new

    @event(RuleChanged)
    def _rule_changed(self, rule: dict[str, Any], stamp: Stamp) -> None:
        self.rules[rule["id"]] = rule
