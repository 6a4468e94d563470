"""China's official day types: workday, rest day, statutory holiday, make-up working day.

The State Council publishes each year's holidays and the weekend days that become working
days (调休) in the previous autumn. We read them from the maintained ``chinese-calendar``
package; an administrator can override single dates (a local event, a late announcement,
next year's calendar before the package has it). A date that neither covers is an error,
never a guess.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from enum import StrEnum

import chinese_calendar

from parkshare.errors import CalendarNotCovered


class DayType(StrEnum):
    WORKDAY = "workday"  # 工作日
    REST_DAY = "rest_day"  # 休息日 (an ordinary weekend day)
    HOLIDAY = "holiday"  # 法定节假日 (incl. the days moved into a holiday)
    MAKEUP_WORKDAY = "makeup_workday"  # 调休上班日: a weekend day that is worked

    @property
    def is_working(self) -> bool:
        return self in (DayType.WORKDAY, DayType.MAKEUP_WORKDAY)


WORKING_DAYS = frozenset({DayType.WORKDAY, DayType.MAKEUP_WORKDAY})
DAYS_OFF = frozenset({DayType.REST_DAY, DayType.HOLIDAY})


def official_day_type(day: date) -> DayType:
    """The day type the official calendar gives ``day``; raises for a year it does not cover."""
    try:
        is_off, holiday_name = chinese_calendar.get_holiday_detail(day)
    except NotImplementedError as exc:
        first, last = covered_years()
        raise CalendarNotCovered(
            f"The official holiday calendar covers {first}–{last}; {day.isoformat()} is outside "
            "it. Add date overrides for that year or upgrade chinese-calendar.",
            date=day.isoformat(),
            covered_from=first,
            covered_to=last,
        ) from exc
    if is_off:
        return DayType.HOLIDAY if holiday_name else DayType.REST_DAY
    return DayType.MAKEUP_WORKDAY if day.weekday() >= 5 else DayType.WORKDAY


def covered_years() -> tuple[int, int]:
    years = [d.year for d in chinese_calendar.holidays]
    return min(years), max(years)


class OfficialCalendar:
    """The official calendar with an administrator's date overrides on top."""

    def __init__(self, overrides: Mapping[date, DayType] | None = None) -> None:
        self._overrides = dict(overrides or {})

    def day_type(self, day: date) -> DayType:
        override = self._overrides.get(day)
        return override if override is not None else official_day_type(day)

    def next_working_day(self, day: date) -> date:
        """The first working day after ``day``."""
        candidate = day + timedelta(days=1)
        while not self.day_type(candidate).is_working:
            candidate += timedelta(days=1)
        return candidate
