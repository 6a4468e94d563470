"""Hypothesis state machine over the booking service on a real SQLite database.

The model is a plain list of held intervals. Invariants: the database never holds more
berths than shared at any instant; a cancelled berth is bookable again; a retry with the same
Idempotency-Key returns the first reservation and changes nothing.
"""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, invariant, rule
from sqlalchemy import select

from parkshare.clock import FixedClock
from parkshare.config import Policy
from parkshare.db import Database
from parkshare.errors import NoCapacity, PlateAlreadyBooked
from parkshare.reservations.model import HOLDING, Reservation
from parkshare.reservations.service import ReservationRequest, cancel, reserve
from tests.factories import make_lot

SH = ZoneInfo("Asia/Shanghai")
NOW = datetime(2022, 6, 24, 9, tzinfo=SH)
CAPACITY = 3
POLICY = Policy(max_cancellations_per_month=10_000)
# Saturday 06:00 … 21:00 on the hour: inside the weekend window, clear of quiet hours.
HOURS = st.integers(min_value=6, max_value=21)


class Booking(RuleBasedStateMachine):
    keys = Bundle("keys")

    def __init__(self) -> None:
        super().__init__()
        self.directory = tempfile.TemporaryDirectory()
        self.database = Database(f"sqlite:///{Path(self.directory.name) / 's.db'}")
        self.database.migrate()
        self.clock = FixedClock(NOW.astimezone(UTC))
        with self.database.session(write=True) as session:
            make_lot(session, clock=self.clock, code="L", shared_berths=CAPACITY)
        self.held: dict[str, tuple[str, datetime, datetime]] = {}  # ref → plate, start, end
        self.requests: dict[str, tuple[ReservationRequest, str | None]] = {}
        self.counter = 0

    def teardown(self) -> None:
        self.database.dispose()
        self.directory.cleanup()

    def _fits(self, plate: str, start: datetime, end: datetime) -> tuple[bool, bool]:
        overlapping = [(s, e) for p, s, e in self.held.values() if s < end and start < e]
        plate_busy = any(p == plate for p, s, e in self.held.values() if s < end and start < e)
        peak = max(
            (
                sum(1 for s, e in overlapping if s <= t < e)
                for t in [start, *(s for s, _ in overlapping)]
                if start <= t < end
            ),
            default=0,
        )
        return peak < CAPACITY, plate_busy

    def _reserve(self, request: ReservationRequest, key: str | None) -> Reservation | Exception:
        try:
            with self.database.session(write=True) as session:
                result = reserve(
                    session, request, idempotency_key=key, policy=POLICY, clock=self.clock
                )
                assert isinstance(result, Reservation)
                return result
        except (NoCapacity, PlateAlreadyBooked) as refusal:
            return refusal

    @rule(target=keys, plate=st.integers(0, 5), first=HOURS, hours=st.integers(1, 6))
    def book(self, plate: int, first: int, hours: int) -> str:
        start = datetime(2022, 6, 25, first, tzinfo=SH)
        end = min(start + timedelta(hours=hours), datetime(2022, 6, 25, 22, tzinfo=SH))
        number = f"鲁B{plate:05d}"
        self.counter += 1
        key = f"k{self.counter}"
        request = ReservationRequest("L", number, start, end)
        fits, plate_busy = self._fits(number, start, end)
        result = self._reserve(request, key)
        if plate_busy:
            assert isinstance(result, PlateAlreadyBooked)
        elif fits:
            assert isinstance(result, Reservation), result
            self.held[result.ref] = (number, start, end)
            self.requests[key] = (request, result.ref)
        else:
            assert isinstance(result, NoCapacity)
        if key not in self.requests:
            self.requests[key] = (request, None)
        return key

    @rule(key=keys)
    def retry(self, key: str) -> None:
        request, ref = self.requests[key]
        result = self._reserve(request, key)
        if ref is not None:
            assert isinstance(result, Reservation) and result.ref == ref

    @rule(key=keys)
    def cancel_one(self, key: str) -> None:
        _, ref = self.requests[key]
        if ref is None or ref not in self.held:
            return
        with self.database.session(write=True) as session:
            cancel(session, ref, policy=POLICY, clock=self.clock)
        del self.held[ref]

    @invariant()
    def database_matches_the_model_and_never_overbooks(self) -> None:
        with self.database.session() as session:
            rows = list(session.scalars(select(Reservation).where(Reservation.status.in_(HOLDING))))
        assert {r.ref for r in rows} == set(self.held)
        for row in rows:
            assert sum(1 for r in rows if r.start <= row.start < r.end) <= CAPACITY


Booking.TestCase.settings = settings(
    max_examples=25, stateful_step_count=20, deadline=None, database=None
)
TestBooking = Booking.TestCase
