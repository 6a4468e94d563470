"""Use cases of sharing schedules: read a car park's schedule, override a date, suspend."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy.orm import Session, object_session

from parkshare.calendar import DayType, OfficialCalendar
from parkshare.clock import Clock
from parkshare.errors import InvalidSchedule
from parkshare.lots.model import Lot
from parkshare.schedules.model import (
    CalendarOverride,
    SharingRuleBerths,
    SharingRuleRow,
    SharingSchedule,
    SuspensionRow,
)
from parkshare.schedules.repository import ScheduleRepository
from parkshare.schedules.rules import (
    BerthCategory,
    QuietHours,
    Schedule,
    SharingRule,
    Suspension,
)


def calendar(session: Session) -> OfficialCalendar:
    return OfficialCalendar(ScheduleRepository(session).overrides())


def schedule_of(lot: Lot) -> Schedule:
    """The pure schedule value of a car park loaded with its rules and suspensions."""
    quiet = None
    if lot.schedule and lot.schedule.quiet_start and lot.schedule.quiet_end:
        quiet = QuietHours(lot.schedule.quiet_start, lot.schedule.quiet_end)
    return Schedule(
        rules=tuple(_rule_of(row) for row in lot.rules),
        quiet_hours=quiet,
        suspensions=tuple(Suspension(s.start, s.end, s.reason) for s in lot.suspensions),
    )


def _rule_of(row: SharingRuleRow) -> SharingRule:
    return SharingRule(
        day_types=frozenset(DayType(value) for value in row.day_types.split(",")),
        start=row.start,
        end=row.end,
        end_day_offset=row.end_day_offset,
        shared_berths={b.category: b.shared_berths for b in row.berths},
    )


def peak_shared_berths(lot: Lot) -> int:
    """The car park's declared shared berths: the most any of its rules shares at once."""
    return max((sum(b.shared_berths for b in row.berths) for row in lot.rules), default=0)


def set_schedule(
    lot: Lot,
    rules: tuple[SharingRule, ...],
    quiet_hours: QuietHours | None,
    *,
    clock: Clock,
) -> None:
    """Replace a car park's rules (the car park must be loaded with its schedule)."""
    physical = {row.category: row.total for row in lot.berths}
    for rule in rules:
        for category, shared in rule.shared_berths.items():
            if shared > physical.get(category, 0):
                raise InvalidSchedule(
                    f"Rule {rule.describe()} shares {shared} {category} berths but car park "
                    f"{lot.code} has only {physical.get(category, 0)}.",
                    lot=lot.code,
                    category=str(category),
                )
    session = object_session(lot)
    if session is not None and lot.id is not None and lot.rules:
        # The old rules go first: written in one flush with the new ones, the new rows would
        # meet the old ones' unique (lot, position) before those are deleted.
        lot.rules = []
        session.flush()
    lot.rules = [
        SharingRuleRow(
            position=position,
            day_types=",".join(sorted(rule.day_types)),
            start=rule.start,
            end=rule.end,
            end_day_offset=rule.end_day_offset,
            berths=[
                SharingRuleBerths(category=BerthCategory(c), shared_berths=n)
                for c, n in sorted(rule.shared_berths.items())
            ],
        )
        for position, rule in enumerate(rules)
    ]
    quiet_start = quiet_hours.start if quiet_hours else None
    quiet_end = quiet_hours.end if quiet_hours else None
    if lot.schedule is None:
        lot.schedule = SharingSchedule(updated_at=clock.now())
    lot.schedule.quiet_start, lot.schedule.quiet_end = quiet_start, quiet_end
    lot.schedule.updated_at = clock.now()
    lot.version = (lot.version or 0) + 1


def suspend(
    lot: Lot,
    *,
    start: datetime,
    resume: datetime,
    reason: str,
    emergency: bool,
    min_notice: timedelta,
    clock: Clock,
) -> SuspensionRow:
    """Suspend sharing at a car park from ``start`` until ``resume``.

    Outside an emergency the operator must give ``min_notice``: drivers holding
    reservations need time to make other plans.
    """
    window = Suspension(start, resume, reason)  # validates the period
    now = clock.now()
    if not reason.strip():
        raise InvalidSchedule("Say why sharing is suspended; drivers are shown the reason.")
    if window.end <= now:
        raise InvalidSchedule("The suspension would already be over.")
    if not emergency and start < now + min_notice:
        raise InvalidSchedule(
            f"A suspension needs {min_notice} notice; it starts at {start.isoformat()}. "
            "Mark it as an emergency to suspend at once.",
            notice_required_minutes=int(min_notice.total_seconds() // 60),
        )
    row = SuspensionRow(
        start=start, end=resume, reason=reason.strip(), emergency=emergency, created_at=now
    )
    lot.suspensions.append(row)
    lot.version = (lot.version or 0) + 1
    return row


def override_day(
    session: Session, day: date, day_type: DayType, *, note: str, clock: Clock
) -> CalendarOverride:
    """Set (or replace) the administrator's day type for ``day``."""
    row = ScheduleRepository(session).override_for(day)
    if row is None:
        row = CalendarOverride(day=day, day_type=day_type, note=note, created_at=clock.now())
        session.add(row)
    else:
        row.day_type, row.note = day_type, note
    session.flush()
    return row
