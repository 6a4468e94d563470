"""The commitments of a scaled demo, written as their services write them: monthly passes as
``passes.allocate`` issues them (the offer, the allocated application, the pass and its
``pass.issued`` notice) and reservations as ``reservations.book`` makes them (status booked,
``must_leave_by`` the end of the window, the tariff's price estimate, the request's
fingerprint and the ``reminder.must_leave_by`` message in the outbox).

What each car park holds comes from ``scaled_bookings``: never more than its capacity.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import cache

from parkshare.config import Policy
from parkshare.demo.scaled_bookings import (
    DAY,
    FULL,
    Horizon,
    Shape,
    ShapePlan,
    Stay,
    stays,
)
from parkshare.demo.scaled_plates import Plates, Refs
from parkshare.demo.scaled_repository import CHUNK, Row, ScaledRepository
from parkshare.demo.scaled_sites import ScaledSite
from parkshare.fees.tariff import Tariff
from parkshare.outbox.model import OutboxMessage
from parkshare.passes.model import (
    ApplicationStatus,
    ParkingPass,
    PassApplication,
    PassKind,
    PassOffer,
)
from parkshare.reservations.model import Reservation, ReservationStatus
from parkshare.schedules.rules import SHANGHAI, BerthCategory, Berths

LOTS_PER_BATCH = 2_000
ALLOCATION_LEAD = timedelta(days=5)  # passes of a month are allocated this long before it
# Monthly price of a pass (fen) in Jinan and Qingdao; less in smaller cities.
_PASS_PRICE = {
    (Shape.INSTITUTIONAL, PassKind.NIGHT): 15_000,
    (Shape.INSTITUTIONAL, PassKind.WEEKEND): 8_000,
    (Shape.OFFICE, PassKind.NIGHT): 25_000,
    (Shape.OFFICE, PassKind.WEEKEND): 12_000,
    (Shape.MALL, PassKind.NIGHT): 30_000,
}
# The part of a car park's demand held by monthly passes: most of its nights (the residents
# nearby), less of its weekends.
_PASS_SHARE = {PassKind.NIGHT: (0.5, 0.85), PassKind.WEEKEND: (0.25, 0.6)}
_KM_PER_DEGREE_LAT = 111.195

Held = dict[tuple[PassKind, date], int]  # passes issued at a car park, by (kind, month)


@dataclass(frozen=True)
class ScaledLot:
    id: int
    site: ScaledSite
    shape: Shape
    capacity: dict[str, Berths]  # shared berths at each capacity level of its shape
    tariff: Tariff


def allocated_at(month: date) -> datetime:
    return datetime.combine(month - ALLOCATION_LEAD, time(10), SHANGHAI)


def write_passes(
    store: ScaledRepository,
    lots: Sequence[ScaledLot],
    plans: Mapping[Shape, ShapePlan],
    plates: Plates,
    *,
    seed: int,
    now: datetime,
) -> tuple[int, dict[int, Held]]:
    """Offers and issued passes of every month a bookable window belongs to; returns the
    number of offers and the passes issued per car park."""
    applications, passes = Refs("A", seed), Refs("P", seed)
    held: dict[int, Held] = {}
    offers = 0
    for first in range(0, len(lots), LOTS_PER_BATCH):
        offer_rows: list[Row] = []
        issued: list[tuple[ScaledLot, Row, int]] = []  # (car park, application, price)
        for lot in lots[first : first + LOTS_PER_BATCH]:
            rng = random.Random(seed * 7_919 + lot.id)
            for kind, month, quota, taken in _offers(rng, lot, plans[lot.shape], now):
                price = _pass_price(lot, kind)
                offer_rows.append(
                    {"lot_id": lot.id, "kind": kind, "month": month, "quota": quota,
                     "price_fen": price}
                )  # fmt: skip
                held.setdefault(lot.id, {})[(kind, month)] = taken
                issued += [
                    (lot, _application(rng, lot, kind, month, plates, applications), price)
                    for _ in range(taken)
                ]
        offers += len(offer_rows)
        store.insert(PassOffer, offer_rows)
        ids = store.insert_with_ids(PassApplication, [a for _, a, _ in issued], key=("ref",))
        rows = [
            _issued(lot, application, application_id, price, passes, now)
            for (lot, application, price), application_id in zip(issued, ids, strict=True)
        ]
        store.insert(ParkingPass, [p for p, _ in rows])
        store.insert(OutboxMessage, [notice for _, notice in rows])
    return offers, held


def _offers(
    rng: random.Random, lot: ScaledLot, plan: ShapePlan, now: datetime
) -> Iterator[tuple[PassKind, date, int, int]]:
    """(kind, month, quota, issued): passes for a good part of the car park's demand, within
    the headroom; none issued yet for a month whose allocation is still to come."""
    for (kind, month), levels in sorted(plan.pass_levels.items()):
        headroom = min(lot.capacity[level][BerthCategory.ORDINARY] for level in levels)
        ordinary = lot.capacity[FULL][BerthCategory.ORDINARY]
        wanted = round(lot.site.demand * ordinary * rng.uniform(*_PASS_SHARE[kind]))
        quota = min(headroom, round(wanted * rng.uniform(1.0, 1.3)))
        taken = min(quota, wanted) if allocated_at(month) <= now else 0
        if quota > 0:
            yield kind, month, quota, taken


def _pass_price(lot: ScaledLot, kind: PassKind) -> int:
    factor = {1: 1.0, 2: 0.8}.get(lot.site.city.tier, 0.65)
    return 1_000 * round(_PASS_PRICE[(lot.shape, kind)] * factor / 1_000)


def _application(
    rng: random.Random, lot: ScaledLot, kind: PassKind, month: date, plates: Plates, refs: Refs
) -> Row:
    """An application from someone living within walking distance, allocated this car park."""
    site = lot.site
    walk = rng.choice((500, 800, 1_000, 1_500))
    distance_km = walk / 1_000 * 0.9 * math.sqrt(rng.random())
    bearing = rng.uniform(0.0, 2 * math.pi)
    km_per_degree_lon = _KM_PER_DEGREE_LAT * math.cos(math.radians(site.lat))
    return {
        "ref": refs.draw(),
        "plate": plates.draw(site.city.plate_letter, new_energy=False),
        "account_id": None,
        "kind": kind,
        "month": month,
        "home_lon": round(site.lon + distance_km * math.sin(bearing) / km_per_degree_lon, 6),
        "home_lat": round(site.lat + distance_km * math.cos(bearing) / _KM_PER_DEGREE_LAT, 6),
        "max_walk_m": walk,
        "preferred_lots": "",
        "status": ApplicationStatus.ALLOCATED,
        "applied_at": allocated_at(month) - timedelta(seconds=rng.randrange(3_600, 20 * 86_400)),
    }


def _issued(
    lot: ScaledLot, application: Row, application_id: int, price: int, refs: Refs, now: datetime
) -> tuple[Row, Row]:
    """The pass and its notice (delivered a minute after the allocation)."""
    at = allocated_at(application["month"])
    issued = {
        "ref": refs.draw(),
        "plate": application["plate"],
        "lot_id": lot.id,
        "kind": application["kind"],
        "month": application["month"],
        "application_id": application_id,
        "price_fen": price,
        "issued_at": at,
        "revoked_at": None,
    }
    payload = {"application": application["ref"], "lot": lot.site.code,
               "plate": masked(application["plate"])}  # fmt: skip
    notice = _message("pass.issued", f"pass:{application['ref']}", payload, due_at=at, created=at)
    notice.update(sent_at=min(now, at + timedelta(minutes=1)), attempts=1)
    return issued, notice


def _message(topic: str, key: str, payload: Row, *, due_at: datetime, created: datetime) -> Row:
    """An outbox message as ``outbox.enqueue`` queues it (not sent, not cancelled: NULL)."""
    return {
        "topic": topic,
        "dedupe_key": key,
        "payload": payload,
        "due_at": due_at,
        "created_at": created,
        "attempts": 0,
        "last_error": "",
    }


class Booker:
    """Writes the reservations of car parks, a batch of car parks at a time."""

    def __init__(
        self,
        store: ScaledRepository,
        span: Horizon,
        plates: Plates,
        *,
        seed: int,
        now: datetime,
        policy: Policy,
    ) -> None:
        self._store, self._span, self._plates = store, span, plates
        self._seed, self._now, self._policy = seed, now, policy
        self._refs = Refs("R", seed)

    def write(
        self, lots: Sequence[ScaledLot], plans: Mapping[Shape, ShapePlan], held: dict[int, Held]
    ) -> int:
        written = 0
        reservations: list[Row] = []
        reminders: list[Row] = []
        for lot in lots:
            rng = random.Random(self._seed * 104_729 + lot.id)
            plan, passes = plans[lot.shape], held.get(lot.id, {})
            found = stays(rng, plan, self._span, capacity=lot.capacity, passes=passes,
                          demand=lot.site.demand, booked=lot.site.booked)  # fmt: skip
            for stay in found:
                reservation, reminder = self._booking(rng, lot, stay)
                reservations.append(reservation)
                reminders.append(reminder)
            if len(reservations) >= 4 * CHUNK:
                written += self._flush(reservations, reminders)
        return written + self._flush(reservations, reminders)

    def _flush(self, reservations: list[Row], reminders: list[Row]) -> int:
        count = len(reservations)
        self._store.insert(Reservation, reservations)
        self._store.insert(OutboxMessage, reminders)
        reservations.clear()
        reminders.clear()
        return count

    def _booking(self, rng: random.Random, lot: ScaledLot, stay: Stay) -> tuple[Row, Row]:
        span, now = self._span, self._now
        start, end = span.instant(stay.start), span.instant(stay.end)
        must_leave_by = stay.window.must_leave_by
        plate = self._plates.draw(
            lot.site.city.plate_letter, new_energy=stay.category is BerthCategory.EV_CHARGING
        )
        # Booked some time in the past week, within the booking horizon of the start.
        earliest = min(timedelta(days=7), self._policy.booking_horizon - (start - now))
        booked = now - timedelta(seconds=rng.randrange(max(1, int(earliest.total_seconds()))))
        ref = self._refs.draw()
        reservation = {  # the columns left out stay NULL, as book leaves them
            "ref": ref,
            "lot_id": lot.id,
            "plate": plate,
            "category": stay.category,
            "start": start,
            "end": end,
            "must_leave_by": must_leave_by,
            "status": ReservationStatus.BOOKED,
            "request_hash": request_hash(lot.site.code, plate, start, end, stay.category),
            "price_estimate_fen": fee(lot.tariff, stay.start % DAY, stay.end - stay.start),
            "cancel_fee_fen": 0,
            "created_at": booked,
            "updated_at": booked,
        }
        payload = {"reservation": ref, "lot": lot.site.code, "plate": masked(plate),
                   "must_leave_by": _local_iso(must_leave_by)}  # fmt: skip
        due_at = max(booked, must_leave_by - self._policy.reminder_lead)
        reminder = _message(
            "reminder.must_leave_by", f"reminder:{ref}", payload, due_at=due_at, created=booked
        )
        return reservation, reminder


def request_hash(
    code: str, plate: str, start: datetime, end: datetime, category: BerthCategory
) -> str:
    """``ReservationRequest.fingerprint()`` of a staff booking (no account, no waitlist) of
    a plate in normal form: the same JSON, its keys in order, written without re-parsing the
    plate (a test holds the two equal)."""
    body = (
        f'{{"account": null, "category": "{category.value}", "end": {end.timestamp()!r}, '
        f'"lot": {json.dumps(code)}, "plate": {json.dumps(plate)}, '
        f'"start": {start.timestamp()!r}, "waitlist": false}}'
    )
    return hashlib.sha256(body.encode()).hexdigest()


def masked(plate: str) -> str:
    """``mask_plate`` of a valid ordinary or new-energy plate (a test holds the two equal):
    province, authority, first and last serial characters kept."""
    return f"{plate[:3]}{'*' * (len(plate) - 4)}{plate[-1]}"


_REFERENCE_DAY = datetime(2022, 1, 3, tzinfo=SHANGHAI)


@cache
def _local_iso(instant: datetime) -> str:
    """A must-leave-by as the reminder shows it (a few distinct ones per car park)."""
    return instant.astimezone(SHANGHAI).isoformat()


@cache
def fee(tariff: Tariff, entry_minute: int, minutes: int) -> int:
    """``tariff.fee`` of a stay entering at ``entry_minute`` of the (local) day: a tariff's
    fee depends only on the time of day of entry and the length of the stay."""
    entry = _REFERENCE_DAY + timedelta(minutes=entry_minute)
    return tariff.fee(entry, entry + timedelta(minutes=minutes))
