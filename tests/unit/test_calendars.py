"""Business-hours arithmetic across weekends, holidays and daylight-saving changes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from domain.calendars import calendar_from_data
from domain.errors import InvalidField
from domain.sla import CALENDARS

LA = ZoneInfo("America/Los_Angeles")
PARIS = ZoneInfo("Europe/Paris")
H = timedelta(hours=1)


def at(zone: ZoneInfo, year: int, month: int, day: int, hour: int, minute: int) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=zone)


def test_a_us_public_sector_due_crosses_the_weekend_and_the_spring_forward() -> None:
    sector = CALENDARS["us-public-sector"]
    friday = at(LA, 2026, 3, 6, 17, 0)  # PST, UTC-8; clocks go forward on Sunday 8 March
    due = sector.due(friday, 4 * H)
    assert due == at(LA, 2026, 3, 9, 9, 0)  # Monday 09:00 PDT, UTC-7
    assert due.astimezone(UTC) == datetime(2026, 3, 9, 16, 0, tzinfo=UTC)
    assert sector.elapsed(friday, due) == 4 * H
    assert due - friday == timedelta(days=2, hours=15)  # one wall-clock hour was skipped


def test_a_us_public_sector_due_skips_thanksgiving() -> None:
    sector = CALENDARS["us-public-sector"]
    wednesday = at(LA, 2026, 11, 25, 17, 0)
    assert sector.due(wednesday, 4 * H) == at(LA, 2026, 11, 27, 9, 0)  # Thursday is a holiday
    assert sector.elapsed(wednesday, at(LA, 2026, 11, 27, 0, 0)) == 1 * H


def test_a_us_public_sector_day_is_twelve_hours_on_the_fall_back_week() -> None:
    sector = CALENDARS["us-public-sector"]
    friday, monday = at(LA, 2026, 10, 30, 0, 0), at(LA, 2026, 11, 3, 0, 0)  # DST ends 1 Nov
    assert sector.elapsed(friday, monday) == 24 * H  # Friday and Monday, 12 hours each


def test_whole_local_days_are_23_and_25_hours_long_on_the_change_days() -> None:
    always = calendar_from_data(
        "la-always", {"zone": "America/Los_Angeles", "hours": dict.fromkeys(
            ("mon", "tue", "wed", "thu", "fri", "sat", "sun"), "00:00-24:00")},
    )  # fmt: skip
    assert always.elapsed(at(LA, 2026, 3, 8, 0, 0), at(LA, 2026, 3, 9, 0, 0)) == 23 * H
    assert always.elapsed(at(LA, 2026, 11, 1, 0, 0), at(LA, 2026, 11, 2, 0, 0)) == 25 * H


def test_paris_night_openings_lose_and_gain_the_changed_hour() -> None:
    night = calendar_from_data(
        "paris-night", {"zone": "Europe/Paris", "hours": {"sun": "01:00-04:00"}}
    )
    spring = at(PARIS, 2026, 3, 29, 0, 0)  # 02:00 → 03:00
    autumn = at(PARIS, 2026, 10, 25, 0, 0)  # 03:00 → 02:00
    assert night.elapsed(spring, spring + 24 * H) == 2 * H
    assert night.elapsed(autumn, autumn + 25 * H) == 4 * H
    assert night.due(spring, 2 * H) == at(PARIS, 2026, 3, 29, 4, 0)
    assert night.due(autumn, 4 * H) == at(PARIS, 2026, 10, 25, 4, 0)


def test_europe_business_closes_for_lunch_and_easter_monday() -> None:
    europe = CALENDARS["europe-business"]
    friday = at(PARIS, 2026, 4, 3, 16, 0)  # Friday closes at 17:00; Monday 6 April is a holiday
    assert europe.due(friday, 2 * H) == at(PARIS, 2026, 4, 7, 10, 0)
    tuesday = at(PARIS, 2026, 4, 7, 12, 0)
    assert europe.due(tuesday, 1 * H) == at(PARIS, 2026, 4, 7, 14, 0)  # lunch 12:30-13:30
    assert europe.elapsed(at(PARIS, 2026, 3, 30, 0, 0), at(PARIS, 2026, 4, 6, 0, 0)) == timedelta(
        hours=4 * 8 + 7
    )


def test_a_due_from_closed_hours_starts_counting_at_the_next_opening() -> None:
    sector = CALENDARS["us-public-sector"]
    saturday = at(LA, 2026, 3, 14, 12, 0)
    assert sector.due(saturday, timedelta(minutes=30)) == at(LA, 2026, 3, 16, 6, 30)
    assert sector.elapsed(saturday, at(LA, 2026, 3, 16, 6, 0)) == timedelta(0)


def test_24x7_is_wall_clock_time() -> None:
    always = CALENDARS["24x7"]
    start = datetime(2026, 3, 8, 9, 30, tzinfo=UTC)
    assert always.due(start, 5 * H) == start + 5 * H
    assert always.elapsed(start, start + 77 * H) == 77 * H


@pytest.mark.parametrize(
    "data",
    [
        {"zone": "Mars/Olympus", "hours": {"mon": "09:00-17:00"}},
        {"zone": "UTC", "hours": {}},
        {"zone": "UTC", "hours": {"mon": "17:00-09:00"}},
        {"zone": "UTC", "hours": {"mon": "09:00-13:00,12:00-17:00"}},
        {"zone": "UTC", "hours": {"funday": "09:00-17:00"}},
        {"zone": "UTC", "hours": {"mon": "nine to five"}},
        {"zone": "UTC", "hours": {"mon": "09:00-17:00"}, "holidays": ["25/12/2026"]},
    ],
)
def test_a_malformed_calendar_is_refused_with_the_reason(data: dict[str, object]) -> None:
    with pytest.raises(InvalidField):
        calendar_from_data("broken", data)
