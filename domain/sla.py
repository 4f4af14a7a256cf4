"""SLA promises and their clocks, as pure functions of a ticket's events.

**Terms.** When a ticket is filed, and again when it is reopened, the desk
records on the ticket the *terms* promised for that cycle: the account's
support tier and business-hours calendar, and the targets per priority from the
policy in force at that instant. Everything after follows from the ticket's
own events, so a policy change never rewrites a promise already made, and a
replay computes exactly what the live desk computed.

**Clocks.** Each cycle (filing, then every reopen) has:

* ``first_response`` — starts with the cycle, stops at the first public agent
  reply (internal notes do not count);
* ``next_reply`` — starts at the oldest customer message (requester or
  collaborator) left unanswered after the first response, stops at the next
  public agent reply; each such message after an answer starts a new one;
* ``resolution`` — starts with the cycle, pauses while the ticket is
  ``pending`` (waiting for the customer), resumes on ``open``, stops at close.

Closing the ticket stops every clock of its cycle. A clock counts only
business time of the terms' calendar. A priority change re-targets the running
clocks of the cycle (measured from their original start); a clock already
breached stays breached.

A clock is *met* when it stopped by its due instant and *breached* when it was
still running after it. Breaches become ``SlaBreached`` events on the ticket
(see :meth:`SlaState.breaches_due`), recorded exactly once per clock.
"""

from __future__ import annotations

import dataclasses
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, get_args

from domain.calendars import Calendar, calendar_from_data
from domain.errors import InvalidField
from domain.messages import Msg
from domain.vocabulary import PRIORITIES, ClockState, SlaTarget

TARGETS: tuple[SlaTarget, ...] = get_args(SlaTarget)
DATA_FILE = Path(__file__).with_name("sla.toml")

Targets = dict[str, dict[str, int]]
"""Seconds of business time per priority and target: ``{"urgent": {"first_response": 1800}}``."""

_DURATION = re.compile(r"^(?:(\d+)h)?(?:(\d+)m)?$")


def parse_duration(field: str, text: str) -> int:
    """``"4h"``, ``"30m"``, ``"1h30m"`` → seconds (positive)."""
    match = _DURATION.match(text.strip()) if isinstance(text, str) else None
    if not match or not any(match.groups()):
        raise InvalidField(
            field, Msg("{text!r} is not a duration such as 4h, 30m or 1h30m.", text=text)
        )
    hours, minutes = (int(g or 0) for g in match.groups())
    seconds = hours * 3600 + minutes * 60
    if not 0 < seconds <= 10_000 * 3600:
        raise InvalidField(
            field, Msg("{text!r} must be between 1 minute and 10000 hours.", text=text)
        )
    return seconds


def format_duration(seconds: int) -> str:
    hours, rest = divmod(seconds, 3600)
    minutes = rest // 60
    return (f"{hours}h" if hours else "") + (f"{minutes}m" if minutes or not hours else "")


def targets_from_data(tier: str, data: Mapping[str, Any]) -> Targets:
    """A tier's table: base targets for every priority, overridden per priority."""
    unknown = set(data) - set(TARGETS) - set(PRIORITIES)
    if unknown:
        raise InvalidField(
            tier,
            Msg(
                "Unknown key {sorted!r} in the {tier} policy.",
                sorted=sorted(unknown)[0],
                tier=tier,
            ),
        )
    missing = [t for t in TARGETS if t not in data]
    if missing:
        raise InvalidField(
            tier, Msg("The {tier} policy needs a {missing} target.", tier=tier, missing=missing[0])
        )
    base = {t: parse_duration(f"{tier}.{t}", data[t]) for t in TARGETS}
    table: Targets = {}
    for priority in PRIORITIES:
        override = data.get(priority, {})
        if not isinstance(override, Mapping) or set(override) - set(TARGETS):
            raise InvalidField(
                f"{tier}.{priority}",
                Msg("{priority} overrides {names}.", priority=priority, names=", ".join(TARGETS)),
            )
        table[priority] = {
            t: parse_duration(f"{tier}.{priority}.{t}", override[t]) if t in override else base[t]
            for t in TARGETS
        }
    return table


@dataclass(frozen=True)
class ShippedData:
    calendars: dict[str, Calendar]
    policy: dict[str, Targets]


def load_shipped(path: Path = DATA_FILE) -> ShippedData:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    calendars = {n: calendar_from_data(n, c) for n, c in data["calendars"].items()}
    policy = {tier: targets_from_data(tier, t) for tier, t in data["policy"].items()}
    return ShippedData(calendars, policy)


SHIPPED = load_shipped()
CALENDARS = SHIPPED.calendars
FOUNDING_POLICY = SHIPPED.policy


def calendar_named(name: str) -> Calendar:
    try:
        return CALENDARS[name]
    except KeyError:
        raise InvalidField(
            "calendar",
            Msg(
                "No calendar {name!r}; the calendars are {names}.",
                name=name,
                names=", ".join(CALENDARS),
            ),
        ) from None


def terms_for(policy: Mapping[str, Targets], tier: str, calendar: str) -> dict[str, Any]:
    """What a cycle of a ticket is promised: tier, calendar and the tier's targets (a copy:
    the policy may be the one a serving process keeps for every thread)."""
    calendar_named(calendar)
    if tier not in policy:
        raise InvalidField("support_tier", Msg("No SLA policy for tier {tier!r}.", tier=tier))
    targets = {target: dict(hours) for target, hours in policy[tier].items()}
    return {"tier": tier, "calendar": calendar, "targets": targets}


# --- clocks ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Clock:
    target: str
    cycle: int
    seq: int
    """Which clock of this target in this cycle (next replies come one after another)."""
    priority: str
    started_at: datetime
    budget: timedelta
    """Business time allowed."""
    used: timedelta = timedelta(0)
    """Business time spent in earlier runs (before a pause)."""
    running_since: datetime | None = None
    due_at: datetime | None = None
    """When the running (or breaching) run falls due; ``None`` while paused in time."""
    stopped_at: datetime | None = None
    breached_at: datetime | None = None
    """The due instant it is known to have passed: by a late stop, or a recorded breach."""
    breach_recorded: bool = False

    @property
    def key(self) -> tuple[str, int, int]:
        return (self.target, self.cycle, self.seq)

    def state(self, now: datetime) -> ClockState:
        """``running``, ``paused``, ``met`` or ``breached`` as of ``now``."""
        if self.breached_at is not None or self.overdue(now):
            return "breached"
        if self.stopped_at is not None:
            return "met"
        return "running" if self.running_since is not None else "paused"

    def overdue(self, now: datetime) -> bool:
        return (
            self.stopped_at is None
            and self.running_since is not None
            and self.due_at is not None
            and now > self.due_at
        )

    def business_left(self, calendar: Calendar, now: datetime) -> timedelta | None:
        """Business time until due (negative once past); ``None`` unless running."""
        if self.stopped_at is not None or self.running_since is None or self.due_at is None:
            return None
        if now <= self.due_at:
            return calendar.elapsed(now, self.due_at)
        return -calendar.elapsed(self.due_at, now)

    def stop(self, at: datetime) -> Clock:
        late = self.due_at is not None and at > self.due_at and self.running_since is not None
        return dataclasses.replace(
            self,
            stopped_at=at,
            running_since=None,
            breached_at=self.breached_at or (self.due_at if late else None),
        )


@dataclass(frozen=True)
class SlaState:
    """A ticket's SLA clocks, folded from its events by the methods below."""

    terms: Mapping[str, Any] | None = None
    priority: str = "normal"
    status: str = "open"
    cycle: int = 1
    clocks: tuple[Clock, ...] = ()

    # --- reading ------------------------------------------------------------------------

    @property
    def calendar(self) -> Calendar | None:
        """The terms' calendar. A calendar since removed from the shipped data counts as
        24x7 rather than stopping every fold of the tickets promised under it."""
        if not self.terms:
            return None
        return CALENDARS.get(self.terms["calendar"]) or CALENDARS["24x7"]

    def current(self) -> tuple[Clock, ...]:
        return tuple(c for c in self.clocks if c.cycle == self.cycle)

    def next_due(self) -> datetime | None:
        """The soonest due instant among running clocks (overdue ones included)."""
        dues = [
            c.due_at
            for c in self.clocks
            if c.stopped_at is None and c.running_since is not None and c.due_at is not None
        ]
        return min(dues, default=None)

    def breaches_due(self, now: datetime) -> list[Clock]:
        """Clocks breached by ``now`` whose breach is not yet on the ticket."""
        return [
            c
            for c in self.clocks
            if not c.breach_recorded and (c.breached_at is not None or c.overdue(now))
        ]

    # --- folding ------------------------------------------------------------------------

    def opened(self, priority: str) -> SlaState:
        return SlaState(priority=priority)

    def terms_set(self, terms: Mapping[str, Any], at: datetime) -> SlaState:
        state = dataclasses.replace(self, terms=terms)
        if any(c.cycle == self.cycle for c in self.clocks) or self.status == "closed":
            return state
        first = state.started("first_response", at)
        resolution = state.started("resolution", at)
        if self.status == "pending":
            resolution = dataclasses.replace(resolution, running_since=None, due_at=None)
        return dataclasses.replace(state, clocks=(*self.clocks, first, resolution))

    def message(self, author_role: str, at: datetime) -> SlaState:
        if self.terms is None:
            return self
        current = self.current()
        if author_role == "agent":
            return self._replace_clocks(
                lambda c: (
                    c.stop(at)
                    if c.target in ("first_response", "next_reply") and c.stopped_at is None
                    else c
                )
            )
        answered = any(c.target == "first_response" and c.stopped_at for c in current)
        waiting = any(c.target == "next_reply" and c.stopped_at is None for c in current)
        if not answered or waiting or self.status == "closed":
            return self
        return dataclasses.replace(self, clocks=(*self.clocks, self.started("next_reply", at)))

    def status_changed(self, to_status: str, at: datetime) -> SlaState:
        state = dataclasses.replace(self, status=to_status)
        if self.terms is None:
            return state
        if to_status == "closed":
            return state._replace_clocks(lambda c: c if c.stopped_at else c.stop(at))
        if to_status == "pending":
            return state._replace_clocks(
                lambda c: state.paused(c, at) if c.target == "resolution" else c
            )
        return state._replace_clocks(
            lambda c: state.resumed(c, at) if c.target == "resolution" else c
        )

    def priority_changed(self, to_priority: str, at: datetime) -> SlaState:
        state = dataclasses.replace(self, priority=to_priority)
        if self.terms is None:
            return state
        return state._replace_clocks(lambda c: state.retargeted(c, at))

    def reopened(self, cycle: int) -> SlaState:
        return dataclasses.replace(self, status="open", cycle=cycle)

    def breach_recorded(self, target: str, cycle: int, seq: int) -> SlaState:
        def mark(c: Clock) -> Clock:
            if c.key != (target, cycle, seq):
                return c
            return dataclasses.replace(
                c, breach_recorded=True, breached_at=c.breached_at or c.due_at
            )

        return dataclasses.replace(self, clocks=tuple(mark(c) for c in self.clocks))

    # --- clock arithmetic -----------------------------------------------------------------

    def budget(self, target: str) -> timedelta:
        assert self.terms is not None
        return timedelta(seconds=self.terms["targets"][self.priority][target])

    def started(self, target: str, at: datetime) -> Clock:
        calendar = self.calendar
        assert calendar is not None
        budget = self.budget(target)
        seq = sum(c.target == target and c.cycle == self.cycle for c in self.clocks)
        return Clock(
            target=target,
            cycle=self.cycle,
            seq=seq,
            priority=self.priority,
            started_at=at,
            budget=budget,
            running_since=at,
            due_at=calendar.due(at, budget),
        )

    def paused(self, clock: Clock, at: datetime) -> Clock:
        if clock.stopped_at is not None or clock.running_since is None:
            return clock
        calendar = self.calendar
        assert calendar is not None
        late = clock.due_at is not None and at > clock.due_at
        return dataclasses.replace(
            clock,
            used=clock.used + calendar.elapsed(clock.running_since, at),
            running_since=None,
            due_at=clock.due_at if late or clock.breached_at else None,
            breached_at=clock.breached_at or (clock.due_at if late else None),
        )

    def resumed(self, clock: Clock, at: datetime) -> Clock:
        if clock.stopped_at is not None or clock.running_since is not None:
            return clock
        calendar = self.calendar
        assert calendar is not None
        due = clock.due_at if clock.breached_at else calendar.due(at, clock.budget - clock.used)
        return dataclasses.replace(clock, running_since=at, due_at=due)

    def retargeted(self, clock: Clock, at: datetime) -> Clock:
        if clock.stopped_at is not None or clock.breached_at is not None:
            return clock
        if clock.overdue(at):  # breached before the change, noticed or not: it stays so
            return dataclasses.replace(clock, breached_at=clock.due_at)
        calendar = self.calendar
        assert calendar is not None
        budget = self.budget(clock.target)
        changed = dataclasses.replace(clock, budget=budget, priority=self.priority)
        if clock.running_since is None:  # paused: over the new budget is breached now
            if clock.used > budget:
                return dataclasses.replace(changed, due_at=at, breached_at=at)
            return changed
        left = budget - clock.used
        due = calendar.due(clock.running_since, left) if left > timedelta(0) else at
        return dataclasses.replace(changed, due_at=due)

    def _replace_clocks(self, change: Callable[[Clock], Clock]) -> SlaState:
        clocks = tuple(change(c) if c.cycle == self.cycle else c for c in self.clocks)
        return dataclasses.replace(self, clocks=clocks)


# --- storing a state (the views keep it as JSON) ---------------------------------------


def _instant(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _text(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _microseconds(value: timedelta) -> int:
    return value // timedelta(microseconds=1)


def _duration(value: int) -> timedelta:
    return timedelta(microseconds=value)


def _as_is(value: Any) -> Any:
    return value


_INSTANTS = ("started_at", "running_since", "due_at", "stopped_at", "breached_at")
_STORED_AS: dict[str, tuple[str, Callable[[Any], Any], Callable[[Any], Any]]] = {
    "budget": ("budget_us", _microseconds, _duration),
    "used": ("used_us", _microseconds, _duration),
    **{name: (name, _text, _instant) for name in _INSTANTS},
}
_CLOCK_DATA = tuple(
    (field.name, *_STORED_AS.get(field.name, (field.name, _as_is, _as_is)))
    for field in dataclasses.fields(Clock)
)
"""How each field of a :class:`Clock` is kept as JSON, in the order of its fields: the
field, its key, how it is written and how it is read (durations in whole microseconds,
instants as ISO text, the rest as it is)."""


def clock_to_data(c: Clock) -> dict[str, Any]:
    return {key: write(getattr(c, name)) for name, key, write, _read in _CLOCK_DATA}


def clock_from_data(d: Mapping[str, Any]) -> Clock:
    return Clock(**{name: read(d[key]) for name, key, _write, read in _CLOCK_DATA})


def state_to_data(s: SlaState) -> dict[str, Any]:
    return {
        "terms": dict(s.terms) if s.terms else None,
        "priority": s.priority,
        "status": s.status,
        "cycle": s.cycle,
        "clocks": [clock_to_data(c) for c in s.clocks],
    }


def state_from_data(d: Mapping[str, Any]) -> SlaState:
    return SlaState(
        terms=d["terms"],
        priority=d["priority"],
        status=d["status"],
        cycle=d["cycle"],
        clocks=tuple(clock_from_data(c) for c in d["clocks"]),
    )
