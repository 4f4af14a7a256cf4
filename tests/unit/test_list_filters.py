"""Date ranges of the created filter, and cursors that refuse to be misused."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from api.answers import created_range
from api.problems import Problem
from projections.lists.filters import SORTS, BadCursor, ListFilter, decode_cursor, encode_cursor

NOW = datetime(2024, 3, 31, 1, 30, tzinfo=UTC)  # already Sunday morning in Berlin (CEST)


def test_today_is_the_callers_day_in_their_time_zone() -> None:
    low, high = created_range("today", "America/Los_Angeles", NOW)
    assert (low, high) == (
        datetime(2024, 3, 30, 7, 0, tzinfo=UTC),
        datetime(2024, 3, 31, 7, 0, tzinfo=UTC),
    )


def test_this_week_runs_monday_to_monday_across_a_change_to_summer_time() -> None:
    low, high = created_range("this_week", "Europe/Berlin", NOW)
    assert low == datetime(2024, 3, 24, 23, 0, tzinfo=UTC)  # Monday 00:00 CET
    assert high == datetime(2024, 3, 31, 22, 0, tzinfo=UTC)  # next Monday 00:00 CEST


def test_this_month_and_open_ended_ranges() -> None:
    assert created_range("this_month", "UTC", NOW) == (
        datetime(2024, 3, 1, tzinfo=UTC),
        datetime(2024, 4, 1, tzinfo=UTC),
    )
    assert created_range("2024-02-01..", "UTC", NOW) == (datetime(2024, 2, 1, tzinfo=UTC), None)
    assert created_range("..2024-02-01", "UTC", NOW) == (None, datetime(2024, 2, 2, tzinfo=UTC))


@pytest.mark.parametrize(
    ("created", "tz"),
    [
        ("yesterday", "UTC"),
        ("2024-03-05..2024-03-01", "UTC"),
        ("..", "UTC"),
        ("today", "Mars/Base"),
    ],
)
def test_a_range_that_makes_no_sense_is_refused_by_name(created: str, tz: str) -> None:
    with pytest.raises(Problem) as refused:
        created_range(created, tz, NOW)
    assert refused.value.status == 422


days = st.dates(min_value=date(1990, 1, 1), max_value=date(2100, 1, 1))


@given(days, days, st.sampled_from(["UTC", "Asia/Kolkata", "America/New_York"]))
def test_every_range_holds_each_day_it_names_and_no_other(
    first: date, last: date, tz: str
) -> None:
    start, end = sorted([first, last])
    low, high = created_range(f"{start}..{end}", tz, NOW)
    assert low is not None and high is not None
    assert low.astimezone(ZoneInfo(tz)).replace(tzinfo=None) == datetime.combine(start, time())
    whole_days = timedelta(days=(end - start).days + 1)
    assert abs((high - low) - whole_days) <= timedelta(hours=1)  # a change of clocks


def test_a_cursor_from_another_query_or_tampered_with_is_refused() -> None:
    cursor = encode_cursor(7, "created", False, ListFilter().digest(), [-5, "0" * 32])
    decode_cursor(cursor, SORTS["created"], False, ListFilter().digest())
    with pytest.raises(BadCursor):
        decode_cursor(cursor, SORTS["created"], False, ListFilter(q="other").digest())
    with pytest.raises(BadCursor):
        decode_cursor(cursor, SORTS["priority"], False, ListFilter().digest())
    with pytest.raises(BadCursor):
        decode_cursor(cursor[:-3] + "xyz", SORTS["created"], False, ListFilter().digest())
