"""Business-hours calendars: when a support queue is open, and business time.

A :class:`Calendar` is weekly opening hours in an IANA time zone plus holidays.
Its two questions are pure functions of instants:

* :meth:`Calendar.elapsed` — how much business time lies between two instants;
* :meth:`Calendar.due` — the earliest instant at which a given amount of
  business time has elapsed since a start.

Opening hours are wall-clock times, so a day's openings are turned into
instants one day at a time with the zone's rules: a 06:00-18:00 day is 12 hours
long whether or not the clocks changed that night. A wall time that does not
exist (inside a spring-forward gap) maps to the instant just after the gap; a
repeated one (fall-back) maps to its first occurrence.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cached_property
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from domain.errors import InvalidField
from domain.messages import Msg

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
SEARCH_DAYS = 3660
"""How far :meth:`Calendar.due` walks before deciding a calendar never opens."""

Opening = tuple[time, time | None]
"""A wall-clock opening within one day; an end of ``None`` means midnight after it."""


@dataclass(frozen=True)
class Calendar:
    name: str
    zone: str
    week: tuple[tuple[Opening, ...], ...]
    """Openings per weekday, Monday first."""
    holidays: frozenset[date] = frozenset()

    def __post_init__(self) -> None:
        try:
            ZoneInfo(self.zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise InvalidField(
                "zone", Msg("{zone!r} is not an IANA time zone.", zone=self.zone)
            ) from None
        if len(self.week) != 7:
            raise InvalidField("hours", Msg("A calendar has opening hours for 7 weekdays."))
        if not any(self.week):
            raise InvalidField("hours", Msg("Calendar {name} is never open.", name=self.name))

    @cached_property
    def always_open(self) -> bool:
        whole_day = ((time(0), None),)
        return not self.holidays and all(day == whole_day for day in self.week)

    def openings(self, day: date) -> Iterator[tuple[datetime, datetime]]:
        """The day's opening intervals as UTC instants, in order."""
        if day in self.holidays:
            return
        zone = ZoneInfo(self.zone)
        for start, end in self.week[day.weekday()]:
            opens = datetime.combine(day, start, zone).astimezone(UTC)
            if end is None:
                closes = datetime.combine(day + timedelta(days=1), time(0), zone).astimezone(UTC)
            else:
                closes = datetime.combine(day, end, zone).astimezone(UTC)
            if closes > opens:
                yield opens, closes

    def local_day(self, at: datetime) -> date:
        return at.astimezone(ZoneInfo(self.zone)).date()

    def elapsed(self, start: datetime, end: datetime) -> timedelta:
        """Business time in ``[start, end)``; zero when ``end`` is not after ``start``."""
        # in UTC: Python compares and subtracts two instants of one zone as wall-clock times
        start, end = start.astimezone(UTC), end.astimezone(UTC)
        if end <= start:
            return timedelta(0)
        if self.always_open:
            return end - start
        total = timedelta(0)
        day, last = self.local_day(start), self.local_day(end)
        while day <= last:
            for opens, closes in self.openings(day):
                low, high = max(opens, start), min(closes, end)
                if high > low:
                    total += high - low
            day += timedelta(days=1)
        return total

    def due(self, start: datetime, budget: timedelta) -> datetime:
        """The earliest instant by which ``budget`` of business time has passed since ``start``.

        A positive budget always ends inside an opening (its closing instant
        included), never in closed hours.
        """
        if budget <= timedelta(0):
            return start
        start = start.astimezone(UTC)  # in UTC: see elapsed()
        if self.always_open:
            return start + budget
        day = self.local_day(start)
        for _ in range(SEARCH_DAYS):
            for opens, closes in self.openings(day):
                low = max(opens, start)
                if closes <= low:
                    continue
                if budget <= closes - low:
                    return low + budget
                budget -= closes - low
            day += timedelta(days=1)
        raise InvalidField(
            "calendar", Msg("Calendar {name} has no opening hours ahead.", name=self.name)
        )


def parse_hours(field: str, text: str) -> tuple[Opening, ...]:
    """``"06:00-18:00"`` or ``"09:00-12:00,13:00-17:00"``; ``""`` is closed all day."""
    openings: list[Opening] = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        start_text, sep, end_text = part.partition("-")
        try:
            if not sep:
                raise ValueError
            start = time.fromisoformat(start_text.strip())
            end = None if end_text.strip() == "24:00" else time.fromisoformat(end_text.strip())
        except ValueError:
            raise InvalidField(
                field,
                Msg(
                    "{part!r} is not an opening such as 06:00-18:00 (24:00 for midnight).",
                    part=part,
                ),
            ) from None
        if end is not None and end <= start:
            raise InvalidField(field, Msg("{part!r} closes before it opens.", part=part))
        previous_end = openings[-1][1] if openings else time(0)
        if previous_end is None or start < previous_end:
            raise InvalidField(field, Msg("{part!r} overlaps the opening before it.", part=part))
        openings.append((start, end))
    return tuple(openings)


def calendar_from_data(name: str, data: Mapping[str, Any]) -> Calendar:
    """A calendar from its data: ``zone``, ``hours`` per weekday, ``holidays`` (ISO dates)."""
    hours = data.get("hours", {})
    unknown = set(hours) - set(WEEKDAYS)
    if unknown:
        raise InvalidField(
            "hours",
            Msg(
                "Unknown weekday {sorted!r}; use {WEEKDAYS}.",
                sorted=sorted(unknown)[0],
                WEEKDAYS=WEEKDAYS,
            ),
        )
    week = tuple(parse_hours(f"hours.{d}", str(hours.get(d, ""))) for d in WEEKDAYS)
    holidays: Sequence[Any] = data.get("holidays", [])
    try:
        days = frozenset(d if isinstance(d, date) else date.fromisoformat(d) for d in holidays)
    except (TypeError, ValueError):
        raise InvalidField("holidays", Msg("Holidays are ISO dates such as 2026-12-25.")) from None
    return Calendar(name=name, zone=str(data.get("zone", "UTC")), week=week, holidays=days)
