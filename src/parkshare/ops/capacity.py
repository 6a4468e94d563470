"""No overbooking, checked the slow way: every car park's commitments (reservations and
passes) against its shared berths, at every instant where either can change.

The commitments are counted as the booking path counts them (``availability.service
.commitments``): a reservation holds one berth of its category over [start, end); a pass holds
one ordinary berth through every window of its kind that starts in its month. But the rows are
read here in one sweep of the whole database, not through the booking path's queries nor the
search index, and the windows come from the pure schedule rules."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from itertools import pairwise

from sqlalchemy.orm import Session

from parkshare.availability.rules import Commitment
from parkshare.calendar import DayType, OfficialCalendar
from parkshare.clock import month_bounds
from parkshare.errors import ParkshareError
from parkshare.lots.model import Lot
from parkshare.lots.repository import LotRepository
from parkshare.ops.repository import InvariantRepository, Rows
from parkshare.passes.model import PassKind
from parkshare.passes.rules import month_of, window_kind
from parkshare.plates import mask_plate
from parkshare.schedules import service as schedules
from parkshare.schedules.rules import (
    SHANGHAI,
    BerthCategory,
    DayTypes,
    Schedule,
    Window,
    window_at,
    windows_between,
)

ORDINARY = BerthCategory.ORDINARY
HORIZON_DAYS = 31  # as ``Settings.window_horizon_days``: how far a window is followed
PassCounts = dict[tuple[PassKind, date], int]


def local(instant: datetime) -> str:
    return f"{instant.astimezone(SHANGHAI):%Y-%m-%d %H:%M}"


def capacity_problems(session: Session, *, since: datetime | None) -> list[str]:
    repository = InvariantRepository(session)
    codes = repository.lot_codes()
    holdings = repository.holding_reservations(since)
    passes: dict[int, PassCounts] = defaultdict(dict)
    for lot_id, kind, month, count in repository.active_passes():
        if since is None or month_bounds(month, SHANGHAI)[1] > since:
            passes[lot_id][(kind, month)] = count
    problems = quota_problems(passes, repository.quotas(), codes)
    problems += double_bookings(holdings, codes)
    by_lot: dict[int, list[Commitment]] = defaultdict(list)
    refs: dict[int, list[str]] = defaultdict(list)
    for row in holdings:
        by_lot[row.lot_id].append(Commitment(row.start, row.end, row.category))
        refs[row.lot_id].append(row.ref)
    wanted = set(by_lot) | set(passes)
    lots = [lot for lot in LotRepository(session).all_with_rules() if lot.id in wanted]
    calendar = RememberedDays(schedules.calendar(session))
    for lot in sorted(lots, key=lambda lot: lot.code):
        sweep = LotSweep(lot, schedules.schedule_of(lot), calendar, since=since)
        try:
            problems += sweep.problems(by_lot[lot.id], refs[lot.id], passes[lot.id])
        except ParkshareError as exc:  # e.g. a window outside the official calendar
            problems.append(f"Car park {lot.code} could not be checked: {exc.message}")
    return problems


def quota_problems(passes: dict[int, PassCounts], quotas: Rows, codes: dict[int, str]) -> list[str]:
    offered = {(row.lot_id, row.kind, row.month): row.quota for row in quotas}
    problems = []
    for lot_id, counts in sorted(passes.items()):
        for (kind, month), count in sorted(counts.items()):
            quota = offered.get((lot_id, kind, month))
            if quota is None:
                problems.append(
                    f"Car park {codes[lot_id]} has {count} {kind} passes for {month:%Y-%m} "
                    "but no offer of them."
                )
            elif count > quota:
                problems.append(
                    f"Car park {codes[lot_id]} has {count} {kind} passes for {month:%Y-%m}, "
                    f"over its quota of {quota}."
                )
    return problems


def double_bookings(holdings: Rows, codes: dict[int, str]) -> list[str]:
    """A plate holds at most one berth at a time (the booking path refuses a second)."""
    by_plate = defaultdict(list)
    for row in holdings:
        by_plate[row.plate].append(row)
    problems = []
    for plate, rows in sorted(by_plate.items()):
        rows.sort(key=lambda row: (row.start, row.id))
        for earlier, later in pairwise(rows):
            if later.start < earlier.end:
                problems.append(
                    f"Car park {codes[later.lot_id]}: plate {mask_plate(plate)} holds "
                    f"reservation {later.ref} while it still holds {earlier.ref} at car park "
                    f"{codes[earlier.lot_id]} (they overlap from {local(later.start)})."
                )
    return problems


class RememberedDays:
    """The calendar, each day looked up once (the sweep asks for the same days many times)."""

    def __init__(self, calendar: OfficialCalendar) -> None:
        self.calendar = calendar
        self.known: dict[date, DayType] = {}

    def day_type(self, day: date) -> DayType:
        found = self.known.get(day)
        if found is None:
            found = self.known[day] = self.calendar.day_type(day)
        return found


@dataclass(frozen=True)
class Held:
    """A window to sweep, with the instant its pass kind and month are judged from."""

    window: Window
    anchor: datetime

    @property
    def span(self) -> tuple[datetime, datetime]:
        return self.window.segments[0].start, self.window.segments[-1].end

    def contains(self, instant: datetime) -> bool:
        return any(segment.contains(instant) for segment in self.window.segments)


class LotSweep:
    def __init__(
        self,
        lot: Lot,
        schedule: Schedule,
        calendar: DayTypes,
        *,
        since: datetime | None,
    ) -> None:
        self.code, self.schedule, self.calendar, self.since = lot.code, schedule, calendar, since
        self.windows: dict[tuple[datetime, datetime], Held] = {}
        self.found: list[str] = []

    def problems(
        self, reservations: list[Commitment], refs: list[str], passes: PassCounts
    ) -> list[str]:
        for reservation, ref in zip(reservations, refs, strict=True):
            self._place(reservation, ref)
        for kind, month in passes:
            for held in self._pass_windows(kind, month):
                self.windows.setdefault(held.span, held)
        for held in self.windows.values():
            self._sweep(held, reservations, passes)
        return self.found

    def _place(self, reservation: Commitment, ref: str) -> None:
        """Find the window the reservation lies in; say so when it lies in none."""
        held = next((h for h in self.windows.values() if h.contains(reservation.start)), None)
        if held is None:
            reach = (reservation.end - reservation.start).days + 1
            horizon = max(HORIZON_DAYS, reach)
            window = window_at(
                self.schedule, self.calendar, reservation.start, horizon_days=horizon
            )
            if window is None:
                self.found.append(
                    f"Car park {self.code}: reservation {ref} starts at "
                    f"{local(reservation.start)}, outside every sharing window."
                )
                return
            held = Held(window, window.start or reservation.start)
            self.windows[held.span] = held
        end = held.window.end
        if end is not None and reservation.end > end:
            self.found.append(
                f"Car park {self.code}: reservation {ref} ends at {local(reservation.end)}, "
                f"after its window closes at {local(end)}."
            )

    def _pass_windows(self, kind: PassKind, month: date) -> Iterable[Held]:
        """The windows of ``kind`` that start in ``month`` (as the allocation counts them)."""
        first, following = month_bounds(month, SHANGHAI)
        for piece in windows_between(self.schedule, self.calendar, first, following):
            anchor = piece.start or first
            window = window_at(self.schedule, self.calendar, anchor, horizon_days=HORIZON_DAYS)
            if window is None or window_kind(window, self.calendar, anchor=anchor) is not kind:
                continue
            if window.start is not None and window.start < first:
                continue  # it belongs to the month before
            yield Held(window, anchor)

    def _sweep(self, held: Held, reservations: list[Commitment], passes: PassCounts) -> None:
        low, high = held.span
        if self.since is not None:
            low = max(low, self.since)
        if high <= low:
            return
        inside = [c for c in reservations if c.start < high and low < c.end]
        window = held.window
        kind = window_kind(window, self.calendar, anchor=held.anchor)
        issued = passes.get((kind, month_of(window.start or held.anchor, SHANGHAI)), 0)
        if issued:
            inside.append(Commitment(low, high, BerthCategory.ORDINARY, berths=issued))
        for category in BerthCategory:
            mine = [c for c in inside if c.category is category]
            worst = _worst(window, mine, category, low, high)
            if worst is not None:
                at, load, shared = worst
                by_passes = f" ({issued} by passes)" if issued and category is ORDINARY else ""
                self.found.append(
                    f"Car park {self.code} is overbooked: {load} {category} berths are held at "
                    f"{local(at)}{by_passes} but only {shared} are shared."
                )


def _worst(
    window: Window, held: list[Commitment], category: BerthCategory, low: datetime, high: datetime
) -> tuple[datetime, int, int] | None:
    """The instant of [low, high) where the commitments exceed the shared berths the most."""
    if not held:
        return None
    points = {max(low, c.start) for c in held if c.start < high}
    points.update(s.start for s in window.segments if low < s.start < high)
    worst: tuple[datetime, int, int] | None = None
    for at in sorted(points):
        load = sum(c.berths for c in held if c.start <= at < c.end)
        shared = window.shared_at(at).get(category, 0)
        if load > shared and (worst is None or load - shared > worst[1] - worst[2]):
            worst = (at, load, shared)
    return worst
