"""Properties of business-time arithmetic over arbitrary calendars, zones and instants."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.calendars import Calendar, Opening

ZONES = ("UTC", "America/Los_Angeles", "Europe/Paris", "Asia/Kolkata", "Australia/Lord_Howe")


@st.composite
def day_openings(draw: st.DrawFn) -> tuple[Opening, ...]:
    cuts = sorted(draw(st.sets(st.integers(0, 24 * 4), max_size=4)))
    if len(cuts) % 2:
        cuts = cuts[:-1]
    openings: list[Opening] = []
    for start, end in zip(cuts[::2], cuts[1::2], strict=True):
        opens = time(start // 4, start % 4 * 15)
        closes = None if end == 96 else time(end // 4, end % 4 * 15)
        openings.append((opens, closes))
    return tuple(openings)


@st.composite
def calendars(draw: st.DrawFn) -> Calendar:
    week = tuple(draw(day_openings()) for _ in range(7))
    if not any(week):
        week = (((time(9), time(17)),), *week[1:])
    holidays = draw(st.frozensets(st.dates(date(2026, 1, 1), date(2026, 12, 31)), max_size=20))
    return Calendar("drawn", draw(st.sampled_from(ZONES)), week, holidays)


instants = st.datetimes(datetime(2026, 1, 1), datetime(2026, 12, 31)).map(
    lambda d: d.replace(tzinfo=UTC)
)
budgets = st.timedeltas(timedelta(seconds=1), timedelta(hours=150))


@settings(max_examples=300, deadline=None)
@given(calendars(), instants, budgets)
def test_a_due_instant_never_falls_outside_business_hours(
    calendar: Calendar, start: datetime, budget: timedelta
) -> None:
    due = calendar.due(start, budget)
    day = calendar.local_day(due)
    openings = [o for d in (day - timedelta(days=1), day) for o in calendar.openings(d)]
    assert any(opens < due <= closes for opens, closes in openings)
    assert calendar.elapsed(start, due) == budget
    assert calendar.elapsed(start, due - timedelta(microseconds=1)) < budget


@settings(max_examples=300, deadline=None)
@given(calendars(), st.lists(instants, min_size=3, max_size=3).map(sorted))
def test_elapsed_business_time_is_additive_over_adjacent_intervals(
    calendar: Calendar, moments: list[datetime]
) -> None:
    a, b, c = moments
    assert calendar.elapsed(a, b) + calendar.elapsed(b, c) == calendar.elapsed(a, c)
    assert calendar.elapsed(a, c) <= c - a
