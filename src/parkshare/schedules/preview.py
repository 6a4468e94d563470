"""A proposed sharing schedule, checked and previewed before it is saved (pure).

An operator edits a car park's rules as a *proposal*: rules as drafts that may still be wrong.
``problems`` names everything wrong with one, each with a stable code (shared berths above the
physical ones, two rules of one day type overlapping, a span that ends before it starts…);
``accept`` turns a sound proposal into the values of ``schedules.rules``. ``week`` shows what
a schedule shares over the coming days — the day types of the official calendar, the periods
of each day and the windows they join into — and ``misfits`` finds the reservations a new
schedule could no longer honour. All window arithmetic is ``schedules.rules``'s.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from dataclasses import field as default
from datetime import date, datetime, time, timedelta
from itertools import combinations

from parkshare.availability.rules import Commitment, Unservable, least_free
from parkshare.calendar import DayType
from parkshare.errors import Conflict, InvalidSchedule
from parkshare.schedules.rules import (
    MAX_RULE_SPAN,
    SHANGHAI,
    BerthCategory,
    Berths,
    DayTypes,
    QuietHours,
    Schedule,
    Segment,
    SharingRule,
    Window,
    segments_on,
    window_at,
    windows_between,
)

PREVIEW_DAYS = 7
MAX_RULES = 24


@dataclass(frozen=True)
class RuleDraft:
    """One rule as the operator wrote it: not yet known to be sound."""

    day_types: frozenset[DayType]
    start: time
    end: time
    end_day_offset: int
    shared_berths: Mapping[BerthCategory, int]


@dataclass(frozen=True)
class Proposal:
    rules: tuple[RuleDraft, ...]
    quiet_hours: tuple[time, time] | None = None  # (start, end), e.g. 22:00–06:00


@dataclass(frozen=True)
class Problem:
    """What is wrong with a proposal. ``field`` names the input (``rules.1.end``); ``rule``
        is the rule's 0-based ``position``; ``values`` fill the message in either language (their
    ``rule`` counts from 1, as the operator does)."""

    code: str
    field: str
    message: str
    position: int | None = None
    values: Mapping[str, object] = default(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        return {
            "code": self.code,
            "field": self.field,
            "message": self.message,
            "position": self.position,
            "details": dict(self.values),
        }


class ScheduleRefused(InvalidSchedule):
    """A proposal with problems: the code is the first problem's, ``details`` lists all."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(
            " ".join(p.message for p in problems), problems=[p.as_dict() for p in problems]
        )
        self.code = problems[0].code
        self.problems = problems


class ScheduleConflictsReservations(Conflict):
    """The new schedule could not honour reservations already made (see ``misfits``)."""

    code = "schedule_conflicts_reservations"


class ScheduleChanged(Conflict):
    """Someone saved the car park's schedule since the editor loaded it."""

    code = "schedule_changed"


def _span_minutes(rule: RuleDraft) -> int:
    start = rule.start.hour * 60 + rule.start.minute
    end = rule.end.hour * 60 + rule.end.minute
    return rule.end_day_offset * 24 * 60 + end - start


def problems(proposal: Proposal, physical: Berths) -> list[Problem]:
    """Everything wrong with ``proposal`` for a car park with ``physical`` berths."""
    found: list[Problem] = []
    if len(proposal.rules) > MAX_RULES:
        found.append(
            Problem("too_many_rules", "rules", f"At most {MAX_RULES} rules.", values={"most": 24})
        )
    sound: dict[int, SharingRule] = {}
    for position, rule in enumerate(proposal.rules):
        mine = _rule_problems(position, rule, physical)
        found += mine
        if not mine:
            sound[position] = _rule(rule)
    found += _overlaps(sound)
    if proposal.quiet_hours is not None and proposal.quiet_hours[0] == proposal.quiet_hours[1]:
        found.append(
            Problem(
                "quiet_hours_empty",
                "quiet_hours.end",
                "Quiet hours must not start and end at the same time.",
            )
        )
    return found


def _rule_problems(position: int, rule: RuleDraft, physical: Berths) -> list[Problem]:
    found: list[Problem] = []
    number = position + 1

    def add(code: str, name: str, message: str, **values: object) -> None:
        where = f"rules.{position}.{name}"
        found.append(Problem(code, where, f"Rule {number} {message}", position, values))

    if not rule.day_types:
        add("no_day_types", "day_types", "applies to no day type.", rule=number)
    minutes = _span_minutes(rule)
    if not 0 <= rule.end_day_offset <= 2:
        add("span_too_long", "end_day_offset", "may end up to two days later.", rule=number)
    elif minutes <= 0:
        add(
            "span_ends_before_start",
            "end",
            "ends before it starts; mark it as ending the next day.",
            rule=number,
        )
    elif timedelta(minutes=minutes) > MAX_RULE_SPAN:
        add("span_too_long", "end", "lasts more than 48 hours.", rule=number)
    for category in BerthCategory:
        shared, has = rule.shared_berths.get(category, 0), physical.get(category, 0)
        values = {"rule": number, "category": str(category), "shared": shared, "physical": has}
        if shared < 0:
            message = f"shares a negative number of {category} berths."
            add("negative_berths", f"shared_berths.{category}", message, **values)
        elif shared > has:
            message = f"shares {shared} {category} berths; the car park has only {has}."
            add("shared_above_physical", f"shared_berths.{category}", message, **values)
    if not found and sum(rule.shared_berths.values()) == 0:
        message = "shares no berth; remove it or give it berths."
        add("rule_shares_nothing", "shared_berths", message, rule=number)
    return found


def _overlaps(sound: dict[int, SharingRule]) -> list[Problem]:
    """Two rules of one day type whose spans overlap on that day would leave it unclear what
    the day shares. (Spans of *neighbouring* days may overlap: there the larger applies, as
    when Friday's evening rule runs into Saturday's all-day rule.)"""
    found: list[Problem] = []
    anchor = date(2000, 1, 3)
    for (i, one), (j, other) in combinations(sorted(sound.items()), 2):
        common = one.day_types & other.day_types
        if not common:
            continue
        a_start, a_end = one.span_on(anchor, SHANGHAI)
        b_start, b_end = other.span_on(anchor, SHANGHAI)
        if a_start < b_end and b_start < a_end:
            found.append(
                Problem(
                    "overlapping_spans",
                    f"rules.{j}.start",
                    f"Rules {i + 1} and {j + 1} both apply to {', '.join(sorted(common))} and "
                    "their times overlap; merge them or change their times.",
                    j,
                    {"rule": i + 1, "other": j + 1, "day_types": sorted(common)},
                )
            )
    return found


def _rule(draft: RuleDraft) -> SharingRule:
    return SharingRule(
        day_types=draft.day_types,
        start=draft.start,
        end=draft.end,
        end_day_offset=draft.end_day_offset,
        shared_berths={c: draft.shared_berths.get(c, 0) for c in BerthCategory},
    )


def accept(
    proposal: Proposal, physical: Berths
) -> tuple[tuple[SharingRule, ...], QuietHours | None]:
    """The rules and quiet hours of a sound proposal; ``ScheduleRefused`` otherwise."""
    found = problems(proposal, physical)
    if found:
        raise ScheduleRefused(found)
    quiet = QuietHours(*proposal.quiet_hours) if proposal.quiet_hours else None
    return tuple(_rule(rule) for rule in proposal.rules), quiet


# --- the coming week


@dataclass(frozen=True)
class PreviewDay:
    day: date
    day_type: DayType
    segments: tuple[Segment, ...]  # the day's sharing periods, clipped to the day


@dataclass(frozen=True)
class PreviewWindow:
    start: datetime  # clipped to the preview
    end: datetime  # clipped to the preview
    opened: datetime | None  # when the window really opens (``None``: beyond the horizon)
    must_leave_by: datetime | None  # when it really closes (``None``: beyond the horizon)
    segments: tuple[Segment, ...]

    @property
    def peak(self) -> Berths:
        return {c: max(s.shared.get(c, 0) for s in self.segments) for c in BerthCategory}


@dataclass(frozen=True)
class Preview:
    first_day: date
    days: tuple[PreviewDay, ...]
    windows: tuple[PreviewWindow, ...]


def week(
    schedule: Schedule,
    calendar: DayTypes,
    first_day: date,
    *,
    days: int = PREVIEW_DAYS,
    horizon_days: int = 31,
) -> Preview:
    """What ``schedule`` shares from ``first_day`` for ``days`` days, by day and by window."""
    start = datetime.combine(first_day, time(0), schedule.tz)
    end = datetime.combine(first_day + timedelta(days=days), time(0), schedule.tz)
    listed = tuple(
        PreviewDay(day, calendar.day_type(day), tuple(segments_on(schedule, calendar, day)))
        for day in (first_day + timedelta(days=n) for n in range(days))
    )
    windows = []
    for clipped in windows_between(schedule, calendar, start, end):
        assert clipped.start is not None and clipped.end is not None  # clipped to [start, end)
        whole = window_at(schedule, calendar, clipped.start, horizon_days=horizon_days)
        windows.append(
            PreviewWindow(
                start=clipped.start,
                end=clipped.end,
                opened=whole.start if whole else clipped.start,
                must_leave_by=whole.end if whole else clipped.end,
                segments=clipped.segments,
            )
        )
    return Preview(first_day=first_day, days=listed, windows=tuple(windows))


# --- reservations a new schedule must still honour


@dataclass(frozen=True)
class Holding:
    """A reservation that holds a berth: booked, or its car inside."""

    ref: str
    category: BerthCategory
    start: datetime
    end: datetime
    must_leave_by: datetime
    inside: bool


@dataclass(frozen=True)
class Misfit:
    ref: str
    reason: str  # an availability reason, ``window_ends_earlier`` or ``no_capacity``


WINDOW_ENDS_EARLIER = "window_ends_earlier"  # the stay fits, but its promised must-leave-by not
NO_CAPACITY = "no_capacity"  # fewer shared berths than reservations and passes hold


def misfits(
    schedule: Schedule,
    calendar: DayTypes,
    holdings: Iterable[Holding],
    held: Callable[[Window], Iterable[Commitment]],
    *,
    now: datetime,
    horizon_days: int = 31,
) -> list[Misfit]:
    """The reservations ``schedule`` could not honour from ``now`` on: each must still lie in
    one window that lasts until its must-leave-by, outside quiet hours, with enough shared
    berths for it and everything else ``held`` in that window (reservations and passes)."""
    found: list[Misfit] = []
    for holding in holdings:
        if holding.end <= now:
            continue
        reason = _misfit(schedule, calendar, holding, held, now=now, horizon_days=horizon_days)
        if reason is not None:
            found.append(Misfit(holding.ref, reason))
    return found


def _misfit(
    schedule: Schedule,
    calendar: DayTypes,
    holding: Holding,
    held: Callable[[Window], Iterable[Commitment]],
    *,
    now: datetime,
    horizon_days: int,
) -> str | None:
    at = max(holding.start, now)
    local = schedule.tz
    reach = (holding.must_leave_by.astimezone(local).date() - at.astimezone(local).date()).days
    window = window_at(schedule, calendar, at, horizon_days=max(horizon_days, reach))
    if window is None:
        return str(Unservable.OUTSIDE_SHARING_HOURS)
    if window.end is not None and holding.end > window.end:
        return str(Unservable.SPANS_WINDOWS)
    if window.end is not None and holding.must_leave_by > window.end:
        return WINDOW_ENDS_EARLIER
    quiet = schedule.quiet_hours
    if quiet and not holding.inside and quiet.forbids_entry_at(holding.start, schedule.tz):
        return str(Unservable.ENTRY_IN_QUIET_HOURS)
    if quiet and quiet.forbids_exit_at(holding.end, schedule.tz):
        return str(Unservable.EXIT_IN_QUIET_HOURS)
    commitments = [c for c in held(window) if c.start < holding.end and at < c.end]
    if least_free(window, commitments, holding.category, at, holding.end) < 0:
        return NO_CAPACITY
    return None
