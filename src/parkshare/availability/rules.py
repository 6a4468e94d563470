"""Availability of a car park over [start, end): pure arithmetic over a schedule.

Free berths = the least, over the interval, of shared capacity minus commitments
(reservations and passes) active at that instant. The interval must lie inside one sharing
window; otherwise the answer carries the reason it cannot be served.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from parkshare.errors import InvalidInterval
from parkshare.schedules.rules import (
    BerthCategory,
    DayTypes,
    Schedule,
    Window,
    require_aware,
    window_at,
)


class Unservable(StrEnum):
    OUTSIDE_SHARING_HOURS = "outside_sharing_window"  # the start is in no sharing window
    SPANS_WINDOWS = "spans_windows"  # the end is after the window's must-leave-by
    SUSPENDED = "suspended"  # the operator suspended sharing during the interval
    ENTRY_IN_QUIET_HOURS = "entry_in_quiet_hours"
    EXIT_IN_QUIET_HOURS = "exit_in_quiet_hours"
    LOT_NOT_ONLINE = "lot_not_online"  # onboarding or suspended car park


@dataclass(frozen=True)
class Commitment:
    """Berths held by a reservation or a pass over [start, end)."""

    start: datetime
    end: datetime
    category: BerthCategory = BerthCategory.ORDINARY
    berths: int = 1


@dataclass(frozen=True)
class Availability:
    start: datetime
    end: datetime
    category: BerthCategory
    free: int
    shared: int  # least shared capacity of ``category`` over the interval
    free_by_category: dict[BerthCategory, int]
    window_start: datetime | None
    must_leave_by: datetime | None
    reason: Unservable | None = None

    @property
    def servable(self) -> bool:
        return self.reason is None


def check_interval(start: datetime, end: datetime) -> None:
    require_aware(start, end)
    if end <= start:
        raise InvalidInterval(
            f"The interval must end after it starts (from {start.isoformat()} "
            f"to {end.isoformat()}).",
            start=start.isoformat(),
            end=end.isoformat(),
        )


def availability(
    schedule: Schedule,
    calendar: DayTypes,
    commitments: Iterable[Commitment] | Callable[[Window], Iterable[Commitment]],
    start: datetime,
    end: datetime,
    *,
    category: BerthCategory = BerthCategory.ORDINARY,
    horizon_days: int = 31,
) -> Availability:
    """Free berths over [start, end). ``commitments`` may be a function of the window that
    holds the interval (passes hold a berth through whole windows)."""
    check_interval(start, end)
    # Follow the window at least to ``end``: past the horizon an open window's capacity is
    # unknown, and the least over the interval may lie there (a holiday with fewer berths).
    reach = (end.astimezone(schedule.tz).date() - start.astimezone(schedule.tz).date()).days
    window = window_at(schedule, calendar, start, horizon_days=max(horizon_days, reach))
    reason = _unservable(schedule, window, start, end)
    if window is None or reason is not None:
        return Availability(
            start=start,
            end=end,
            category=category,
            free=0,
            shared=0,
            free_by_category={c: 0 for c in BerthCategory},
            window_start=window.start if window else None,
            must_leave_by=window.must_leave_by if window else None,
            reason=reason,
        )
    given = commitments(window) if callable(commitments) else commitments
    held = [c for c in given if c.start < end and start < c.end]
    shared = {c: _least_shared(window, c, start, end) for c in BerthCategory}
    free = {c: max(0, least_free(window, held, c, start, end)) for c in BerthCategory}
    return Availability(
        start=start,
        end=end,
        category=category,
        free=free[category],
        shared=shared[category],
        free_by_category=free,
        window_start=window.start,
        must_leave_by=window.must_leave_by,
    )


def _unservable(
    schedule: Schedule, window: Window | None, start: datetime, end: datetime
) -> Unservable | None:
    if any(s.overlaps(start, end) for s in schedule.suspensions):
        return Unservable.SUSPENDED
    if window is None:
        return Unservable.OUTSIDE_SHARING_HOURS
    if window.end is not None and end > window.end:
        return Unservable.SPANS_WINDOWS
    quiet = schedule.quiet_hours
    if quiet and quiet.forbids_entry_at(start, schedule.tz):
        return Unservable.ENTRY_IN_QUIET_HOURS
    if quiet and quiet.forbids_exit_at(end, schedule.tz):
        return Unservable.EXIT_IN_QUIET_HOURS
    return None


def _change_points(
    window: Window, held: list[Commitment], start: datetime, end: datetime
) -> set[datetime]:
    """Instants in [start, end) where capacity or commitments can change: the minimum is at one."""
    points = {start}
    points.update(s.start for s in window.segments if start < s.start < end)
    points.update(c.start for c in held if start < c.start < end)
    return points


def _least_shared(window: Window, category: BerthCategory, start: datetime, end: datetime) -> int:
    points = _change_points(window, [], start, end)
    return min(window.shared_at(t).get(category, 0) for t in points)


def least_free(
    window: Window,
    held: list[Commitment],
    category: BerthCategory,
    start: datetime,
    end: datetime,
) -> int:
    mine = [c for c in held if c.category == category]
    return min(
        window.shared_at(t).get(category, 0) - sum(c.berths for c in mine if c.start <= t < c.end)
        for t in _change_points(window, mine, start, end)
    )
