"""Use cases of sharing schedules: read a car park's schedule, edit it (preview, save),
override a date, suspend."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from functools import cache

from sqlalchemy.orm import Session, object_session

from parkshare.availability.rules import Commitment
from parkshare.calendar import DayType, OfficialCalendar
from parkshare.clock import Clock
from parkshare.errors import InvalidSchedule, LotNotFound
from parkshare.lots.model import Lot
from parkshare.lots.repository import LotRepository
from parkshare.lots.service import get_lot
from parkshare.reservations.model import ReservationStatus
from parkshare.reservations.repository import ReservationRepository
from parkshare.schedules.model import (
    CalendarOverride,
    SharingRuleBerths,
    SharingRuleRow,
    SharingSchedule,
    SuspensionRow,
)
from parkshare.schedules.preview import (
    Holding,
    Misfit,
    Preview,
    Problem,
    Proposal,
    ScheduleChanged,
    ScheduleConflictsReservations,
    accept,
    misfits,
    problems,
    week,
)
from parkshare.schedules.repository import ScheduleRepository
from parkshare.schedules.rules import (
    BerthCategory,
    Berths,
    QuietHours,
    Schedule,
    SharingRule,
    Suspension,
    Window,
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
    berths = {b.category: b.shared_berths for b in row.berths}
    return rule_value(row.day_types, row.start, row.end, row.end_day_offset, berths)


def rule_value(
    day_types: str, start: time, end: time, end_day_offset: int, berths: Berths
) -> SharingRule:
    """A stored rule's value (``day_types`` as stored: comma-separated DayType values)."""
    return SharingRule(
        day_types=_day_types(day_types),
        start=start,
        end=end,
        end_day_offset=end_day_offset,
        shared_berths=berths,
    )


@cache
def _day_types(stored: str) -> frozenset[DayType]:
    return frozenset(DayType(value) for value in stored.split(","))


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


# --- editing a schedule (the operator console and PUT /lots/{code}/schedule)


def physical_berths(lot: Lot) -> dict[BerthCategory, int]:
    counts = {category: 0 for category in BerthCategory}
    counts.update({row.category: row.total for row in lot.berths})
    return counts


def preview_schedule(
    session: Session, lot: Lot, proposal: Proposal, *, clock: Clock, horizon_days: int = 31
) -> ScheduleCheck:
    """What ``proposal`` would share at ``lot`` over the coming week (from today, local time),
    or its problems; and the reservations it could not honour. Changes nothing."""
    found = problems(proposal, physical_berths(lot))
    if found:
        return ScheduleCheck(problems=found, preview=None, misfits=[])
    rules, quiet = accept(proposal, physical_berths(lot))
    proposed = replace(schedule_of(lot), rules=rules, quiet_hours=quiet)
    days = calendar(session)
    today = clock.now().astimezone(proposed.tz).date()
    return ScheduleCheck(
        problems=[],
        preview=week(proposed, days, today, horizon_days=horizon_days),
        misfits=unfit_reservations(session, lot, proposed, clock=clock, horizon_days=horizon_days),
    )


def save_schedule(
    session: Session,
    code: str,
    proposal: Proposal,
    *,
    expected_version: int | None = None,
    clock: Clock,
    horizon_days: int = 31,
) -> Lot:
    """Replace a car park's rules and quiet hours, under the car park's lock.

    A change that would break reservations already made is refused (409
    ``schedule_conflicts_reservations``), never applied to them silently: as with a suspension,
    the drivers must be told, so the operator suspends sharing for that period first (which
    cancels those bookings free of charge after the notice period) and then changes the rules.
    ``expected_version`` (the version the editor loaded) refuses a save over someone else's.
    """
    locked = LotRepository(session).lock_by_code(code)
    if locked is None:
        raise LotNotFound(f"No car park has the code {code!r}.", lot=code)
    lot = get_lot(session, code)
    if expected_version is not None and expected_version != lot.version:
        raise ScheduleChanged(
            f"The schedule of {code} was changed (version {lot.version}) since you loaded "
            f"version {expected_version}; reload it and make your change again.",
            version=lot.version,
        )
    rules, quiet = accept(proposal, physical_berths(lot))
    current = schedule_of(lot)
    if _same_rules(rules, current.rules) and quiet == current.quiet_hours:
        return lot  # nothing changes: no new version
    proposed = replace(current, rules=rules, quiet_hours=quiet)
    broken = unfit_reservations(session, lot, proposed, clock=clock, horizon_days=horizon_days)
    if broken:
        raise ScheduleConflictsReservations(
            f"{len(broken)} reservation(s) would no longer fit the new schedule. Suspend "
            "sharing for their period first (drivers are told and their bookings cancelled "
            "free of charge), or keep the schedule until they are over.",
            reservations=[{"reservation": m.ref, "reason": m.reason} for m in broken],
        )
    set_schedule(lot, rules, quiet, clock=clock)
    session.flush()
    return lot


def _same_rules(one: tuple[SharingRule, ...], other: tuple[SharingRule, ...]) -> bool:
    """Equal rules, a category left out counting as sharing none of it."""

    def key(rule: SharingRule) -> tuple[object, ...]:
        shared = tuple(rule.shared_berths.get(c, 0) for c in BerthCategory)
        return (rule.day_types, rule.start, rule.end, rule.end_day_offset, shared)

    return [key(r) for r in one] == [key(r) for r in other]


def unfit_reservations(
    session: Session, lot: Lot, schedule: Schedule, *, clock: Clock, horizon_days: int = 31
) -> list[Misfit]:
    """The reservations of ``lot`` still to come or under way that ``schedule`` could not
    honour (each checked with everything else held in its window: reservations and passes)."""
    # Imported here: availability builds on this module (profiles, schedule_of).
    from parkshare.availability.service import commitments

    now = clock.now()
    days = calendar(session)
    holdings = [
        Holding(
            ref=r.ref,
            category=r.category,
            start=r.start,
            end=r.end,
            must_leave_by=r.must_leave_by,
            inside=r.status is not ReservationStatus.BOOKED,
        )
        for r in ReservationRepository(session).holding(lot.id, now, None)
    ]

    def held(window: Window) -> list[Commitment]:
        return commitments(session, lot.id, window, days, anchor=window.start or now)

    return misfits(schedule, days, holdings, held, now=now, horizon_days=horizon_days)


@dataclass(frozen=True)
class ScheduleCheck:
    problems: list[Problem]
    preview: Preview | None
    misfits: list[Misfit]
