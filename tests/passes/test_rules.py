"""Which windows a pass covers does not depend on the offset a time is written in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from parkshare.calendar import OfficialCalendar
from parkshare.passes.model import PassKind
from parkshare.passes.rules import month_of, window_kind
from parkshare.schedules.rules import SHANGHAI, Window

SATURDAY_MORNING = datetime(2022, 6, 25, 10, tzinfo=SHANGHAI)
FRIDAY_NIGHT = datetime(2022, 6, 24, 19, tzinfo=SHANGHAI)


@pytest.mark.parametrize("offset", [SHANGHAI, UTC, timezone(timedelta(hours=-5))])
def test_a_window_holding_a_rest_days_noon_is_a_weekend_window_in_any_offset(
    offset: timezone,
) -> None:
    calendar = OfficialCalendar()
    midday = Window(SATURDAY_MORNING, SATURDAY_MORNING + timedelta(hours=4), ())
    night = Window(FRIDAY_NIGHT, FRIDAY_NIGHT + timedelta(hours=12), ())  # ends 07:00 Sat
    assert window_kind(midday, calendar, anchor=SATURDAY_MORNING.astimezone(offset)) == (
        PassKind.WEEKEND
    )
    assert window_kind(night, calendar, anchor=FRIDAY_NIGHT.astimezone(offset)) == PassKind.NIGHT


def test_the_month_of_an_instant_is_the_shanghai_month_when_asked_so() -> None:
    first_of_july = datetime(2022, 7, 1, 2, tzinfo=SHANGHAI)  # still June in UTC
    assert month_of(first_of_july.astimezone(UTC), SHANGHAI).month == 7
