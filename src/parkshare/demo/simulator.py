"""One day of gate traffic for the demo network: a pure, deterministic generator.

For a local date, each car park's own users and its sharing drivers arrive and leave as its
use suggests, within its physical berths, its sharing windows and its quiet hours; what its
gate system would send comes out as a time-ordered list of sends. One seed, one day.

The model, per car park:

- Cars are drawn per *anchor day* (the day they arrive) from cohorts (``COHORTS``): staff and
  office workers (plates from a fixed pool: the same cars every working day), visitors,
  shoppers, hotel guests and diners, and sharing drivers (half of them regulars). A cohort has
  arrival peaks, a stay, and the day types it comes on; its size scales with the physical
  berths (own users) or the shared berths (sharing drivers) and a per-car-park popularity.
- The two days before are simulated too, so the day opens with the cars really inside at
  midnight; their entries (at their real, earlier time) are sent first, as a gate system does
  when it connects. An anchor day's cars, plates and event ids do not depend on the date
  simulated, so replaying consecutive days lines up (a resent entry is a duplicate).
- Cars are admitted in arrival order: never more than the physical berths, sharing drivers
  never more than the berths shared at that instant. A car that does not fit drives on.
- Sharing drivers enter only inside a sharing window and leave by its must-leave-by, except a
  few overstayers (later, or still inside at the end of the day). During quiet hours
  (institutional car parks: 22:00–06:00) nobody enters or leaves.
- The link: an event is sent when it happens, about 2 % some minutes late, about 1.5 % twice
  (a retry with the same event id); some car parks lose their link for a while and send the
  backlog at once (late, out of order). Free-berth counts every ~5 minutes are the berths
  minus the cars inside by the events; they are lost while the link is down.
"""

from __future__ import annotations

import bisect
import heapq
import math
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, Literal, NamedTuple

from parkshare.calendar import DayType, OfficialCalendar
from parkshare.demo.sites import Site, west_coast_sites
from parkshare.demo.westcoast import _quiet_hours, _rules
from parkshare.schedules.rules import SHANGHAI, DayTypes, Schedule, windows_between

COUNT_EVERY = timedelta(minutes=5)
DUPLICATE_SHARE = 0.015  # events sent twice with the same event id
LATE_SHARE = 0.02  # events sent 2–15 minutes after they happened
OUTAGE_CHANCE = 0.12  # car parks that lose their link for 8–35 minutes during the day
OVERSTAY_SHARE = 0.04  # of sharing drivers staying to the end: leave after must-leave-by…
STILL_INSIDE_SHARE = 0.2  # …and of those, the ones still inside when the day ends
STAYING_TO_THE_END = 2 * 3600  # seconds: planning to leave this close to must-leave-by
REGULAR_SHARE = 0.5  # sharing drivers who come most days (plates from a pool)
WARM_UP_DAYS = 2
LATE_AFTER = 60  # seconds: an event sent this long after it happened is late

Kind = Literal["events", "counts"]


@dataclass(frozen=True)
class SimLot:
    """What the simulator needs to know of a car park."""

    code: str
    kind: str  # institutional | commercial
    use: str  # government, public_institution, state_enterprise, mall, hotel, office
    berths: int  # physical berths, every category
    schedule: Schedule

    @property
    def shared_berths(self) -> int:
        return max((sum(r.shared_berths.values()) for r in self.schedule.rules), default=0)


class Send(NamedTuple):
    """One item as a car park's system sends it: when, to which endpoint, what."""

    send_at: datetime
    kind: Kind
    lot: str
    item: dict[str, Any]


@dataclass(frozen=True)
class LotDay:
    code: str
    kind: str
    use: str
    berths: int
    shared_berths: int
    events: int  # unique gate events that happened on the day
    entries: int
    exits: int
    inside_at_start: int  # cars inside at midnight (their entries are sent first)
    inside_at_end: int
    peak_occupancy: int
    peak_at: datetime
    sharing_entries: int
    overstays: int  # sharing drivers who left after their must-leave-by or are still inside
    turned_away: int  # arrivals that found the car park (or its shared berths) full
    duplicates: int
    late: int
    counts: int
    outage: tuple[datetime, datetime] | None


@dataclass(frozen=True)
class DaySummary:
    day: date
    seed: int
    day_type: str
    lots: tuple[LotDay, ...]

    def lot(self, code: str) -> LotDay:
        return next(lot for lot in self.lots if lot.code == code)

    @property
    def events(self) -> int:
        return sum(lot.events for lot in self.lots)

    @property
    def carried_over(self) -> int:
        return sum(lot.inside_at_start for lot in self.lots)

    @property
    def duplicates(self) -> int:
        return sum(lot.duplicates for lot in self.lots)

    @property
    def late(self) -> int:
        return sum(lot.late for lot in self.lots)

    @property
    def counts(self) -> int:
        return sum(lot.counts for lot in self.lots)


@dataclass(frozen=True)
class DaySimulation:
    sends: list[Send]
    summary: DaySummary


def demo_lots(sites: Iterable[Site] | None = None) -> list[SimLot]:
    """The West Coast network with the schedules the demo stores (``demo.westcoast``)."""
    return [
        SimLot(
            code=site.code,
            kind=str(site.kind),
            use=str(site.use),
            berths=site.total_berths,
            schedule=Schedule(rules=_rules(site), quiet_hours=_quiet_hours(site)),
        )
        for site in (west_coast_sites() if sites is None else sites)
    ]


def simulate_day(
    lots: Sequence[SimLot], day: date, *, seed: int = 1, calendar: DayTypes | None = None
) -> DaySimulation:
    """Every car park's sends for the local date ``day``, in the order they are sent."""
    calendar = calendar or OfficialCalendar()
    day_types = {
        day + timedelta(days=k): calendar.day_type(day + timedelta(days=k))
        for k in range(-WARM_UP_DAYS, 5)
    }
    timed: list[_Timed] = []
    days: list[LotDay] = []
    for lot in lots:
        lot_sends, lot_day = _LotDay(lot, day, seed, day_types, calendar).run()
        timed += lot_sends
        days.append(lot_day)
    timed.sort(key=lambda s: (s.seconds, s.kind == "counts", s.item["lot"]))
    origin = datetime.combine(day - timedelta(days=WARM_UP_DAYS), time(0), SHANGHAI)
    sends = [
        Send(origin + timedelta(seconds=t.seconds), t.kind, t.item["lot"], t.item) for t in timed
    ]
    summary = DaySummary(day, seed, str(day_types[day]), tuple(days))
    return DaySimulation(sends, summary)


# --- who comes, when, and for how long ---------------------------------------------------


@dataclass(frozen=True)
class Peak:
    weight: float
    hour: float  # local hour of the day, e.g. 18.5 for 18:30
    sd: float  # hours


def _peaks(*peaks: tuple[float, float, float]) -> tuple[Peak, ...]:
    return tuple(Peak(*p) for p in peaks)


@dataclass(frozen=True)
class Cohort:
    """Cars of one kind: how many per berth and day, when they arrive, how long they stay.

    A stay is either a duration (``stay_hours``: median and sigma of a log-normal, ending by
    ``latest`` on the day of arrival) or a clock time ``leave_day`` days after arrival
    (``leave`` peaks; ``leave_if_day_off`` when that day is not a working day).
    """

    name: str
    days: Literal["working", "off", "all"]
    per_berth: float  # of the physical berths (own users) or the shared berths (sharing)
    arrive: tuple[Peak, ...]
    between: tuple[float, float]  # earliest and latest arrival hour
    stay_hours: tuple[float, float] | None = None
    latest: float = 24.0
    leave: tuple[Peak, ...] = ()
    leave_between: tuple[float, float] = (0.0, 24.0)
    leave_day: int = 0
    leave_if_day_off: tuple[Peak, ...] = ()
    sharing: bool = False
    regular: bool = False  # the same cars every day (plates from the car park's staff pool)


# fmt: off
_MORNING = _peaks((1, 6.9, 0.35))
_LATE_MORNING = _peaks((1, 9.5, 1.5))
_INSTITUTIONAL = (
    Cohort("staff", "working", 0.7, _peaks((0.85, 8.2, 0.35), (0.15, 9.6, 1.0)), (6.5, 11.5),
           leave=_peaks((0.85, 17.7, 0.4), (0.15, 19.8, 0.9)), leave_between=(16.5, 21.9),
           regular=True),
    Cohort("staff on duty", "off", 0.06, _peaks((1, 9.0, 1.0)), (7.0, 12.0), stay_hours=(5.0, 0.4),
           latest=21.9, regular=True),
    Cohort("sharing, overnight", "working", 0.85, _peaks((0.6, 18.7, 0.45), (0.4, 20.1, 0.8)),
           (18.0, 21.95), leave=_MORNING, leave_between=(6.0, 9.0), leave_day=1,
           leave_if_day_off=_LATE_MORNING, sharing=True),
    Cohort("sharing, evening", "working", 0.12, _peaks((1, 19.0, 0.8)), (18.0, 21.0),
           stay_hours=(2.0, 0.4), latest=21.9, sharing=True),
    Cohort("sharing, day", "off", 0.5, _peaks((0.5, 10.0, 1.5), (0.5, 15.0, 2.0)), (6.5, 20.0),
           stay_hours=(3.0, 0.6), latest=21.9, sharing=True),
    Cohort("sharing, overnight", "off", 0.7, _peaks((1, 19.0, 1.2)), (15.0, 21.95),
           leave=_MORNING, leave_between=(6.0, 13.0), leave_day=1,
           leave_if_day_off=_LATE_MORNING, sharing=True),
)
_PUBLIC_VISITORS = Cohort("visitors", "working", 0.3, _peaks((0.6, 9.8, 1.0), (0.4, 14.8, 1.0)),
                          (8.0, 17.0), stay_hours=(1.2, 0.5), latest=21.9)
_MALL = (
    Cohort("staff", "all", 0.07, _peaks((1, 9.0, 0.3)), (8.0, 10.0), leave=_peaks((1, 22.2, 0.15)),
           leave_between=(21.8, 22.9), regular=True),
    Cohort("shoppers", "working", 1.7, _peaks((0.3, 12.0, 1.2), (0.2, 15.5, 1.2), (0.5, 19.0, 1.1)),
           (9.6, 21.6), stay_hours=(1.6, 0.5), latest=22.8),
    Cohort("shoppers", "off", 2.6, _peaks((0.45, 12.5, 1.8), (0.55, 17.5, 2.0)), (9.6, 21.6),
           stay_hours=(2.2, 0.5), latest=22.8),
    Cohort("sharing, daytime", "working", 0.22, _peaks((1, 9.9, 0.3)), (9.5, 11.5),
           leave=_peaks((1, 18.3, 0.6)), leave_between=(16.0, 21.9), sharing=True),
    Cohort("sharing, overnight", "all", 0.6, _peaks((1, 22.5, 0.4)), (22.0, 23.95),
           leave=_peaks((1, 7.6, 0.6)), leave_between=(5.5, 9.4), leave_day=1,
           leave_if_day_off=_peaks((1, 8.6, 0.5)), sharing=True),
)
_GUESTS = _peaks((0.3, 15.5, 1.3), (0.7, 19.5, 1.6))
_HOTEL = (
    Cohort("guests", "all", 0.45, _GUESTS, (12.0, 23.9), leave=_peaks((1, 9.8, 1.0)),
           leave_between=(6.5, 13.0), leave_day=1),
    Cohort("guests, two nights", "all", 0.08, _GUESTS, (12.0, 23.9), leave=_peaks((1, 9.8, 1.0)),
           leave_between=(6.5, 13.0), leave_day=2),
    Cohort("guests, after midnight", "all", 0.03, _peaks((1, 0.8, 0.8)), (0.0, 3.5),
           leave=_peaks((1, 10.0, 1.0)), leave_between=(7.0, 13.0)),
    Cohort("diners and meetings", "all", 0.45, _peaks((0.45, 12.0, 0.5), (0.55, 18.5, 0.7)),
           (10.5, 21.0), stay_hours=(1.7, 0.35)),
    Cohort("sharing, daytime", "all", 0.85, _peaks((1, 8.6, 0.4)), (8.0, 11.0),
           leave=_peaks((1, 17.2, 0.4)), leave_between=(12.0, 18.5), sharing=True),
    Cohort("sharing, short", "all", 0.3, _peaks((1, 13.0, 2.0)), (8.0, 16.5),
           stay_hours=(2.0, 0.5), sharing=True),
)
_OFFICE = (
    Cohort("workers", "working", 0.75, _peaks((0.75, 8.5, 0.4), (0.25, 9.4, 0.6)), (7.0, 11.5),
           leave=_peaks((0.7, 18.0, 0.45), (0.3, 19.5, 0.9)), leave_between=(16.5, 23.0),
           regular=True),
    Cohort("visitors", "working", 0.3, _peaks((1, 13.0, 2.3)), (9.0, 17.5), stay_hours=(1.2, 0.5)),
    Cohort("workers", "off", 0.06, _peaks((1, 9.5, 1.0)), (8.0, 13.0), stay_hours=(5.0, 0.4),
           regular=True),
    Cohort("sharing, overnight", "working", 0.8, _peaks((0.7, 19.8, 0.5), (0.3, 21.0, 0.9)),
           (19.0, 23.5), leave=_peaks((1, 7.2, 0.35)), leave_between=(5.5, 9.5), leave_day=1,
           leave_if_day_off=_LATE_MORNING, sharing=True),
    Cohort("sharing, day", "off", 0.45, _peaks((0.5, 10.0, 1.5), (0.5, 15.0, 2.0)), (7.0, 20.0),
           stay_hours=(3.0, 0.6), sharing=True),
    Cohort("sharing, overnight", "off", 0.6, _peaks((1, 19.0, 1.2)), (15.0, 23.5),
           leave=_peaks((1, 7.2, 0.35)), leave_between=(5.5, 12.0), leave_day=1,
           leave_if_day_off=_LATE_MORNING, sharing=True),
)
COHORTS: dict[str, tuple[Cohort, ...]] = {
    "government": _INSTITUTIONAL,
    "public_institution": (*_INSTITUTIONAL, _PUBLIC_VISITORS),
    "state_enterprise": _INSTITUTIONAL,
    "mall": _MALL,
    "hotel": _HOTEL,
    "office": _OFFICE,
}

# fmt: on

# --- plates ---------------------------------------------------------------------------------

_LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"  # GA 36-2018: no I, no O
_DIGITS = "0123456789"
# fmt: off
_PREFIXES = (  # where cars parked in Huangdao come from, by weight
    (("鲁B",), 0.55),  # Qingdao
    (("鲁U",), 0.27),  # Qingdao, the newer series
    (("鲁A", "鲁L", "鲁V", "鲁G", "鲁F", "鲁Y", "鲁H", "鲁K", "鲁D", "鲁Q"), 0.11),
    (("京A", "沪A", "苏B", "浙B", "冀A", "豫A", "辽B", "黑A", "粤B", "津A", "皖A"), 0.07),
)
_SERIALS = (("DDDDD", 0.2), ("LDDDD", 0.35), ("DLDDD", 0.1), ("LLDDD", 0.15), ("DDDDL", 0.1),
            ("DDDLL", 0.1))
# fmt: on
NEW_ENERGY_SHARE = 0.15  # 8-character plates (新能源): D or F mostly, then 5 more


def random_plate(rng: random.Random) -> str:
    """A valid plate (``parkshare.plates.parse_plate`` accepts it) as seen in Huangdao."""
    group = _PREFIXES[_pick(rng, _PREFIX_WEIGHTS)][0]
    prefix = group[int(rng.random() * len(group))]
    if rng.random() < NEW_ENERGY_SHARE:
        draw = rng.random()
        energy = "D" if draw < 0.6 else "F" if draw < 0.95 else "ABCEGHJK"[int(draw * 1e6) % 8]
        second = _SECOND[int(rng.random() * len(_SECOND))]
        return f"{prefix}{energy}{second}{int(rng.random() * 10_000):04d}"
    number = int(rng.random() * _SERIAL_SIZES[pattern := _pick(rng, _SERIAL_WEIGHTS)])
    serial = []
    for c in reversed(_SERIALS[pattern][0]):
        alphabet = _LETTERS if c == "L" else _DIGITS
        number, index = divmod(number, len(alphabet))
        serial.append(alphabet[index])
    return prefix + "".join(reversed(serial))


def plate_pool(seed: str, size: int) -> list[str]:
    """``size`` distinct plates, always the same for a seed (staff, regulars)."""
    rng = random.Random(seed)
    plates: dict[str, None] = {}
    while len(plates) < size:
        plates[random_plate(rng)] = None
    return list(plates)


def _pick(rng: random.Random, weights: Sequence[float]) -> int:
    """An index drawn by weight (cheaper than ``Random.choices`` for a handful)."""
    r = rng.random() * sum(weights)
    for i, weight in enumerate(weights):
        r -= weight
        if r < 0:
            return i
    return len(weights) - 1


_PREFIX_WEIGHTS = [w for _, w in _PREFIXES]
_SERIAL_WEIGHTS = [w for _, w in _SERIALS]
_SERIAL_SIZES = [math.prod(24 if c == "L" else 10 for c in p) for p, _ in _SERIALS]
_SECOND = _LETTERS + _DIGITS * 3  # the second serial character of a new-energy plate


# --- the simulation of one car park ---------------------------------------------------------
# Times are whole seconds since the local midnight two days before the simulated day.

DAY = 86_400
_IN, _OUT = "in", "out"


def _hour(rng: random.Random, peaks: tuple[Peak, ...], between: tuple[float, float]) -> float:
    lo, hi = between
    for _ in range(20):
        peak = peaks[_pick(rng, [p.weight for p in peaks])] if len(peaks) > 1 else peaks[0]
        hour = rng.gauss(peak.hour, peak.sd)
        if lo <= hour <= hi:
            return hour
    return rng.uniform(lo, hi)


def _minutes(rng: random.Random, lo: float, hi: float) -> int:
    return round(rng.uniform(lo, hi) * 60)


class _Timed(NamedTuple):
    seconds: int  # when it is sent
    kind: Kind
    item: dict[str, Any]


@dataclass
class _Visit:
    key: str  # the event ids are <key>-in and <key>-out
    plate: str
    arrive: int
    leave: int | None  # None: still inside beyond the simulated days
    sharing: bool
    gates: tuple[str, str] = ("", "")  # in, out
    must_leave_by: int | None = None


class _LotDay:
    """One car park: draw the cars of three anchor days, admit them, emit the day, send it."""

    def __init__(
        self, lot: SimLot, day: date, seed: int, day_types: dict[date, DayType], calendar: DayTypes
    ) -> None:
        self.lot, self.day, self.seed, self.day_types = lot, day, seed, day_types
        self.first_day = day - timedelta(days=WARM_UP_DAYS)
        self.origin = datetime.combine(self.first_day, time(0), SHANGHAI)
        self.start, self.end = WARM_UP_DAYS * DAY, (WARM_UP_DAYS + 1) * DAY
        self.horizon = (WARM_UP_DAYS + 4) * DAY
        windows = windows_between(lot.schedule, calendar, self.origin, self.at(self.horizon))
        self.windows = [(self.seconds(w.start), self.seconds(w.end)) for w in windows]
        self.segments = [
            (self.seconds(s.start), self.seconds(s.end), sum(s.shared.values()))
            for w in windows
            for s in w.segments
        ]
        popularity = random.Random(f"{seed}:{lot.code}:popularity")
        self.busy = min(max(popularity.lognormvariate(0.0, 0.2), 0.6), 1.5)
        self.demand = min(max(popularity.lognormvariate(0.0, 0.35), 0.4), 1.6)
        self.gates = ("东门", "西门", "南门", "北门")[: popularity.randint(1, 3)]
        self.staff = plate_pool(f"{seed}:{lot.code}:staff", math.ceil(lot.berths * 1.1))
        self.regulars = plate_pool(f"{seed}:{lot.code}:sharing", lot.shared_berths)
        self.turned_away = 0

    def at(self, seconds: int) -> datetime:
        return self.origin + timedelta(seconds=seconds)

    def seconds(self, instant: datetime | None) -> int:
        assert instant is not None  # windows_between clips every window to its range
        return int((instant - self.origin).total_seconds())

    def run(self) -> tuple[list[_Timed], LotDay]:
        visits: list[_Visit] = []
        for k in range(WARM_UP_DAYS + 1):
            visits += self._draw(k)
        admitted = self._admit(sorted(visits, key=lambda v: (v.arrive, v.key)))
        rng = random.Random(f"{self.seed}:{self.lot.code}:{self.day.isoformat()}:link")
        events = self._events(admitted)
        counts = self._counts(events, rng)
        sends, outage = self._link(events, counts, rng)
        return sends, self._summary(admitted, events, sends, outage)

    # --- drawing the cars of one anchor day ------------------------------------------------

    def _draw(self, k: int) -> list[_Visit]:
        anchor = self.first_day + timedelta(days=k)
        rng = random.Random(f"{self.seed}:{self.lot.code}:{anchor.isoformat()}")
        working = self.day_types[anchor].is_working
        next_working = self.day_types[anchor + timedelta(days=1)].is_working
        day_factor = max(0.5, rng.gauss(1.0, 0.06))
        taken: set[str] = set()
        visits: list[_Visit] = []
        drawn = 0
        stem = f"{self.lot.code}-{anchor:%Y%m%d}-{self.seed}-"
        for cohort in COHORTS[self.lot.use]:
            if cohort.days != "all" and (cohort.days == "working") != working:
                continue
            base = self.lot.shared_berths if cohort.sharing else self.lot.berths
            factor = self.demand if cohort.sharing else self.busy
            expected = cohort.per_berth * base * factor * day_factor
            for _ in range(int(expected) + (rng.random() < expected % 1)):
                plate = self._plate(rng, cohort, taken)
                visit = self._visit(rng, cohort, k * DAY, next_working, plate)
                if visit is not None:
                    visit.key = f"{stem}{drawn:05d}"
                    visits.append(visit)
                drawn += 1
        return visits

    def _plate(self, rng: random.Random, cohort: Cohort, taken: set[str]) -> str:
        pool: list[str] = []
        if cohort.regular:
            pool = self.staff
        elif cohort.sharing and rng.random() < REGULAR_SHARE:
            pool = self.regulars
        for _ in range(8 if pool else 0):
            plate = pool[int(rng.random() * len(pool))]
            if plate not in taken:
                taken.add(plate)
                return plate
        return random_plate(rng)

    def _visit(
        self, rng: random.Random, cohort: Cohort, midnight: int, next_working: bool, plate: str
    ) -> _Visit | None:
        arrive = midnight + round(_hour(rng, cohort.arrive, cohort.between) * 3600)
        if cohort.stay_hours is not None:
            median, sigma = cohort.stay_hours
            stay = round(rng.lognormvariate(math.log(median), sigma) * 3600)
            leave = min(arrive + stay, midnight + round(cohort.latest * 3600))
        else:
            peaks = cohort.leave
            if cohort.leave_day and not next_working and cohort.leave_if_day_off:
                peaks = cohort.leave_if_day_off
            hour = _hour(rng, peaks, cohort.leave_between)
            leave = midnight + cohort.leave_day * DAY + round(hour * 3600)
        leave = max(leave, arrive + _minutes(rng, 5, 40))
        gates = self.gates[int(rng.random() * len(self.gates))], rng.choice(self.gates)
        visit = _Visit("", plate, arrive, leave, cohort.sharing, gates)
        if cohort.sharing and not self._keep_to_window(rng, visit):
            return None
        return self._keep_to_quiet_hours(rng, visit)

    def _keep_to_window(self, rng: random.Random, visit: _Visit) -> bool:
        """Sharing drivers come inside a window and leave by its end, but a few overstay."""
        window = self._window_at(visit.arrive)
        overstay, still_inside = rng.random() < OVERSTAY_SHARE, rng.random() < STILL_INSIDE_SHARE
        late, early = _minutes(rng, 10, 150), _minutes(rng, 1, 20)
        if window is None:
            return False
        if window[1] >= self.horizon:
            return True  # the window outlasts the simulated days
        must_leave_by = visit.must_leave_by = window[1]
        if visit.arrive >= must_leave_by - 15 * 60:
            return False
        planned = visit.leave
        if overstay and (planned is None or planned > must_leave_by - STAYING_TO_THE_END):
            visit.leave = None if still_inside else must_leave_by + late
        elif visit.leave is None or visit.leave > must_leave_by - early:
            visit.leave = must_leave_by - early
        return True

    def _window_at(self, instant: int) -> tuple[int, int] | None:
        i = bisect.bisect_right(self.windows, (instant, DAY * 100)) - 1
        return self.windows[i] if i >= 0 and instant < self.windows[i][1] else None

    def _shared_at(self, instant: int) -> int:
        i = bisect.bisect_right(self.segments, (instant, DAY * 100, 0)) - 1
        return self.segments[i][2] if i >= 0 and instant < self.segments[i][1] else 0

    def _keep_to_quiet_hours(self, rng: random.Random, visit: _Visit) -> _Visit | None:
        """Nobody enters in quiet hours; a car leaving in them leaves just before or after."""
        quiet = self.lot.schedule.quiet_hours
        if quiet is None:
            return visit
        if quiet.forbids_entry_at(self.at(visit.arrive), SHANGHAI):
            return None
        leave = visit.leave
        if leave is None or not quiet.forbids_exit_at(self.at(leave), SHANGHAI):
            return visit
        midnight = leave - leave % DAY
        starts = midnight + quiet.start.hour * 3600 + quiet.start.minute * 60
        ends = midnight + quiet.end.hour * 3600 + quiet.end.minute * 60
        before = starts - _minutes(rng, 0, 25)
        if starts <= leave and before > visit.arrive + 5 * 60:
            visit.leave = before
        else:
            visit.leave = (ends if leave < ends else ends + DAY) + _minutes(rng, 0, 30)
        return visit

    # --- admitting them in arrival order ---------------------------------------------------

    def _admit(self, visits: list[_Visit]) -> list[_Visit]:
        leaving: list[tuple[int, int, str, bool]] = []
        inside: set[str] = set()
        sharing_inside = 0
        admitted: list[_Visit] = []
        for n, visit in enumerate(visits):
            while leaving and leaving[0][0] <= visit.arrive:
                _, _, plate, sharing = heapq.heappop(leaving)
                inside.discard(plate)
                sharing_inside -= sharing
            if visit.plate in inside:
                continue  # the same car is already here
            full = len(inside) >= self.lot.berths or (
                visit.sharing and sharing_inside >= self._shared_at(visit.arrive)
            )
            if full:
                self.turned_away += self.start <= visit.arrive < self.end
                continue
            inside.add(visit.plate)
            sharing_inside += visit.sharing
            if visit.leave is not None:
                heapq.heappush(leaving, (visit.leave, n, visit.plate, visit.sharing))
            admitted.append(visit)
        return admitted

    # --- what the gates see, and what the link delivers ------------------------------------

    def _events(self, admitted: list[_Visit]) -> list[tuple[int, str, _Visit]]:
        """Entries and exits on the day, with the entries of the cars inside at midnight."""
        events: list[tuple[int, str, _Visit]] = []
        for visit in admitted:
            if visit.arrive < self.end and (visit.leave is None or visit.leave >= self.start):
                events.append((visit.arrive, _IN, visit))
            if visit.leave is not None and self.start <= visit.leave < self.end:
                events.append((visit.leave, _OUT, visit))
        events.sort(key=lambda e: (e[0], e[1] == _IN, e[2].key))  # exits first at a tie
        return events

    def _counts(self, events: list[tuple[int, str, _Visit]], rng: random.Random) -> list[int]:
        """The times of the free-berth counts, every ~5 minutes."""
        step = int(COUNT_EVERY.total_seconds())
        times = range(self.start + rng.randrange(step), self.end, step)
        return [min(max(t + int(rng.random() * 21) - 10, self.start), self.end - 1) for t in times]

    def _link(
        self, events: list[tuple[int, str, _Visit]], counts: list[int], rng: random.Random
    ) -> tuple[list[_Timed], tuple[int, int] | None]:
        """What is sent, and when."""
        outage = None
        if rng.random() < OUTAGE_CHANCE:
            down = self.start + round(rng.uniform(7.0, 21.0) * 3600)
            outage = (down, down + _minutes(rng, 8, 35))
        code, berths = self.lot.code, self.lot.berths
        sends: list[_Timed] = []
        inside, i = 0, 0
        for t in counts:  # the berths less the cars inside by the events, when the link is up
            while i < len(events) and events[i][0] <= t:
                inside += 1 if events[i][1] == _IN else -1
                i += 1
            if not (outage and outage[0] <= t < outage[1]):
                item = {"lot": code, "free": berths - inside, "total": berths, "at": self._iso(t)}
                sends.append(_Timed(t, "counts", item))
        for t, direction, visit in events:
            item = {
                "event_id": f"{visit.key}-{direction}",
                "lot": code,
                "plate": visit.plate,
                "direction": direction,
                "at": self._iso(t),
                "gate": visit.gates[direction == _OUT],
            }
            send_at = t
            if t < self.start:
                send_at = self.start  # the cars inside at midnight: sent first
            elif outage and outage[0] <= t < outage[1]:
                send_at = outage[1] + rng.randint(5, 60)
            elif rng.random() < LATE_SHARE:
                send_at = t + _minutes(rng, 2, 15)
            sends.append(_Timed(send_at, "events", item))
            if rng.random() < DUPLICATE_SHARE:
                sends.append(_Timed(send_at + rng.randint(2, 180), "events", item))
        return sends, outage

    def _iso(self, seconds: int) -> str:
        return self.at(seconds).isoformat()

    def _summary(
        self,
        admitted: list[_Visit],
        events: list[tuple[int, str, _Visit]],
        sends: list[_Timed],
        outage: tuple[int, int] | None,
    ) -> LotDay:
        on_day = [e for e in events if e[0] >= self.start]
        at_start = len(events) - len(on_day)
        inside = peak = at_start
        peak_at = self.start
        for t, direction, _ in on_day:
            inside += 1 if direction == _IN else -1
            if inside > peak:
                peak, peak_at = inside, t
        seen: set[str] = set()
        duplicates = late = 0
        for send_at, kind, item in sends:
            if kind == "events":
                event_id = item["event_id"]
                duplicates += event_id in seen
                at = self.seconds(datetime.fromisoformat(item["at"]))
                late += event_id not in seen and at >= self.start and send_at - at >= LATE_AFTER
                seen.add(event_id)
        sharing = [v for v in admitted if v.sharing]
        return LotDay(
            code=self.lot.code,
            kind=self.lot.kind,
            use=self.lot.use,
            berths=self.lot.berths,
            shared_berths=self.lot.shared_berths,
            events=len(on_day),
            entries=sum(e[1] == _IN for e in on_day),
            exits=sum(e[1] == _OUT for e in on_day),
            inside_at_start=at_start,
            inside_at_end=inside,
            peak_occupancy=peak,
            peak_at=self.at(peak_at),
            sharing_entries=sum(self.start <= v.arrive < self.end for v in sharing),
            overstays=sum(self._overstayed(v) for v in sharing),
            turned_away=self.turned_away,
            duplicates=duplicates,
            late=late,
            counts=sum(send.kind == "counts" for send in sends),
            outage=(self.at(outage[0]), self.at(outage[1])) if outage else None,
        )

    def _overstayed(self, visit: _Visit) -> bool:
        """Left after its must-leave-by on the day, or still inside after it at day's end."""
        by = visit.must_leave_by
        if by is None or by >= self.end or visit.arrive >= self.end:
            return False
        if visit.leave is None or visit.leave >= self.end:
            return True
        return visit.leave > by and visit.leave >= self.start
