"""Utilisation of shared berths: occupied shared-berth hours ÷ shared-berth hours offered, by
hour of the day (Asia/Shanghai), by area (街道) and by group, over a range of days.

- *Offered*: the shared berths a car park's sharing rules offer at each instant (suspensions
  removed), integrated over time. Only car parks online now are counted.
- *Occupied*: at each instant, the cars inside that use sharing — never more than the berths
  offered at that instant. A car uses sharing when it came with a reservation, or when it
  entered while the car park was sharing (a member of staff who arrived in the morning and
  stays into the evening window does not). Cars come from parking sessions (gate events) and
  from arrivals recorded by staff on reservations that have no session.
- A car still inside counts until now, at most ``MAX_STAY`` after its entry; sessions whose
  entry or exit the gate missed (``entry_only``, ``exit_only``) have no known stay and are left
  out.
- Car parks that sent no gate data and recorded no arrival over the range cannot be observed:
  they are left out of the shares and counted in ``lots_unmeasured``.

The arithmetic (``hourly_shares``, ``sharing_stays``, the sums) is pure; ``utilisation_report``
reads the registry, sessions and reservations and feeds it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from parkshare.clock import EARLIEST_YEAR, LATEST_YEAR, Clock
from parkshare.errors import InvalidInterval, InvalidTimestamp
from parkshare.ingest.live import MAX_STAY
from parkshare.ingest.model import SessionStatus
from parkshare.ingest.repository import IngestRepository
from parkshare.lots.model import Lot, LotKind, LotStatus
from parkshare.lots.repository import LotRepository
from parkshare.reservations.repository import ReservationRepository
from parkshare.schedules import service as schedules
from parkshare.schedules.rules import SHANGHAI, windows_between

HOURS = 24
MAX_DAYS = 31  # the longest range one report covers
_SECONDS_PER_HOUR = 3600.0

# --- the arithmetic (pure) ------------------------------------------------------------------


@dataclass(frozen=True)
class Offer:
    """Shared berths offered over [start, end)."""

    start: datetime
    end: datetime
    berths: int


@dataclass(frozen=True)
class Visit:
    """A car's stay as recorded: ``exited_at`` None while it is still inside."""

    entered_at: datetime
    exited_at: datetime | None
    booked: bool = False  # came with a reservation


@dataclass(frozen=True)
class Stay:
    start: datetime
    end: datetime


@dataclass(frozen=True)
class Share:
    """Shared-berth hours offered and occupied."""

    offered: float = 0.0
    occupied: float = 0.0

    def __add__(self, other: Share) -> Share:
        return Share(self.offered + other.offered, self.occupied + other.occupied)

    @property
    def percent(self) -> Decimal | None:
        """Occupied as a share of offered, to two decimals; None when nothing was offered."""
        if self.offered <= 0:
            return None
        ratio = Decimal(repr(self.occupied)) * 100 / Decimal(repr(self.offered))
        return ratio.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def total(shares: Iterable[Share]) -> Share:
    result = Share()
    for share in shares:
        result = result + share
    return result


def sharing_stays(offers: Sequence[Offer], visits: Iterable[Visit], *, now: datetime) -> list[Stay]:
    """The stays that use sharing: booked ones, and those that entered while berths were
    offered. A car still inside stays until ``now``, at most ``MAX_STAY`` after its entry."""
    stays: list[Stay] = []
    for visit in visits:
        if not visit.booked and not _offered_at(offers, visit.entered_at):
            continue
        end = visit.exited_at or min(now, visit.entered_at + MAX_STAY)
        if end > visit.entered_at:
            stays.append(Stay(visit.entered_at, end))
    return stays


def _offered_at(offers: Sequence[Offer], instant: datetime) -> bool:
    return any(o.start <= instant < o.end and o.berths > 0 for o in offers)


def hourly_shares(
    offers: Sequence[Offer],
    stays: Sequence[Stay],
    start: datetime,
    end: datetime,
    *,
    tz: ZoneInfo = SHANGHAI,
) -> list[Share]:
    """For each local hour of the day (0–23), the berth-hours offered and occupied in
    [start, end). Occupied at an instant: the stays inside, at most the berths offered."""
    changes: dict[datetime, list[int]] = defaultdict(lambda: [0, 0])  # Δ berths, Δ cars
    for offer in offers:
        if offer.start < end and start < offer.end and offer.berths:
            changes[max(offer.start, start)][0] += offer.berths
            changes[min(offer.end, end)][0] -= offer.berths
    for stay in stays:
        if stay.start < end and start < stay.end:
            changes[max(stay.start, start)][1] += 1
            changes[min(stay.end, end)][1] -= 1
    for boundary in _hour_boundaries(start, end, tz):
        changes.setdefault(boundary, [0, 0])  # a cut: no stretch spans two hours
    offered = [0.0] * HOURS
    occupied = [0.0] * HOURS
    berths = cars = 0
    previous: datetime | None = None
    for instant in sorted(changes):
        if previous is not None and berths > 0:
            hours = (instant - previous).total_seconds() / _SECONDS_PER_HOUR
            hour = previous.astimezone(tz).hour
            offered[hour] += berths * hours
            occupied[hour] += min(berths, cars) * hours
        delta = changes[instant]
        berths, cars, previous = berths + delta[0], cars + delta[1], instant
    return [Share(o, c) for o, c in zip(offered, occupied, strict=True)]


def _hour_boundaries(start: datetime, end: datetime, tz: ZoneInfo) -> list[datetime]:
    local = start.astimezone(tz)
    first = local.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    boundaries = []
    instant = first
    while instant < end:
        boundaries.append(instant)
        instant += timedelta(hours=1)
    return boundaries


@dataclass(frozen=True)
class LotUse:
    """One car park's shares by hour of the day."""

    code: str
    area: str
    area_en: str
    group: LotKind
    hours: tuple[Share, ...]

    @property
    def total(self) -> Share:
        return total(self.hours)


@dataclass(frozen=True)
class AreaUse:
    area: str
    area_en: str
    lots: int
    share: Share


@dataclass(frozen=True)
class GroupUse:
    group: LotKind
    lots: int
    share: Share


@dataclass(frozen=True)
class UtilisationReport:
    first_day: date
    last_day: date
    start: datetime  # the instants measured: local midnight of the first day …
    end: datetime  # … to midnight after the last, or now if that is earlier
    lots: tuple[LotUse, ...]  # the car parks measured
    lots_unmeasured: int  # online car parks with no gate data or arrival over the range

    @property
    def total(self) -> Share:
        return total(lot.total for lot in self.lots)

    @property
    def by_hour(self) -> list[Share]:
        return [total(lot.hours[hour] for lot in self.lots) for hour in range(HOURS)]

    @property
    def by_area(self) -> list[AreaUse]:
        """Areas by name (their order in Chinese), each with its car parks measured."""
        groups: dict[tuple[str, str], list[LotUse]] = defaultdict(list)
        for lot in self.lots:
            groups[(lot.area, lot.area_en)].append(lot)
        return [
            AreaUse(area, area_en, len(lots), total(lot.total for lot in lots))
            for (area, area_en), lots in sorted(groups.items())
        ]

    @property
    def by_group(self) -> list[GroupUse]:
        uses = []
        for group in LotKind:
            lots = [lot for lot in self.lots if lot.group is group]
            if lots:
                uses.append(GroupUse(group, len(lots), total(lot.total for lot in lots)))
        return uses


# --- reading what it needs ------------------------------------------------------------------


def day_range(first: date, last: date, *, tz: ZoneInfo = SHANGHAI) -> tuple[datetime, datetime]:
    """Local midnight of ``first`` to local midnight after ``last``; refuses a bad range."""
    for name, day in (("from", first), ("to", last)):
        if not EARLIEST_YEAR <= day.year <= LATEST_YEAR:
            raise InvalidTimestamp(
                f"{name} {day.isoformat()} is outside the years {EARLIEST_YEAR}–{LATEST_YEAR}.",
                field=name,
            )
    if last < first:
        raise InvalidInterval(
            f"The range ends ({last.isoformat()}) before it starts ({first.isoformat()}).",
            field="to",
        )
    if (last - first).days + 1 > MAX_DAYS:
        raise InvalidInterval(
            f"A report covers at most {MAX_DAYS} days; ask for a shorter range.", field="to"
        )
    start = datetime.combine(first, time(0), tz)
    return start, datetime.combine(last + timedelta(days=1), time(0), tz)


def yesterday(clock: Clock, *, tz: ZoneInfo = SHANGHAI) -> date:
    return clock.now().astimezone(tz).date() - timedelta(days=1)


def utilisation_report(
    session: Session,
    first: date,
    last: date,
    *,
    clock: Clock,
    codes: Sequence[str] | None = None,
) -> UtilisationReport:
    """Utilisation of the online car parks (or of ``codes``) from ``first`` to ``last``
    (local dates, both included), measured up to now."""
    start, end = day_range(first, last)
    now = clock.now()
    end = max(start, min(end, now))
    calendar = schedules.calendar(session)
    wanted = set(codes) if codes is not None else None
    lots = [
        lot
        for lot in sorted(LotRepository(session).all_with_rules(), key=lambda lot: lot.code)
        if lot.status is LotStatus.ONLINE and (wanted is None or lot.code in wanted)
    ]
    measured: list[LotUse] = []
    for lot in lots:
        visits = _visits(session, lot, start, end) if end > start else []
        if not any(_overlaps(v, start, end, now) for v in visits):
            continue
        schedule = schedules.schedule_of(lot)
        offers = [
            Offer(segment.start, segment.end, sum(segment.shared.values()))
            for window in windows_between(schedule, calendar, start - MAX_STAY, end)
            for segment in window.segments
        ]
        stays = sharing_stays(offers, visits, now=now)
        hours = hourly_shares(offers, stays, start, end)
        measured.append(LotUse(lot.code, lot.area, lot.area_en, lot.kind, tuple(hours)))
    return UtilisationReport(
        first_day=first,
        last_day=last,
        start=start,
        end=end,
        lots=tuple(measured),
        lots_unmeasured=len(lots) - len(measured),
    )


def _overlaps(visit: Visit, start: datetime, end: datetime, now: datetime) -> bool:
    left = visit.exited_at or min(now, visit.entered_at + MAX_STAY)
    return visit.entered_at < end and left > start


def _visits(session: Session, lot: Lot, start: datetime, end: datetime) -> list[Visit]:
    """The stays recorded at a car park that may reach into [start, end): its parking
    sessions with both ends known or still open, and staff-recorded arrivals of reservations
    without a session."""
    visits: list[Visit] = []
    linked: set[int] = set()
    for row in IngestRepository(session).sessions(lot.id, start - MAX_STAY, end):
        if row.reservation_id is not None:
            linked.add(row.reservation_id)
        if row.entered_at is None or row.status not in (SessionStatus.CLOSED, SessionStatus.OPEN):
            continue
        visits.append(Visit(row.entered_at, row.exited_at, row.reservation_id is not None))
    for reservation in ReservationRepository(session).at_lot_on(lot.id, start - MAX_STAY, end):
        if reservation.arrived_at is None or reservation.id in linked:
            continue
        visits.append(Visit(reservation.arrived_at, reservation.departed_at, booked=True))
    return visits
