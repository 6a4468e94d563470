"""A small world built through the services for the operations tests: two car parks,
bookings (one through the waitlist), a cancellation, a monthly pass, gate traffic and a
count."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from parkshare.clock import FixedClock
from parkshare.config import Policy
from parkshare.db import Database
from parkshare.ingest import events, keys
from parkshare.passes import service as passes
from parkshare.passes.model import PassKind
from parkshare.reservations.model import Reservation
from parkshare.reservations.service import ReservationRequest, cancel, reserve
from tests.factories import make_lot

SH = ZoneInfo("Asia/Shanghai")
POLICY = Policy()


def at(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=SH)  # type: ignore[misc]


NOW = at(2022, 6, 24, 9)  # Friday morning, before the weekend window opens at 18:00


@dataclass(frozen=True)
class World:
    arrived: str  # L: inside since 19:05
    completed: str  # L: booked from the waitlist, came and left
    other: str  # M: booked, not come yet


def build_world(database: Database) -> World:
    """Two car parks, bookings (one through the waitlist), a cancellation, a monthly pass,
    gate traffic (a reservation arriving and one leaving, a walk-in, a car still inside) and
    a count, all through the services."""
    clock = FixedClock(NOW)
    with database.session(write=True) as session:
        make_lot(session, clock=clock, code="L", shared_berths=2)
        make_lot(session, clock=clock, code="M", shared_berths=3, total_berths=5)
        arrived = book(session, clock, "L", "鲁B10001", at(2022, 6, 24, 19), at(2022, 6, 25, 10))
        dropped = book(session, clock, "L", "鲁B10002", at(2022, 6, 24, 20), at(2022, 6, 25, 9))
        book(session, clock, "L", "鲁B10003", at(2022, 6, 24, 19, 30), at(2022, 6, 24, 21, 30))
        other = book(session, clock, "M", "鲁B10004", at(2022, 6, 24, 19), at(2022, 6, 25, 7))
        cancel(session, dropped, policy=POLICY, clock=clock)  # the waiting driver gets it
        passes.offer_passes(session, "M", PassKind.NIGHT, date(2022, 7, 1), quota=1, price_fen=1)
        passes.apply(
            session,
            passes.PassApplicationRequest(
                "鲁B10005", PassKind.NIGHT, date(2022, 7, 1), 120.18, 35.96
            ),
            clock=clock,
        )
        passes.allocate(session, PassKind.NIGHT, date(2022, 7, 1), policy=POLICY, clock=clock)
        _, secret = keys.create_key(session, name="gates", lot_codes=["L", "M"], clock=clock)
    clock.set(at(2022, 6, 24, 21, 10))
    with database.session(write=True) as session:
        key = keys.authenticate(session, secret, clock=clock)
        traffic = [
            gate("e1", "L", "鲁B10001", "in", at(2022, 6, 24, 19, 5)),
            gate("e2", "L", "鲁B10003", "in", at(2022, 6, 24, 19, 35)),
            gate("e3", "L", "鲁B10003", "out", at(2022, 6, 24, 21)),
            gate("e4", "M", "鲁B20001", "in", at(2022, 6, 24, 18, 30)),
            gate("e5", "M", "鲁B20001", "out", at(2022, 6, 24, 19)),
            gate("e6", "M", "鲁B20002", "in", at(2022, 6, 24, 19, 10)),
        ]
        result = events.ingest_events(session, key, traffic, policy=POLICY, clock=clock)
        assert not result.rejected
        count = {"lot": "M", "free": 3, "at": at(2022, 6, 24, 19, 15).isoformat()}
        events.ingest_counts(session, key, [count], clock=clock)
        completed = session.scalars(
            select(Reservation.ref).where(Reservation.plate == "鲁B10003")
        ).one()
    return World(arrived=arrived, completed=completed, other=other)


def book(
    session: Session, clock: FixedClock, lot: str, plate: str, start: datetime, end: datetime
) -> str:
    request = ReservationRequest(lot, plate, start, end, waitlist=True)
    outcome = reserve(session, request, idempotency_key=f"key-{plate}", policy=POLICY, clock=clock)
    return outcome.ref


def gate(event_id: str, lot: str, plate: str, direction: str, when: datetime) -> dict[str, Any]:
    return {
        "event_id": event_id,
        "lot": lot,
        "plate": plate,
        "direction": direction,
        "at": when.isoformat(),
        "gate": "north",
    }
