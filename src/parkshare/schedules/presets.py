"""Ready-made sharing schedules: the Qingdao rules and typical commercial patterns.

An operator starts from one of these and edits it; the West Coast demo uses them as they are.
"""

from __future__ import annotations

from datetime import time

from parkshare.calendar import DAYS_OFF, WORKING_DAYS
from parkshare.schedules.rules import Berths, QuietHours, SharingRule

# Qingdao's rules for institutional car parks: enter from 18:00 on working days and leave by
# 07:30; all day on rest days and holidays, leaving by 07:30 of the next working day; no entry
# or exit 22:00–06:00.
QINGDAO_QUIET_HOURS = QuietHours(time(22, 0), time(6, 0))


def qingdao_institutional(shared: Berths) -> tuple[SharingRule, ...]:
    return (
        SharingRule(WORKING_DAYS, time(18, 0), time(7, 30), shared, end_day_offset=1),
        SharingRule(DAYS_OFF, time(0, 0), time(7, 30), shared, end_day_offset=1),
    )


def mall(shared: Berths, daytime: Berths) -> tuple[SharingRule, ...]:
    """Malls share everything after closing and a part of the car park while trading."""
    return (
        SharingRule(WORKING_DAYS | DAYS_OFF, time(22, 0), time(9, 30), shared, end_day_offset=1),
        SharingRule(WORKING_DAYS, time(9, 30), time(22, 0), daytime),
    )


def hotel(shared: Berths) -> tuple[SharingRule, ...]:
    """Hotels share in the day, between check-out and the evening arrivals."""
    return (SharingRule(WORKING_DAYS | DAYS_OFF, time(8, 0), time(18, 0), shared),)


def office(shared: Berths) -> tuple[SharingRule, ...]:
    """Office buildings share at night on working days and all through days off."""
    return (
        SharingRule(WORKING_DAYS, time(19, 0), time(8, 0), shared, end_day_offset=1),
        SharingRule(DAYS_OFF, time(0, 0), time(8, 0), shared, end_day_offset=1),
    )
