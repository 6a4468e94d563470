"""Reservations and monthly passes for a scaled demo, made against each car park's own
sharing windows so that no window is ever overbooked. Pure: values in, values out.

A car park's windows depend on its kind of schedule (a *shape*: the presets the West Coast
demo uses), the calendar and the clock, not on its berth counts. So they are computed once
per shape with the real schedule rules (``windows_between``, ``window_at``, ``window_kind``),
and each car park maps the shape's capacity levels (all it shares, or a mall's daytime part)
to its own berths.

Each window has a demand: 30–90% of its peak capacity, around the car park's own level.
Passes hold the lowest ordinary berths through every window of their kind in their month
(at most the least capacity over those windows: the headroom allocation checks). Of the
demand left, the part the car park sees booked ahead fills the next berths as *tracks*: a
stay wherever the capacity reaches the berth, sometimes another after it; the rest of the
demand drives in on the day and is not written. So at every instant passes and stays
together hold at most the capacity. Stays start on a 15-minute grid, never before now,
enter and leave outside quiet hours and end by the window's must-leave-by.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum

from parkshare.clock import month_bounds
from parkshare.errors import CalendarNotCovered
from parkshare.passes.model import PassKind
from parkshare.passes.rules import month_of, window_kind
from parkshare.schedules import presets
from parkshare.schedules.rules import (
    SHANGHAI,
    BerthCategory,
    Berths,
    DayTypes,
    QuietHours,
    Schedule,
    SharingRule,
    window_at,
    windows_between,
)

GRID = 15  # minutes: bookings start and end on quarter hours
DAY = 24 * 60
FULL, DAYTIME = "full", "daytime"
_TEMPLATE: dict[str, Berths] = {
    FULL: {c: 1_000 for c in BerthCategory},
    DAYTIME: {c: 1 for c in BerthCategory},
}
_LEVEL_OF = {tuple(b[c] for c in BerthCategory): level for level, b in _TEMPLATE.items()}


class Shape(StrEnum):
    INSTITUTIONAL = "institutional"  # Qingdao's rules, quiet hours 22:00–06:00
    MALL = "mall"
    HOTEL = "hotel"
    OFFICE = "office"


PASS_KINDS: dict[Shape, tuple[PassKind, ...]] = {
    Shape.INSTITUTIONAL: (PassKind.NIGHT, PassKind.WEEKEND),
    Shape.OFFICE: (PassKind.NIGHT, PassKind.WEEKEND),
    Shape.MALL: (PassKind.NIGHT,),  # residents park overnight; malls have no weekend window
    Shape.HOTEL: (),
}


def shape_rules(shape: Shape, full: Berths, daytime: Berths) -> tuple[SharingRule, ...]:
    if shape is Shape.INSTITUTIONAL:
        return presets.qingdao_institutional(full)
    if shape is Shape.MALL:
        return presets.mall(full, daytime=daytime)
    if shape is Shape.HOTEL:
        return presets.hotel(full)
    return presets.office(full)


def shape_quiet_hours(shape: Shape) -> QuietHours | None:
    return presets.QINGDAO_QUIET_HOURS if shape is Shape.INSTITUTIONAL else None


@dataclass(frozen=True)
class Horizon:
    """Minutes counted from ``base``, local midnight (Asia/Shanghai, which keeps no DST)."""

    base: datetime
    utc_base: datetime  # the same instant in UTC
    now: int  # the first bookable minute: now, rounded up to the grid
    end: int  # stays start before this

    def instant(self, minute: int) -> datetime:
        """In UTC, as the database stores it (converting it again then costs nothing)."""
        return self.utc_base + timedelta(minutes=minute)

    def minute(self, instant: datetime) -> int:
        return int((instant - self.base).total_seconds() // 60)


def horizon(now: datetime, days: int) -> Horizon:
    local = now.astimezone(SHANGHAI)
    base = datetime.combine(local.date(), time(0), SHANGHAI)
    seconds = (now - base).total_seconds()
    first = -(-int(seconds) // (GRID * 60)) * GRID
    return Horizon(base=base, utc_base=base.astimezone(UTC), now=first, end=first + days * DAY)


@dataclass(frozen=True)
class Piece:
    start: int
    end: int
    level: str


@dataclass(frozen=True)
class WindowPlan:
    start: int
    end: int
    must_leave_by: datetime
    kind: PassKind  # the passes that hold berths in it
    month: date  # … of this month (the month the window starts in)
    pieces: tuple[Piece, ...]


@dataclass(frozen=True)
class ShapePlan:
    shape: Shape
    quiet: tuple[int, int] | None  # quiet hours as minutes of the day
    windows: tuple[WindowPlan, ...]  # every window that holds a bookable minute
    # The capacity levels a pass of (kind, month) holds a berth through; a car park's
    # headroom for such passes is the least of its ordinary berths at these levels.
    pass_levels: Mapping[tuple[PassKind, date], frozenset[str]]


def plan_shape(shape: Shape, calendar: DayTypes, span: Horizon, *, horizon_days: int) -> ShapePlan:
    quiet = shape_quiet_hours(shape)
    schedule = Schedule(rules=shape_rules(shape, _TEMPLATE[FULL], _TEMPLATE[DAYTIME]))
    windows: dict[datetime, WindowPlan] = {}
    for piece in windows_between(
        schedule, calendar, span.instant(span.now), span.instant(span.end)
    ):
        assert piece.start is not None  # pieces are clipped to the span: both ends are set
        window = window_at(schedule, calendar, piece.start, horizon_days=horizon_days)
        if window is None or window.start is None or window.end is None:
            continue  # open past the horizon: nothing to book against
        windows[window.start] = WindowPlan(
            start=span.minute(window.start),
            end=span.minute(window.end),
            must_leave_by=window.end.astimezone(UTC),
            kind=window_kind(window, calendar, anchor=window.start),
            month=month_of(window.start, SHANGHAI),
            pieces=tuple(
                Piece(span.minute(s.start), span.minute(s.end), _level(s.shared))
                for s in window.segments
            ),
        )
    levels: dict[tuple[PassKind, date], frozenset[str]] = {}
    for month in sorted({w.month for w in windows.values()}):
        for kind in PASS_KINDS[shape]:
            try:
                found = _month_levels(schedule, calendar, kind, month, horizon_days)
            except CalendarNotCovered:
                continue  # passes cannot be allocated for a month the calendar does not cover
            if found:
                levels[(kind, month)] = found
    return ShapePlan(
        shape=shape,
        quiet=_minutes_of_day(quiet),
        windows=tuple(windows[k] for k in sorted(windows)),
        pass_levels=levels,
    )


def _minutes_of_day(quiet: QuietHours | None) -> tuple[int, int] | None:
    if quiet is None:
        return None
    return quiet.start.hour * 60 + quiet.start.minute, quiet.end.hour * 60 + quiet.end.minute


def _level(shared: Berths) -> str:
    return _LEVEL_OF[tuple(shared.get(c, 0) for c in BerthCategory)]


def _month_levels(
    schedule: Schedule, calendar: DayTypes, kind: PassKind, month: date, horizon_days: int
) -> frozenset[str]:
    """As the passes service's headroom: every window of ``kind`` that starts in the month."""
    first, following = month_bounds(month, SHANGHAI)
    levels: set[str] = set()
    for piece in windows_between(schedule, calendar, first, following):
        anchor = piece.start or first
        window = window_at(schedule, calendar, anchor, horizon_days=horizon_days)
        if window is None or window_kind(window, calendar, anchor=anchor) is not kind:
            continue
        if window.start is not None and window.start < first:
            continue  # it belongs to the month before
        start, end = window.start or anchor, window.end or piece.end or following
        levels.update(_level(s.shared) for s in window.segments if s.start < end and start < s.end)
    return frozenset(levels)


@dataclass(frozen=True)
class Stay:
    category: BerthCategory
    start: int
    end: int
    window: WindowPlan


@dataclass(frozen=True)
class _Habits:
    """How drivers use one shape of car park."""

    overnight: float  # chance that an evening arrival stays the night
    morning: tuple[int, int]  # when overnight stays leave (minutes of the day)
    evening: tuple[int, int]  # length of an evening stay
    daytime: tuple[int, int]  # length of a daytime stay


_HABITS = {
    Shape.INSTITUTIONAL: _Habits(0.7, (6 * 60, 7 * 60 + 30), (60, 240), (120, 600)),
    Shape.OFFICE: _Habits(0.6, (6 * 60 + 30, 8 * 60), (60, 240), (120, 600)),
    Shape.MALL: _Habits(0.8, (7 * 60, 9 * 60 + 30), (60, 180), (60, 300)),
    Shape.HOTEL: _Habits(0.0, (8 * 60, 8 * 60), (60, 180), (120, 600)),
}
# Of a window's demand, the part each category sees (EV and accessible berths fill less).
_CATEGORY_DEMAND = {
    BerthCategory.ORDINARY: 1.0,
    BerthCategory.EV_CHARGING: 0.8,
    BerthCategory.ACCESSIBLE: 0.5,
}
_WHOLE_WINDOW = 0.12  # in a window of a day or more: stays until the must-leave-by
_BOOKED_AGAIN = 0.25  # a booked berth is booked again later in the same window


def stays(
    rng: random.Random,
    plan: ShapePlan,
    span: Horizon,
    *,
    capacity: Mapping[str, Berths],
    passes: Mapping[tuple[PassKind, date], int],
    demand: float,
    booked: float,
) -> Iterator[Stay]:
    """A car park's stays over the span. ``capacity``: its berths at each level of the shape;
    ``passes``: passes issued per (kind, month); ``demand``: its usual peak utilisation;
    ``booked``: the part of the demand beyond the passes that books ahead."""
    for window in plan.windows:
        utilisation = min(0.9, max(0.3, rng.gauss(demand, 0.08)))
        for category, share in _CATEGORY_DEMAND.items():
            held = passes.get((window.kind, window.month), 0)
            held = held if category is BerthCategory.ORDINARY else 0
            peak = max(capacity[p.level][category] for p in window.pieces)
            wanted = round(peak * utilisation * share)
            for berth in range(held, held + round(max(0, wanted - held) * booked)):
                for start, end in _track(window, capacity, category, berth, span):
                    for entry, leave in _fill(rng, plan, window, start, end, span.end):
                        yield Stay(category, entry, leave, window)


def _track(
    window: WindowPlan,
    capacity: Mapping[str, Berths],
    category: BerthCategory,
    berth: int,
    span: Horizon,
) -> Iterator[tuple[int, int]]:
    """The stretches of the window, from now on, in which ``berth`` is shared."""
    runs: list[list[int]] = []
    for piece in window.pieces:
        if capacity[piece.level][category] <= berth:
            continue
        if runs and runs[-1][1] == piece.start:
            runs[-1][1] = piece.end
        else:
            runs.append([piece.start, piece.end])
    for start, end in runs:
        if max(start, span.now) < end:
            yield max(start, span.now), end


def _fill(
    rng: random.Random, plan: ShapePlan, window: WindowPlan, start: int, end: int, last: int
) -> Iterator[tuple[int, int]]:
    """One stay after another in [start, end), entries before ``last``."""
    habits = _HABITS[plan.shape]
    t = start + rng.randrange(0, 180, GRID)
    while True:
        t = _entry_at_or_after(t, plan.quiet)
        if t >= last or end - t < 60:
            return
        leave = _exit_allowed(t, min(_leave(rng, habits, window, t, end), end), end, plan.quiet)
        if leave is None:
            t += 60
            continue
        yield t, leave
        if rng.random() >= _BOOKED_AGAIN:
            return  # the berth is used on the day for the rest of the window, if at all
        t = leave + rng.randrange(15, 240, GRID)


def _leave(rng: random.Random, habits: _Habits, window: WindowPlan, t: int, end: int) -> int:
    if end - window.start >= DAY and rng.random() < _WHOLE_WINDOW:
        return end - rng.randrange(0, 120, GRID)
    clock = t % DAY
    if clock >= 17 * 60 or clock < 5 * 60:
        if rng.random() < habits.overnight:
            morning = t - clock + (DAY if clock >= 12 * 60 else 0)
            low, high = habits.morning
            return morning + rng.randrange(low, high + GRID, GRID)
        return t + rng.randrange(habits.evening[0], habits.evening[1] + GRID, GRID)
    return t + rng.randrange(habits.daytime[0], habits.daytime[1] + GRID, GRID)


def _quiet(clock: int, quiet: tuple[int, int], *, entry: bool) -> bool:
    """Inside quiet hours (which may cross midnight); for exits the start itself is allowed."""
    start, end = quiet
    after_start = clock >= start if entry else clock > start
    if start < end:
        return after_start and clock < end
    return after_start or clock < end


def _entry_at_or_after(t: int, quiet: tuple[int, int] | None) -> int:
    if quiet is None or not _quiet(t % DAY, quiet, entry=True):
        return t
    clock = t % DAY
    return t - clock + quiet[1] + (DAY if clock >= quiet[1] else 0)


def _exit_allowed(t: int, leave: int, end: int, quiet: tuple[int, int] | None) -> int | None:
    """``leave``, or the nearest exit outside quiet hours: back to their start, or on to their
    end while the window lasts; ``None`` when none leaves a stay of half an hour."""
    if quiet is not None and _quiet(leave % DAY, quiet, entry=False):
        clock = leave % DAY
        back = leave - clock + quiet[0] - (DAY if clock < quiet[0] else 0)
        on = leave - clock + quiet[1] + (DAY if clock >= quiet[1] else 0)
        leave = back if back - t >= 30 else on
    return leave if leave - t >= 30 and leave <= end else None
