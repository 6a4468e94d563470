"""China's official day types, administrator overrides and the limits of the calendar."""

from __future__ import annotations

from datetime import date, timedelta

import chinese_calendar
import pytest
from hypothesis import given
from hypothesis import strategies as st

from parkshare.calendar import (
    DAYS_OFF,
    WORKING_DAYS,
    DayType,
    OfficialCalendar,
    covered_years,
    official_day_type,
)
from parkshare.errors import CalendarNotCovered

CALENDAR = OfficialCalendar()


def days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def test_ordinary_weekday_is_workday() -> None:
    assert CALENDAR.day_type(date(2022, 6, 21)) is DayType.WORKDAY  # a Tuesday


def test_ordinary_weekend_days_are_rest_days() -> None:
    assert CALENDAR.day_type(date(2022, 6, 25)) is DayType.REST_DAY  # Saturday
    assert CALENDAR.day_type(date(2022, 6, 26)) is DayType.REST_DAY  # Sunday


@pytest.mark.parametrize("day", days(date(2022, 10, 1), date(2022, 10, 7)), ids=str)
def test_national_day_week_2022_is_holiday(day: date) -> None:
    assert CALENDAR.day_type(day) is DayType.HOLIDAY


def test_weekend_after_national_day_2022_is_made_up_as_working_days() -> None:
    assert CALENDAR.day_type(date(2022, 10, 8)) is DayType.MAKEUP_WORKDAY  # Saturday
    assert CALENDAR.day_type(date(2022, 10, 9)) is DayType.MAKEUP_WORKDAY  # Sunday


def test_day_before_national_day_2022_is_an_ordinary_workday() -> None:
    assert CALENDAR.day_type(date(2022, 9, 30)) is DayType.WORKDAY


@pytest.mark.parametrize("day", days(date(2022, 1, 31), date(2022, 2, 6)), ids=str)
def test_spring_festival_2022_is_holiday(day: date) -> None:
    assert CALENDAR.day_type(day) is DayType.HOLIDAY


def test_weekend_before_spring_festival_2022_is_made_up_as_working_days() -> None:
    assert CALENDAR.day_type(date(2022, 1, 29)) is DayType.MAKEUP_WORKDAY
    assert CALENDAR.day_type(date(2022, 1, 30)) is DayType.MAKEUP_WORKDAY


def test_first_day_after_spring_festival_2022_is_workday() -> None:
    assert CALENDAR.day_type(date(2022, 2, 7)) is DayType.WORKDAY


def test_working_day_types_are_workday_and_makeup_workday() -> None:
    assert {t for t in DayType if t.is_working} == {DayType.WORKDAY, DayType.MAKEUP_WORKDAY}
    assert {t for t in DayType if t.is_working} == WORKING_DAYS
    assert {t for t in DayType if not t.is_working} == DAYS_OFF


@given(st.dates(min_value=date(2004, 1, 1), max_value=date(2026, 12, 31)))
def test_day_type_agrees_with_the_official_working_day_flag(day: date) -> None:
    day_type = official_day_type(day)
    assert day_type.is_working == chinese_calendar.is_workday(day)
    if day_type in (DayType.REST_DAY, DayType.MAKEUP_WORKDAY):
        assert day.weekday() >= 5
    if day_type is DayType.WORKDAY:
        assert day.weekday() < 5


def test_override_wins_over_a_makeup_workday() -> None:
    calendar = OfficialCalendar({date(2022, 10, 8): DayType.REST_DAY})
    assert calendar.day_type(date(2022, 10, 8)) is DayType.REST_DAY
    assert calendar.day_type(date(2022, 10, 9)) is DayType.MAKEUP_WORKDAY


def test_override_wins_over_an_ordinary_workday() -> None:
    calendar = OfficialCalendar({date(2022, 6, 21): DayType.HOLIDAY})
    assert calendar.day_type(date(2022, 6, 21)) is DayType.HOLIDAY


def test_override_wins_over_a_holiday() -> None:
    calendar = OfficialCalendar({date(2022, 10, 3): DayType.WORKDAY})
    assert calendar.day_type(date(2022, 10, 3)) is DayType.WORKDAY


def test_overrides_are_copied_not_shared_with_the_caller() -> None:
    overrides = {date(2022, 6, 21): DayType.HOLIDAY}
    calendar = OfficialCalendar(overrides)
    overrides[date(2022, 6, 21)] = DayType.REST_DAY
    assert calendar.day_type(date(2022, 6, 21)) is DayType.HOLIDAY


def test_covered_years_are_2004_to_2026() -> None:
    assert covered_years() == (2004, 2026)


@pytest.mark.parametrize("day", [date(2004, 1, 1), date(2026, 12, 31)], ids=str)
def test_first_and_last_covered_days_have_a_day_type(day: date) -> None:
    assert CALENDAR.day_type(day) in set(DayType)


@pytest.mark.parametrize("day", [date(2027, 1, 4), date(2003, 12, 31)], ids=str)
def test_uncovered_year_raises_calendar_not_covered(day: date) -> None:
    with pytest.raises(CalendarNotCovered) as caught:
        CALENDAR.day_type(day)
    error = caught.value
    assert error.code == "calendar_not_covered"
    assert error.status == 422
    assert day.isoformat() in error.message
    assert "2004–2026" in error.message
    assert "override" in error.message
    assert error.details == {"date": day.isoformat(), "covered_from": 2004, "covered_to": 2026}


def test_override_makes_an_uncovered_date_usable() -> None:
    calendar = OfficialCalendar({date(2027, 1, 4): DayType.WORKDAY})
    assert calendar.day_type(date(2027, 1, 4)) is DayType.WORKDAY
    with pytest.raises(CalendarNotCovered):
        calendar.day_type(date(2027, 1, 5))


def test_next_working_day_after_a_workday_is_the_next_day() -> None:
    assert CALENDAR.next_working_day(date(2022, 6, 21)) == date(2022, 6, 22)


def test_next_working_day_after_friday_is_monday() -> None:
    assert CALENDAR.next_working_day(date(2022, 6, 24)) == date(2022, 6, 27)


def test_next_working_day_skips_the_national_day_week_to_the_makeup_saturday() -> None:
    assert CALENDAR.next_working_day(date(2022, 9, 30)) == date(2022, 10, 8)
    assert CALENDAR.next_working_day(date(2022, 10, 4)) == date(2022, 10, 8)


def test_next_working_day_follows_overrides() -> None:
    calendar = OfficialCalendar({date(2022, 10, 8): DayType.REST_DAY})
    assert calendar.next_working_day(date(2022, 9, 30)) == date(2022, 10, 9)


def test_next_working_day_into_an_uncovered_year_raises() -> None:
    with pytest.raises(CalendarNotCovered):
        CALENDAR.next_working_day(date(2026, 12, 31))
