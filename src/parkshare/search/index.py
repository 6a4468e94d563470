"""The search index: every car park's free shared berths on a 15-minute grid, in NumPy arrays,
and their places in sorted coordinate arrays, so that a search is a few vector operations.

What it holds, per car park and slot of the grid (three days back to the booking horizon plus
two days ahead, aligned to Asia/Shanghai quarter hours):

- ``free``: the least free *ordinary* shared berths at any instant of the slot — shared
  capacity minus the reservations holding a berth then (their exact times, to the second) minus
  the passes of the sharing window;
- ``run``: which sharing window the slot belongs to (its index in the car park's list of
  windows), or -1 outside sharing hours.

A search whose ``from`` and ``to`` fall on quarter hours reads the exact answer from these: the
interval lies in one window when every slot has the same ``run``, and the least free over the
interval is the least over its slots. A window cut by the grid's edge (sharing that began
before the grid or goes on past it) keeps its free berths before passes; a search in it finds
the window's real bounds from the rules and the calendar, as the database path does, and takes
the passes of that window's kind and month off. Anything else — another berth category, times
off the grid, beyond it, a car park whose rules are not on quarter hours or that has a
suspension in the grid — is answered by the database, car park by car park, as before. The
index never decides a booking: booking locks the car park and counts in the database.

The index follows the database through ``lot_changes`` (written by an ORM hook in the same
transaction as every change of a reservation, pass, schedule, berths, tariff or status): a
search first re-reads the car parks changed since the last look (at once after a commit in this
process, otherwise at most ``POLL`` late). A new day moves the grid: the index is rebuilt.
"""

from __future__ import annotations

import threading
import time as timer
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

import numpy as np
from numpy.typing import NDArray
from sqlalchemy.orm import Session

from parkshare.calendar import DayType, OfficialCalendar
from parkshare.clock import Clock
from parkshare.config import Policy
from parkshare.errors import CalendarNotCovered
from parkshare.geo import haversine_m
from parkshare.lots.model import LotKind, LotStatus
from parkshare.lots.profiles import LotProfile
from parkshare.passes.model import PassKind
from parkshare.passes.rules import month_of, window_kind
from parkshare.schedules import service as schedules
from parkshare.schedules.rules import SHANGHAI, BerthCategory, SharingRule, Window, window_at
from parkshare.search import changes
from parkshare.search.index_repository import IndexRepository, LotFacts
from parkshare.search.rules import bounding_box

SLOT = timedelta(minutes=15)
PAST = timedelta(days=3)  # grid slots before today: windows that began before today
AHEAD = timedelta(days=2)  # beyond the booking horizon: the end of a window starting there
POLL = 0.2  # seconds: how stale the index may be about other processes' changes
FULL_RELOAD = 300  # more changed car parks than this at once: rebuild instead
GAP_WAIT = 10.0  # seconds a missing change id is waited for (see ``SearchIndex._advance``)
EARTH_RADIUS_M = 6_371_008.8  # as parkshare.geo.haversine_m
BATCH = 64  # car parks judged at a time, nearest first (a search mostly stops in the first)
CUT_CACHE = 65_536  # answers for windows cut by the grid's edge kept between catch-ups
CHUNK = 1_000  # car parks laid on the grid in one go (capacity, reservations, passes)
Windows = tuple[tuple[datetime | None, datetime | None], ...]
PassCounts = dict[tuple[PassKind, date], int]


@dataclass
class IndexedLot:
    """What a hit needs besides the arrays: names, values, the sharing windows of the grid."""

    id: int
    code: str
    name: str
    name_en: str
    kind: LotKind
    area: str
    lon: float  # WGS-84
    lat: float
    online: bool
    profile: LotProfile
    regular: bool  # False: answered by the database (see the module's docstring)
    windows: Sequence[tuple[datetime | None, datetime | None]] = ()
    passes: PassCounts = field(default_factory=dict)  # active passes by kind and month


@dataclass(frozen=True)
class Candidate:
    """A car park inside the search radius, in distance order, with the index's verdict."""

    lot: IndexedLot
    distance_m: float
    answered: bool  # False: ask the database
    free: int = 0
    must_leave_by: datetime | None = None


class SearchIndex:
    def __init__(self, *, grid_start: datetime, slots: int, built_at: float) -> None:
        self.grid_start = grid_start
        self.slots = slots
        self.built_at = built_at
        self.lots: list[IndexedLot] = []
        self.row_of: dict[int, int] = {}
        self.free: NDArray[np.int16] = np.zeros((0, slots), np.int16)
        self.run: NDArray[np.int16] = np.zeros((0, slots), np.int16)
        self.lat: NDArray[np.float64] = np.zeros(0)
        self.lon: NDArray[np.float64] = np.zeros(0)
        self.online: NDArray[np.bool_] = np.zeros(0, bool)
        self.regular: NDArray[np.bool_] = np.zeros(0, bool)
        self.kind: NDArray[np.int8] = np.zeros(0, np.int8)
        self.code_rank: NDArray[np.int64] = np.zeros(0, np.int64)
        self.by_lat: NDArray[np.int64] = np.zeros(0, np.int64)  # rows sorted by latitude
        self.sorted_lat: NDArray[np.float64] = np.zeros(0)
        self.policy = Policy()
        self.calendar = OfficialCalendar()
        self._cut: dict[tuple[int, datetime, datetime], tuple[int, datetime | None] | None] = {}
        self.floor = 0  # every change up to this id is in the index
        self.seen: dict[int, float] = {}  # changes after ``floor`` already in, and when
        self.checked_at = 0.0
        self.lock = threading.RLock()

    # --- building ---------------------------------------------------------------------------

    @classmethod
    def build(cls, session: Session, *, clock: Clock, policy: Policy) -> SearchIndex:
        """Read every car park, reservation and pass once and lay them on the grid."""
        now = clock.now()
        today = now.astimezone(SHANGHAI).date()
        grid_start = datetime.combine(today, time(0), SHANGHAI) - PAST
        grid_end = datetime.combine(today, time(0), SHANGHAI) + policy.booking_horizon + AHEAD
        calendar = schedules.calendar(session)
        grid_end = _covered_until(calendar, grid_start, grid_end)
        index = cls(
            grid_start=grid_start,
            slots=int((grid_end - grid_start) / SLOT),
            built_at=now.timestamp(),
        )
        index.policy = policy
        index.calendar = calendar
        repository = IndexRepository(session)
        index.floor = repository.last_change()
        lots = repository.facts()
        index._allocate(len(lots))
        holding = repository.holding(grid_start, grid_end, BerthCategory.ORDINARY)
        passes = repository.passes()
        layout, rows = _Layout(index, calendar), list(enumerate(lots))
        for first in range(0, len(rows), CHUNK):  # a chunk at a time: the temporaries stay small
            index._set_rows(rows[first : first + CHUNK], layout, holding, passes)
        index._sort_places()
        return index

    def _allocate(self, count: int) -> None:
        self.free = np.zeros((count, self.slots), np.int16)
        self.run = np.full((count, self.slots), -1, np.int16)
        self.lat = np.zeros(count)
        self.lon = np.zeros(count)
        self.online = np.zeros(count, bool)
        self.regular = np.zeros(count, bool)
        self.kind = np.zeros(count, np.int8)
        self.lots = []

    def _set_rows(
        self,
        rows: Sequence[tuple[int, LotFacts]],
        layout: _Layout,
        holding: dict[int, list[tuple[datetime, datetime]]],
        passes: dict[int, PassCounts],
    ) -> None:
        """Lay car parks on the grid: capacity by shape of rules (vectorised), reservations
        all at once, passes window by window. Entries are replaced only once complete."""
        entries = [(row, self._entry(lot)) for row, lot in rows]
        free = np.zeros((len(rows), self.slots), np.int32)
        run = np.full((len(rows), self.slots), -1, np.int16)
        groups: dict[tuple[object, ...], list[int]] = {}
        for position, (_, entry) in enumerate(entries):
            if entry.regular:
                groups.setdefault(layout.key(entry.profile.schedule.rules), []).append(position)
        for positions in groups.values():
            rules = entries[positions[0]][1].profile.schedule.rules
            runs, windows = layout.windows(rules)
            run[positions] = runs
            for position in positions:
                entries[position][1].windows = windows
            free[positions] = layout.capacity(rules, [entries[p][1].profile for p in positions])
        spans = [holding.get(entry.id, []) for _, entry in entries]
        free -= _held_most(spans, self.grid_start, self.slots)
        for position, (_, entry) in enumerate(entries):
            if entry.regular and (held := passes.get(entry.id)):
                entry.passes = held
                _subtract_passes(free[position], entry.windows, held, layout)
        for position, (row, entry) in enumerate(entries):
            self.free[row] = np.clip(free[position], -32_000, 32_000) if entry.regular else 0
            self.run[row] = run[position] if entry.regular else -1
            self.lat[row], self.lon[row] = entry.lat, entry.lon
            self.online[row] = entry.online
            self.regular[row] = entry.regular
            self.kind[row] = KINDS.index(entry.kind)
            if row == len(self.lots):
                self.lots.append(entry)
            else:
                self.lots[row] = entry
            self.row_of[entry.id] = row

    def _entry(self, lot: LotFacts) -> IndexedLot:
        profile = lot.profile
        return IndexedLot(
            id=lot.id,
            code=lot.code,
            name=lot.name,
            name_en=lot.name_en,
            kind=lot.kind,
            area=lot.area,
            lon=lot.lon,
            lat=lot.lat,
            online=profile.status is LotStatus.ONLINE,
            profile=profile,
            regular=_regular(profile, self.grid_start, self.grid_end),
        )

    def _sort_places(self) -> None:
        self.by_lat = np.argsort(self.lat, kind="stable")
        self.sorted_lat = self.lat[self.by_lat]
        codes = [lot.code for lot in self.lots]
        order = sorted(range(len(codes)), key=codes.__getitem__)
        self.code_rank = np.empty(len(codes), np.int64)
        self.code_rank[order] = np.arange(len(codes))

    @property
    def grid_end(self) -> datetime:
        return self.grid_start + self.slots * SLOT

    @property
    def nbytes(self) -> int:
        """Memory of the arrays (the per-car-park Python values come on top)."""
        arrays = (self.free, self.run, self.lat, self.lon, self.online, self.regular, self.kind)
        return sum(a.nbytes for a in (*arrays, self.code_rank, self.by_lat, self.sorted_lat))

    # --- following the database -------------------------------------------------------------

    def catch_up(self, session: Session, *, clock: Clock, force: bool = False) -> SearchIndex:
        """Re-read the car parks changed since the last look; returns the index to use from
        now on (a new one when the day moved on, the calendar changed or too much changed)."""
        moment = timer.monotonic()
        if not (force or changes.committed_here.is_set() or moment - self.checked_at >= POLL):
            return self
        changes.committed_here.clear()
        # Take a database connection before the lock, never after: a search may hold its
        # connection while it waits for the lock, so whoever holds the lock must not wait for
        # the pool (with every pooled connection held by such searches, both waited).
        session.connection()
        with self.lock:
            self.checked_at = moment
            today = clock.now().astimezone(SHANGHAI).date()
            if datetime.combine(today, time(0), SHANGHAI) - PAST != self.grid_start:
                return SearchIndex.build(session, clock=clock, policy=self.policy)
            fresh = [
                (change, lot)
                for change, lot in IndexRepository(session).changes_after(self.floor)
                if change not in self.seen
            ]
            lot_ids = {lot for _, lot in fresh}
            if changes.EVERYTHING in lot_ids or len(lot_ids) > FULL_RELOAD:
                return SearchIndex.build(session, clock=clock, policy=self.policy)
            if lot_ids:
                self._reload(session, lot_ids)
            self._advance([change for change, _ in fresh], moment)
            return self

    def _advance(self, applied: list[int], moment: float) -> None:
        """Move ``floor`` over the changes now in. On PostgreSQL a change may commit after
        one with a higher id; a gap is waited for ``GAP_WAIT`` seconds (a rolled-back
        transaction leaves one for ever)."""
        for change in applied:
            self.seen[change] = moment
        while self.seen:
            following = self.floor + 1
            if following in self.seen:
                del self.seen[following]
                self.floor = following
            elif moment - min(self.seen.values()) > GAP_WAIT:
                self.floor = following
            else:
                break

    def _reload(self, session: Session, lot_ids: set[int]) -> None:
        repository = IndexRepository(session)
        self.calendar = schedules.calendar(session)
        self._cut.clear()
        layout = _Layout(self, self.calendar)
        lots = repository.facts(lot_ids)
        holding = repository.holding(
            self.grid_start, self.grid_end, BerthCategory.ORDINARY, lot_ids=lot_ids
        )
        passes = repository.passes(lot_ids)
        rows: list[tuple[int, LotFacts]] = []
        for lot in lots:
            row = self.row_of.get(lot.id)
            if row is None:
                row = len(self.lots) + sum(1 for r, _ in rows if r >= len(self.lots))
                self._grow()
            rows.append((row, lot))
        self._set_rows(rows, layout, holding, passes)
        for gone in lot_ids - {lot.id for lot in lots}:
            if (row := self.row_of.get(gone)) is not None:
                self.online[row] = False
        self._sort_places()

    def _grow(self) -> None:
        self.free = np.vstack([self.free, np.zeros((1, self.slots), np.int16)])
        self.run = np.vstack([self.run, np.full((1, self.slots), -1, np.int16)])
        self.lat = np.append(self.lat, 0.0)
        self.lon = np.append(self.lon, 0.0)
        self.online = np.append(self.online, False)
        self.regular = np.append(self.regular, False)
        self.kind = np.append(self.kind, np.int8(0))

    # --- answering --------------------------------------------------------------------------

    def slot_range(self, start: datetime, end: datetime) -> tuple[int, int] | None:
        """The grid slots of [start, end), or None when the interval is not on the grid."""
        if start.utcoffset() != timedelta(hours=8):  # passes count by Shanghai months
            return None
        first, rest = divmod(start - self.grid_start, SLOT)
        last, rest_end = divmod(end - self.grid_start, SLOT)
        if rest or rest_end or first < 0 or last > self.slots or last <= first:
            return None
        return int(first), int(last)

    def candidates(
        self,
        lon: float,
        lat: float,
        radius_m: float,
        *,
        kind: LotKind | None,
        slots: tuple[int, int] | None,
        min_free: int,
    ) -> Iterator[Candidate]:
        """Online car parks within ``radius_m`` of (lon, lat), nearest first (ties by code),
        each with the index's answer for ``slots`` where it has one; car parks the index
        knows cannot qualify are left out. Made one by one, as the caller takes them: the
        nearest ``BATCH`` are judged first, the next ones only if the caller asks for more."""
        with self.lock:
            nearest = self._within(lon, lat, radius_m, kind)
        for first in range(0, len(nearest), BATCH):
            for entry, free, run in self._judge(nearest[first : first + BATCH], slots, min_free):
                distance = haversine_m(lon, lat, entry.lon, entry.lat)  # as the database path
                found = self._verdict(entry, distance, free, run, slots, min_free)
                if found is not None:
                    yield found

    def _verdict(
        self,
        entry: IndexedLot,
        distance: float,
        free: int,
        run: int,
        slots: tuple[int, int] | None,
        min_free: int,
    ) -> Candidate | None:
        if slots is None or not entry.regular or run < 0:
            return Candidate(entry, distance, answered=False)  # the database decides
        window_start, window_end = entry.windows[run]
        if window_start is not None and window_end is not None:
            return Candidate(entry, distance, True, free, window_end)
        cut = self._cut_window(entry, *slots)
        if cut is None:
            return Candidate(entry, distance, answered=False)
        passes, must_leave_by = cut
        left = max(0, free - passes)
        return Candidate(entry, distance, True, left, must_leave_by) if left >= min_free else None

    def _judge(
        self, rows: NDArray[np.int64], slots: tuple[int, int] | None, min_free: int
    ) -> list[tuple[IndexedLot, int, int]]:
        """Each row's entry, least free berths over ``slots`` and window number, read in one
        look under the lock (so that the three agree), without the rows that cannot qualify."""
        with self.lock:
            rows = rows[self.online[rows]]
            free = np.zeros(len(rows), np.int64)
            run = np.full(len(rows), -1, np.int64)
            if slots is not None:
                first, last = slots
                runs = self.run[rows, first:last]
                run = runs[:, 0].astype(np.int64)
                one_window = (runs == run[:, None]).all(axis=1)
                free = np.maximum(self.free[rows, first:last].min(axis=1), 0)
                cannot = ~one_window | (run == -1) | ((run >= 0) & (free < min_free))
                keep = ~(self.regular[rows] & cannot)
                rows, free, run = rows[keep], free[keep], run[keep]
            entries = [self.lots[r] for r in rows]  # as they are now, with their windows
        return list(zip(entries, free.tolist(), run.tolist(), strict=True))

    def _cut_window(
        self, entry: IndexedLot, first: int, last: int
    ) -> tuple[int, datetime | None] | None:
        """For slots in a window cut by the grid's edge: the passes holding a berth in the
        window and its must-leave-by, found as ``availability_at`` finds them (the window
        from the rules and the calendar, its kind and month); None when the rules do not
        give one window for the interval (the database decides)."""
        start, end = self.grid_start + first * SLOT, self.grid_start + last * SLOT
        key = (entry.id, start, end)
        if key in self._cut:
            return self._cut[key]
        schedule = entry.profile.schedule
        reach = (end.date() - start.date()).days
        horizon = max(self.policy.window_horizon_days, reach)
        window = window_at(schedule, self.calendar, start, horizon_days=horizon)
        answer: tuple[int, datetime | None] | None = None
        if window is not None and (window.end is None or end <= window.end):
            kind = window_kind(window, self.calendar, anchor=start)
            month = month_of(window.start or start, SHANGHAI)
            answer = entry.passes.get((kind, month), 0), window.must_leave_by
        if len(self._cut) >= CUT_CACHE:
            self._cut.clear()
        self._cut[key] = answer
        return answer

    def _within(
        self, lon: float, lat: float, radius_m: float, kind: LotKind | None
    ) -> NDArray[np.int64]:
        """Rows within the radius, nearest first, ties by code."""
        box = bounding_box(lon, lat, radius_m)
        low = np.searchsorted(self.sorted_lat, box.min_lat, side="left")
        high = np.searchsorted(self.sorted_lat, box.max_lat, side="right")
        rows = self.by_lat[low:high]
        rows = rows[(self.lon[rows] >= box.min_lon) & (self.lon[rows] <= box.max_lon)]
        rows = rows[self.online[rows]]
        if kind is not None:
            rows = rows[self.kind[rows] == KINDS.index(kind)]
        distances = _haversine(lon, lat, self.lon[rows], self.lat[rows])
        # Within a metre of the radius, measure as the database path does (``haversine_m``)
        # so both draw the line in the same place.
        edge = np.flatnonzero(np.abs(distances - radius_m) < 1.0)
        for at in edge:
            distances[at] = haversine_m(lon, lat, self.lon[rows[at]], self.lat[rows[at]])
        inside = distances <= radius_m
        rows, distances = rows[inside], distances[inside]
        order = np.lexsort((self.code_rank[rows], distances))
        result: NDArray[np.int64] = rows[order]
        return result


KINDS = tuple(LotKind)


def _haversine(
    lon: float, lat: float, lons: NDArray[np.float64], lats: NDArray[np.float64]
) -> NDArray[np.float64]:
    """``parkshare.geo.haversine_m`` over arrays (the same formula, to a rounding error)."""
    phi1, phi2 = np.radians(lat), np.radians(lats)
    dphi = phi2 - phi1
    dlmb = np.radians(lons - lon)
    a = np.sin(dphi / 2) ** 2 + np.cos(phi1) * np.cos(phi2) * np.sin(dlmb / 2) ** 2
    result: NDArray[np.float64] = 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(a))
    return result


def _covered_until(calendar: OfficialCalendar, start: datetime, end: datetime) -> datetime:
    """The grid ends before the first day the official calendar does not cover."""
    day = start.date() - timedelta(days=2)
    while day < end.date():
        try:
            calendar.day_type(day)
        except CalendarNotCovered:
            return max(start + SLOT, datetime.combine(day, time(0), SHANGHAI))
        day += timedelta(days=1)
    return end


def _regular(profile: LotProfile, grid_start: datetime, grid_end: datetime) -> bool:
    """Rules on quarter hours and no suspension in the grid: the grid holds it exactly."""
    schedule = profile.schedule
    on_grid = all(
        t.minute % 15 == 0 and t.second == 0 and t.microsecond == 0
        for rule in schedule.rules
        for t in (rule.start, rule.end)
    )
    suspended = any(
        s.overlaps(grid_start - timedelta(days=2), grid_end) for s in schedule.suspensions
    )
    return on_grid and not suspended


def _held_most(
    spans: Sequence[Sequence[tuple[datetime, datetime]]], grid_start: datetime, slots: int
) -> NDArray[np.int32]:
    """Per car park (a row per entry of ``spans``) and slot, the most reservations holding a
    berth at any one instant of the slot: exact to the second, for all car parks at once."""
    held = np.zeros((len(spans), slots), np.int32)
    counts = [len(s) for s in spans]
    if not sum(counts):
        return held
    width = SLOT.total_seconds()
    origin = grid_start.timestamp()
    owner = np.repeat(np.arange(len(spans)), counts)
    starts = np.array([a.timestamp() for group in spans for a, _ in group]) - origin
    ends = np.array([b.timestamp() for group in spans for _, b in group]) - origin
    # Events per car park in time order, ends before starts at one instant ([start, end)).
    rows = np.concatenate([owner, owner])
    times = np.concatenate([ends, starts])
    steps = np.concatenate([-np.ones(len(ends), np.int32), np.ones(len(starts), np.int32)])
    order = np.lexsort((steps, times, rows))
    rows, times, steps = rows[order], times[order], steps[order]
    after = np.cumsum(steps)  # each car park's events add up to 0: a running count per row
    # Holding as each slot begins: every event at or before its first instant.
    delta = np.zeros((len(spans), slots + 1), np.int32)
    bucket = np.clip(np.ceil(times / width), 0, slots).astype(np.int64)
    np.add.at(delta, (rows, bucket), steps)
    held[:] = np.cumsum(delta, axis=1)[:, :slots]
    # And right after each instant inside a slot with events: after its LAST event (several
    # cars leaving at one instant must not leave a count that never existed in between).
    last = np.ones(len(times), bool)
    last[:-1] = (rows[1:] != rows[:-1]) | (times[1:] != times[:-1])
    inside = (times >= 0) & (times < slots * width) & last
    slot_of = (times[inside] // width).astype(np.int64)
    np.maximum.at(held, (rows[inside], slot_of), after[inside])
    return held


def _subtract_passes(
    free: NDArray[np.int32],
    windows: Sequence[tuple[datetime | None, datetime | None]],
    passes: PassCounts,
    layout: _Layout,
) -> None:
    """Passes hold a berth through every window of their kind and month. A window cut by the
    grid's edge is left as it is: its kind depends on where it really begins or ends, which a
    search in it works out (``SearchIndex._cut_window``)."""
    for start, end in windows:
        if start is None or end is None:
            continue
        kind, month = layout.pass_of(start, end)
        free[layout.slot_of(start) : layout.slot_of(end)] -= passes.get((kind, month), 0)


class _Layout:
    """Sharing windows on the grid, worked out once per shape of rules (their day types and
    times, and which of them share anything); capacity is then each car park's berths."""

    def __init__(self, index: SearchIndex, calendar: OfficialCalendar) -> None:
        self.grid_start = index.grid_start
        self.slots = index.slots
        self.calendar = calendar
        self._active: dict[tuple[object, ...], NDArray[np.bool_]] = {}
        self._windows: dict[tuple[object, ...], tuple[NDArray[np.int16], Windows]] = {}
        self._passes: dict[tuple[datetime, datetime], tuple[PassKind, date]] = {}

    @staticmethod
    def key(rules: Sequence[SharingRule]) -> tuple[object, ...]:
        return tuple(
            (r.day_types, r.start, r.end, r.end_day_offset, sum(r.shared_berths.values()) > 0)
            for r in rules
        )

    def windows(self, rules: Sequence[SharingRule]) -> tuple[NDArray[np.int16], Windows]:
        """Window number per slot (-1: none) and each window's bounds (``None`` where the
        grid cuts it): the slots where some rule shares anything, in touching runs."""
        key = self.key(rules)
        found = self._windows.get(key)
        if found is None:
            active = self._rules_active(rules)
            sharing = np.zeros(self.slots, bool)
            for number, rule in enumerate(rules):
                if sum(rule.shared_berths.values()) > 0:
                    sharing |= active[number]
            found = self._windows[key] = self._runs(sharing)
        return found

    def capacity(
        self, rules: Sequence[SharingRule], profiles: Sequence[LotProfile]
    ) -> NDArray[np.int32]:
        """Ordinary shared berths per slot of car parks whose rules have this shape: the
        most any rule in force shares (as ``segments_on`` takes the largest)."""
        if not rules:
            return np.zeros((len(profiles), self.slots), np.int32)
        active = self._rules_active(rules).astype(np.int32)
        ordinary = np.array(
            [
                [r.shared_berths.get(BerthCategory.ORDINARY, 0) for r in p.schedule.rules]
                for p in profiles
            ],
            np.int32,
        )
        result: NDArray[np.int32] = (active[None, :, :] * ordinary[:, :, None]).max(axis=1)
        return result

    def slot_of(self, instant: datetime) -> int:
        return int((instant - self.grid_start) / SLOT)

    def pass_of(self, start: datetime, end: datetime) -> tuple[PassKind, date]:
        """The kind and month of passes that hold a berth in the window [start, end)."""
        found = self._passes.get((start, end))
        if found is None:
            kind = window_kind(Window(start, end, ()), self.calendar, anchor=start)
            found = self._passes[(start, end)] = (kind, month_of(start, SHANGHAI))
        return found

    def _rules_active(self, rules: Sequence[SharingRule]) -> NDArray[np.bool_]:
        """Per rule and slot: does one of the rule's spans cover the slot."""
        shape = tuple((r.day_types, r.start, r.end, r.end_day_offset) for r in rules)
        found = self._active.get(shape)
        if found is None:
            found = np.zeros((len(rules), self.slots), bool)
            first = self.grid_start.date() - timedelta(days=2)
            days = (self.slots * SLOT).days + 3
            for day in (first + timedelta(days=n) for n in range(days)):
                day_type = self._day_type(day)
                if day_type is None:
                    continue
                for number, rule in enumerate(rules):
                    if day_type in rule.day_types:
                        start, end = rule.span_on(day, SHANGHAI)
                        a = max(0, int((start - self.grid_start) / SLOT))
                        b = min(self.slots, int((end - self.grid_start) / SLOT))
                        if a < b:
                            found[number, a:b] = True
            self._active[shape] = found
        return found

    def _day_type(self, day: date) -> DayType | None:
        try:
            return self.calendar.day_type(day)
        except CalendarNotCovered:
            return None

    def _runs(self, sharing: NDArray[np.bool_]) -> tuple[NDArray[np.int16], Windows]:
        runs = np.full(self.slots, -1, np.int16)
        edges = np.diff(np.concatenate([[False], sharing, [False]]).astype(np.int8))
        starts = np.flatnonzero(edges == 1)
        ends = np.flatnonzero(edges == -1)
        windows: list[tuple[datetime | None, datetime | None]] = []
        for number, (a, b) in enumerate(zip(starts, ends, strict=True)):
            runs[a:b] = number
            windows.append(
                (
                    None if a == 0 else self.grid_start + int(a) * SLOT,
                    None if b == self.slots else self.grid_start + int(b) * SLOT,
                )
            )
        return runs, tuple(windows)
