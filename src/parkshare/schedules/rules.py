"""Sharing schedules as pure values: rules, windows and must-leave-by.

A *rule* says: on days of these types, from ``start`` until ``end`` (``end_day_offset`` days
later), this many berths of each category are shared. A rule's span may cross midnight and
last up to two days. Spans of neighbouring days that touch or overlap join into one
continuous *window*; where rules overlap the larger capacity applies. The end of a window
is its *must-leave-by* time. Quiet hours forbid entry and exit; suspensions take capacity
away for a period.

With the Qingdao institutional rules (workdays 18:00 → 07:30 next day; rest days and
holidays 00:00 → 07:30 next day) Friday 18:00 → Monday 07:30 is one window, and so is a
whole holiday week.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from itertools import pairwise
from typing import Protocol
from zoneinfo import ZoneInfo

from parkshare.calendar import DayType
from parkshare.errors import InvalidSchedule, InvalidTimestamp

SHANGHAI = ZoneInfo("Asia/Shanghai")
MAX_RULE_SPAN = timedelta(days=2)


class BerthCategory(StrEnum):
    ORDINARY = "ordinary"
    EV_CHARGING = "ev_charging"
    ACCESSIBLE = "accessible"


Berths = Mapping[BerthCategory, int]
NO_BERTHS: Berths = {category: 0 for category in BerthCategory}


class DayTypes(Protocol):
    def day_type(self, day: date) -> DayType: ...


def require_aware(*instants: datetime) -> None:
    for instant in instants:
        if instant.tzinfo is None or instant.utcoffset() is None:
            raise InvalidTimestamp(
                f"Timestamp {instant.isoformat()} has no time zone; give an offset such as +08:00."
            )


@dataclass(frozen=True)
class SharingRule:
    day_types: frozenset[DayType]
    start: time
    end: time
    shared_berths: Berths
    end_day_offset: int = 0

    def __post_init__(self) -> None:
        if not self.day_types:
            raise InvalidSchedule("A sharing rule needs at least one day type.")
        if not 0 <= self.end_day_offset <= 2:
            raise InvalidSchedule("A rule may end on its own day or up to two days later.")
        span = self.span_on(date(2000, 1, 3), SHANGHAI)
        if not timedelta(0) < span[1] - span[0] <= MAX_RULE_SPAN:
            raise InvalidSchedule(
                f"Rule {self.describe()} must end after it starts and last at most 48 hours."
            )
        if any(count < 0 for count in self.shared_berths.values()):
            raise InvalidSchedule("Shared berths cannot be negative.")

    def span_on(self, day: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
        """The span this rule opens when anchored on ``day``."""
        end_day = day + timedelta(days=self.end_day_offset)
        return datetime.combine(day, self.start, tz), datetime.combine(end_day, self.end, tz)

    def describe(self) -> str:
        days = "+".join(sorted(self.day_types))
        suffix = f"+{self.end_day_offset}d" if self.end_day_offset else ""
        return f"{days} {self.start:%H:%M}–{self.end:%H:%M}{suffix}"


@dataclass(frozen=True)
class QuietHours:
    """Daily hours with no entry or exit, e.g. 22:00–06:00 (crossing midnight)."""

    start: time
    end: time

    def __post_init__(self) -> None:
        if self.start == self.end:
            raise InvalidSchedule("Quiet hours must not start and end at the same time.")

    def _inside(self, clock: time, *, include_start: bool) -> bool:
        after_start = clock >= self.start if include_start else clock > self.start
        if self.start < self.end:
            return after_start and clock < self.end
        return after_start or clock < self.end

    def forbids_entry_at(self, instant: datetime, tz: ZoneInfo) -> bool:
        return self._inside(instant.astimezone(tz).time(), include_start=True)

    def forbids_exit_at(self, instant: datetime, tz: ZoneInfo) -> bool:
        """Leaving by the start of quiet hours, or at their end, is allowed."""
        return self._inside(instant.astimezone(tz).time(), include_start=False)


@dataclass(frozen=True)
class Suspension:
    """The operator stops sharing for [start, end); ``end`` is the announced resume time."""

    start: datetime
    end: datetime
    reason: str = ""

    def __post_init__(self) -> None:
        require_aware(self.start, self.end)
        if self.end <= self.start:
            raise InvalidSchedule("A suspension must resume after it starts.")

    def overlaps(self, start: datetime, end: datetime) -> bool:
        return self.start < end and start < self.end


@dataclass(frozen=True)
class Schedule:
    rules: tuple[SharingRule, ...]
    quiet_hours: QuietHours | None = None
    suspensions: tuple[Suspension, ...] = ()
    tz: ZoneInfo = SHANGHAI


@dataclass(frozen=True)
class Segment:
    """A stretch of constant shared capacity."""

    start: datetime
    end: datetime
    shared: Berths

    def contains(self, instant: datetime) -> bool:
        return self.start <= instant < self.end


@dataclass(frozen=True)
class Window:
    """One continuous sharing window. ``None`` ends lie beyond the search horizon."""

    start: datetime | None
    end: datetime | None
    segments: tuple[Segment, ...] = field(repr=False)

    @property
    def must_leave_by(self) -> datetime | None:
        return self.end

    def shared_at(self, instant: datetime) -> Berths:
        for segment in self.segments:
            if segment.contains(instant):
                return segment.shared
        return NO_BERTHS


def _max_berths(spans: list[Berths]) -> Berths:
    return {c: max((span.get(c, 0) for span in spans), default=0) for c in BerthCategory}


def _day_bounds(day: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    return datetime.combine(day, time(0), tz), datetime.combine(
        day + timedelta(days=1), time(0), tz
    )


def segments_on(schedule: Schedule, calendar: DayTypes, day: date) -> list[Segment]:
    """Shared capacity during the local calendar ``day``, as contiguous non-empty segments."""
    day_start, day_end = _day_bounds(day, schedule.tz)
    spans: list[tuple[datetime, datetime, Berths]] = []
    for anchor_offset in range(-2, 1):  # rules anchored up to two days before reach into ``day``
        anchor = day + timedelta(days=anchor_offset)
        day_type = calendar.day_type(anchor)
        for rule in schedule.rules:
            if day_type in rule.day_types:
                start, end = rule.span_on(anchor, schedule.tz)
                if start < day_end and day_start < end:
                    spans.append((max(start, day_start), min(end, day_end), rule.shared_berths))
    cuts = {day_start, day_end}
    cuts.update(t for span in spans for t in span[:2])
    cuts.update(
        t for s in schedule.suspensions for t in (s.start, s.end) if day_start < t < day_end
    )
    edges = sorted(cuts)
    segments: list[Segment] = []
    for lo, hi in pairwise(edges):
        if any(s.overlaps(lo, hi) for s in schedule.suspensions):
            continue
        shared = _max_berths([berths for start, end, berths in spans if start <= lo < end])
        if sum(shared.values()) == 0:
            continue
        if segments and segments[-1].end == lo and segments[-1].shared == shared:
            segments[-1] = Segment(segments[-1].start, hi, shared)
        else:
            segments.append(Segment(lo, hi, shared))
    return segments


def _run(
    schedule: Schedule,
    calendar: DayTypes,
    day: date,
    first: list[Segment],
    horizon_days: int,
    *,
    forward: bool,
) -> tuple[list[Segment], bool]:
    """Follow touching segments away from the instant, day by day.

    ``first`` holds the starting day's segments in walking order. Returns the run (in walking
    order) and whether it ended at a gap (``False``: still running at the horizon).
    """
    run: list[Segment] = []
    step = timedelta(days=1 if forward else -1)
    segments = first
    for _ in range(horizon_days + 1):
        for segment in segments:
            if run and (segment.start != run[-1].end if forward else segment.end != run[-1].start):
                return run, True
            run.append(segment)
        day_start, day_end = _day_bounds(day, schedule.tz)
        if (run[-1].end != day_end) if forward else (run[-1].start != day_start):
            return run, True
        day += step
        ordered = segments_on(schedule, calendar, day)
        segments = ordered if forward else ordered[::-1]
    return run, False


def window_at(
    schedule: Schedule, calendar: DayTypes, instant: datetime, *, horizon_days: int = 31
) -> Window | None:
    """The sharing window that holds ``instant``, or ``None`` outside sharing hours."""
    require_aware(instant)
    day = instant.astimezone(schedule.tz).date()
    today = segments_on(schedule, calendar, day)
    hit = next((i for i, s in enumerate(today) if s.contains(instant)), None)
    if hit is None:
        return None
    after, ends = _run(schedule, calendar, day, today[hit:], horizon_days, forward=True)
    before, starts = _run(schedule, calendar, day, today[hit::-1], horizon_days, forward=False)
    segments = _merge(before[::-1] + after[1:])
    return Window(
        start=segments[0].start if starts else None,
        end=segments[-1].end if ends else None,
        segments=tuple(segments),
    )


def windows_between(
    schedule: Schedule, calendar: DayTypes, start: datetime, end: datetime
) -> list[Window]:
    """The windows that touch [start, end), clipped to it (for previews and reports)."""
    require_aware(start, end)
    first = start.astimezone(schedule.tz).date()
    last = end.astimezone(schedule.tz).date()
    segments: list[Segment] = []
    day = first
    while day <= last:
        for s in segments_on(schedule, calendar, day):
            if s.start < end and start < s.end:
                segments.append(Segment(max(s.start, start), min(s.end, end), s.shared))
        day += timedelta(days=1)
    windows: list[Window] = []
    for segment in _merge(segments):
        if windows and windows[-1].end == segment.start:
            run = windows[-1]
            windows[-1] = Window(run.start, segment.end, (*run.segments, segment))
        else:
            windows.append(Window(segment.start, segment.end, (segment,)))
    return windows


def _merge(segments: list[Segment]) -> list[Segment]:
    merged: list[Segment] = []
    for segment in segments:
        if merged and merged[-1].end == segment.start and merged[-1].shared == segment.shared:
            merged[-1] = Segment(merged[-1].start, segment.end, segment.shared)
        else:
            merged.append(segment)
    return merged
