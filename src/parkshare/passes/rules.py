"""Which sharing windows a pass covers (pure)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, tzinfo

from parkshare.calendar import DAYS_OFF
from parkshare.passes.model import PassKind
from parkshare.schedules.rules import SHANGHAI, DayTypes, Window


def month_of(instant: datetime, tz: tzinfo | None) -> date:
    local = instant.astimezone(tz)
    return date(local.year, local.month, 1)


def window_kind(window: Window, calendar: DayTypes, *, anchor: datetime) -> PassKind:
    """A window that holds the middle of a rest day or holiday (noon in Shanghai) is a
    weekend window; any other is a night window. Open ends are bounded by ``anchor`` ± 7
    days. The answer does not depend on the offset ``anchor`` is written in."""
    tz = SHANGHAI
    start = window.start or anchor - timedelta(days=7)
    end = window.end or anchor + timedelta(days=7)
    day = start.astimezone(tz).date()
    while day <= end.astimezone(tz).date():
        noon = datetime.combine(day, time(12), tz)
        if start <= noon < end and calendar.day_type(day) in DAYS_OFF:
            return PassKind.WEEKEND
        day += timedelta(days=1)
    return PassKind.NIGHT
