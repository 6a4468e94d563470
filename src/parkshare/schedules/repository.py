"""All SQL about calendar overrides and suspensions."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from parkshare.calendar import DayType
from parkshare.repository import Repository
from parkshare.schedules.model import CalendarOverride


class ScheduleRepository(Repository):
    def overrides(self) -> dict[date, DayType]:
        rows = self.session.scalars(select(CalendarOverride))
        return {row.day: row.day_type for row in rows}

    def override_for(self, day: date) -> CalendarOverride | None:
        return self.session.get(CalendarOverride, day)
