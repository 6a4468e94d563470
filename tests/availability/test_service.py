from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from parkshare.availability.rules import Unservable
from parkshare.availability.service import lot_availability
from parkshare.calendar import DayType
from parkshare.clock import FixedClock
from parkshare.db import Database
from parkshare.errors import CalendarNotCovered, InvalidSchedule, LotNotFound
from parkshare.lots.model import LotStatus
from parkshare.lots.service import get_lot
from parkshare.schedules import presets
from parkshare.schedules import service as schedules
from parkshare.schedules.rules import BerthCategory
from tests.factories import make_lot

SH = ZoneInfo("Asia/Shanghai")


def at(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=SH)  # type: ignore[misc]


def test_stored_lot_answers_free_berths_and_must_leave_by(
    database: Database, clock: FixedClock
) -> None:
    with database.session(write=True) as session:
        make_lot(session, clock=clock, code="L", shared_berths=25)
    with database.session() as session:
        answer = lot_availability(session, "L", at(2022, 6, 24, 19), at(2022, 6, 26, 12))
    assert answer.servable
    assert answer.free == 25
    assert answer.window_start == at(2022, 6, 24, 18)
    assert answer.must_leave_by == at(2022, 6, 27, 7, 30)


def test_lot_not_online_cannot_be_served(database: Database, clock: FixedClock) -> None:
    with database.session(write=True) as session:
        make_lot(session, clock=clock, code="L", status=LotStatus.ONBOARDING)
    with database.session() as session:
        answer = lot_availability(session, "L", at(2022, 6, 24, 19), at(2022, 6, 24, 21))
    assert answer.reason is Unservable.LOT_NOT_ONLINE
    assert answer.free == 0


def test_unknown_lot_is_an_error(database: Database) -> None:
    with database.session() as session, pytest.raises(LotNotFound):
        lot_availability(session, "NOPE", at(2022, 6, 24, 19), at(2022, 6, 24, 21))


def test_calendar_override_changes_the_window(database: Database, clock: FixedClock) -> None:
    """An administrator turns Friday 2022-06-24 into a holiday: sharing starts at midnight."""
    with database.session(write=True) as session:
        make_lot(session, clock=clock, code="L")
        schedules.override_day(
            session, at(2022, 6, 24).date(), DayType.HOLIDAY, note="台风", clock=clock
        )
    with database.session() as session:
        answer = lot_availability(session, "L", at(2022, 6, 24, 10), at(2022, 6, 24, 12))
    assert answer.servable
    assert answer.window_start == at(2022, 6, 23, 18)


def test_override_replaces_an_earlier_override(database: Database, clock: FixedClock) -> None:
    day = at(2022, 6, 24).date()
    with database.session(write=True) as session:
        schedules.override_day(session, day, DayType.HOLIDAY, note="first", clock=clock)
    with database.session(write=True) as session:
        schedules.override_day(session, day, DayType.WORKDAY, note="second", clock=clock)
    with database.session() as session:
        assert schedules.calendar(session).day_type(day) is DayType.WORKDAY


def test_overrides_make_an_uncovered_year_usable(database: Database, clock: FixedClock) -> None:
    with database.session(write=True) as session:
        make_lot(session, clock=clock, code="L")
    with database.session() as session, pytest.raises(CalendarNotCovered):
        lot_availability(session, "L", at(2027, 1, 5, 19), at(2027, 1, 5, 21))
    with database.session(write=True) as session:
        for n in range(1, 10):
            day = at(2027, 1, n).date()
            kind = DayType.WORKDAY if day.weekday() < 5 else DayType.REST_DAY
            schedules.override_day(session, day, kind, note="2027 calendar", clock=clock)
    with database.session() as session:
        answer = lot_availability(session, "L", at(2027, 1, 5, 19), at(2027, 1, 5, 21))
    assert answer.servable
    assert answer.must_leave_by == at(2027, 1, 6, 7, 30)


def test_suspension_with_notice_takes_the_window_away(
    database: Database, clock: FixedClock
) -> None:
    clock.set(at(2022, 6, 20, 9))
    with database.session(write=True) as session:
        make_lot(session, clock=clock, code="L")
    with database.session(write=True) as session:
        schedules.suspend(
            get_lot(session, "L"),
            start=at(2022, 6, 25, 8),
            resume=at(2022, 6, 25, 20),
            reason="运动会 sports day",
            emergency=False,
            min_notice=timedelta(hours=2),
            clock=clock,
        )
    with database.session() as session:
        hit = lot_availability(session, "L", at(2022, 6, 25, 9), at(2022, 6, 25, 10))
        before = lot_availability(session, "L", at(2022, 6, 24, 19), at(2022, 6, 25, 7))
    assert hit.reason is Unservable.SUSPENDED
    assert before.servable
    assert before.must_leave_by == at(2022, 6, 25, 8)


def test_suspension_without_notice_needs_an_emergency(
    database: Database, clock: FixedClock
) -> None:
    clock.set(at(2022, 6, 24, 18))
    with database.session(write=True) as session:
        make_lot(session, clock=clock, code="L")
    with database.session(write=True) as session:
        lot = get_lot(session, "L")
        with pytest.raises(InvalidSchedule) as error:
            schedules.suspend(
                lot,
                start=at(2022, 6, 24, 19),
                resume=at(2022, 6, 24, 23),
                reason="漏水 water leak",
                emergency=False,
                min_notice=timedelta(hours=2),
                clock=clock,
            )
        assert "notice" in error.value.message
        row = schedules.suspend(
            lot,
            start=at(2022, 6, 24, 19),
            resume=at(2022, 6, 24, 23),
            reason="漏水 water leak",
            emergency=True,
            min_notice=timedelta(hours=2),
            clock=clock,
        )
        assert row.emergency


def test_a_stored_schedule_can_be_replaced(database: Database, clock: FixedClock) -> None:
    """Operators edit schedules: the new rules replace the old ones in one unit of work."""
    with database.session(write=True) as session:
        make_lot(session, clock=clock, code="L", shared_berths=8)
    with database.session(write=True) as session:
        lot = get_lot(session, "L")
        version = lot.version
        shared = {BerthCategory.ORDINARY: 3}
        schedules.set_schedule(lot, presets.office(shared), None, clock=clock)
    with database.session() as session:
        lot = get_lot(session, "L")
        assert lot.version == version + 1
        answer = lot_availability(session, "L", at(2022, 6, 24, 19, 30), at(2022, 6, 25, 7, 45))
    assert answer.servable and answer.free == 3
    assert answer.must_leave_by == at(2022, 6, 27, 8)
