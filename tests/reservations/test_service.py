"""Booking, cancelling, idempotency, the waitlist, limits and the lifecycle, on both databases."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from parkshare.availability.service import lot_availability
from parkshare.clock import FixedClock
from parkshare.config import Policy
from parkshare.credit.repository import CreditRepository
from parkshare.db import Database
from parkshare.errors import (
    Barred,
    BookingLimitReached,
    CancellationRefused,
    IdempotencyKeyReused,
    NoCapacity,
    NotServable,
    PlateAlreadyBooked,
    StartsInPast,
    TooFarAhead,
)
from parkshare.fees.tariff import RatePeriod, Tariff
from parkshare.outbox.model import OutboxMessage
from parkshare.plates import InvalidPlate
from parkshare.reservations import lifecycle
from parkshare.reservations.model import Reservation, ReservationStatus, WaitlistEntry
from parkshare.reservations.service import ReservationRequest, cancel, reserve, suspend_sharing
from tests.factories import make_lot

SH = ZoneInfo("Asia/Shanghai")
POLICY = Policy()
# 1 yuan an hour, 30 minutes free, at most 10 yuan a day.
TARIFF = Tariff(rates=(RatePeriod(time(0), 100),), free_minutes=30, daily_cap_fen=1_000)


def at(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=SH)  # type: ignore[misc]


FRIDAY_NIGHT = (at(2022, 6, 24, 19), at(2022, 6, 25, 10))
PLATES = [f"鲁B{n:05d}" for n in range(1, 60)]


@pytest.fixture
def lot(database: Database, clock: FixedClock) -> str:
    clock.set(at(2022, 6, 24, 9))
    with database.session(write=True) as session:
        make_lot(session, clock=clock, code="L", shared_berths=2, tariff=TARIFF)
    return "L"


def book(
    database: Database,
    clock: FixedClock,
    plate: str,
    span: tuple[datetime, datetime] = FRIDAY_NIGHT,
    *,
    key: str | None = None,
    waitlist: bool = False,
    policy: Policy = POLICY,
) -> Reservation | WaitlistEntry:
    request = ReservationRequest("L", plate, span[0], span[1], waitlist=waitlist)
    with database.session(write=True) as session:
        return reserve(session, request, idempotency_key=key, policy=policy, clock=clock)


def free(database: Database, span: tuple[datetime, datetime] = FRIDAY_NIGHT) -> int:
    with database.session() as session:
        return lot_availability(session, "L", *span).free


def test_booking_takes_a_berth_and_carries_must_leave_by(
    database: Database, clock: FixedClock, lot: str
) -> None:
    reservation = book(database, clock, PLATES[0])
    assert isinstance(reservation, Reservation)
    assert reservation.status is ReservationStatus.BOOKED
    assert reservation.must_leave_by == at(2022, 6, 27, 7, 30)
    assert reservation.plate == "鲁B00001"
    assert free(database) == 1


def test_the_last_berth_goes_once(database: Database, clock: FixedClock, lot: str) -> None:
    book(database, clock, PLATES[0])
    book(database, clock, PLATES[1])
    with pytest.raises(NoCapacity):
        book(database, clock, PLATES[2])
    assert free(database) == 0


def test_back_to_back_reservations_share_a_berth(
    database: Database, clock: FixedClock, lot: str
) -> None:
    book(database, clock, PLATES[0], (at(2022, 6, 24, 19), at(2022, 6, 25, 8)))
    book(database, clock, PLATES[1], (at(2022, 6, 24, 19), at(2022, 6, 25, 8)))
    later = book(database, clock, PLATES[2], (at(2022, 6, 25, 8), at(2022, 6, 25, 12)))
    assert isinstance(later, Reservation)


def test_retry_with_the_same_key_returns_the_same_reservation(
    database: Database, clock: FixedClock, lot: str
) -> None:
    first = book(database, clock, PLATES[0], key="k-1")
    again = book(database, clock, PLATES[0], key="k-1")
    assert again.ref == first.ref
    assert free(database) == 1


def test_same_key_for_another_request_is_refused(
    database: Database, clock: FixedClock, lot: str
) -> None:
    book(database, clock, PLATES[0], key="k-1")
    with pytest.raises(IdempotencyKeyReused):
        book(database, clock, PLATES[1], key="k-1")
    assert free(database) == 1


@pytest.mark.parametrize(
    ("span", "code"),
    [
        ((at(2022, 6, 28, 12), at(2022, 6, 28, 13)), "outside_sharing_window"),
        ((at(2022, 6, 24, 19), at(2022, 6, 27, 9)), "spans_windows"),
        ((at(2022, 6, 24, 23), at(2022, 6, 25, 9)), "entry_in_quiet_hours"),
    ],
)
def test_unservable_intervals_are_refused_with_their_reason(
    database: Database, clock: FixedClock, lot: str, span: tuple[datetime, datetime], code: str
) -> None:
    with pytest.raises(NotServable) as error:
        book(database, clock, PLATES[0], span)
    assert error.value.code == code


def test_times_in_the_past_or_too_far_ahead_are_refused(
    database: Database, clock: FixedClock, lot: str
) -> None:
    with pytest.raises(StartsInPast):
        book(database, clock, PLATES[0], (at(2022, 6, 23, 19), at(2022, 6, 23, 21)))
    with pytest.raises(TooFarAhead):
        book(database, clock, PLATES[0], (at(2022, 7, 29, 19), at(2022, 7, 29, 21)))


def test_invalid_plate_is_refused(database: Database, clock: FixedClock, lot: str) -> None:
    with pytest.raises(InvalidPlate):
        book(database, clock, "XX12345")


def test_one_plate_cannot_hold_two_overlapping_reservations(
    database: Database, clock: FixedClock, lot: str
) -> None:
    book(database, clock, PLATES[0])
    with pytest.raises(PlateAlreadyBooked):
        book(database, clock, PLATES[0], (at(2022, 6, 25, 9), at(2022, 6, 25, 11)))


def test_cancel_frees_the_berth_free_of_charge_in_time(
    database: Database, clock: FixedClock, lot: str
) -> None:
    reservation = book(database, clock, PLATES[0])
    with database.session(write=True) as session:
        cancelled = cancel(session, reservation.ref, policy=POLICY, clock=clock)
    assert cancelled.status is ReservationStatus.CANCELLED
    assert cancelled.cancel_fee_fen == 0
    assert free(database) == 2
    with database.session(write=True) as session:
        again = cancel(session, reservation.ref, policy=POLICY, clock=clock)
    assert again.cancel_fee_fen == 0


def test_late_cancel_costs_the_fee_or_is_refused(
    database: Database, clock: FixedClock, lot: str
) -> None:
    reservation = book(database, clock, PLATES[0])
    clock.set(at(2022, 6, 24, 18, 30))
    with database.session(write=True) as session:
        late = cancel(session, reservation.ref, policy=POLICY, clock=clock)
    assert late.cancel_fee_fen == POLICY.late_cancel_fee_fen
    strict = Policy(late_cancel_fee_fen=None)
    other = book(database, clock, PLATES[1], policy=strict)
    with database.session(write=True) as session, pytest.raises(CancellationRefused):
        cancel(session, other.ref, policy=strict, clock=clock)


def test_waitlist_gets_the_cancelled_berth_and_is_told(
    database: Database, clock: FixedClock, lot: str
) -> None:
    first = book(database, clock, PLATES[0])
    book(database, clock, PLATES[1])
    entry = book(database, clock, PLATES[2], waitlist=True)
    assert isinstance(entry, WaitlistEntry)
    with database.session(write=True) as session:
        cancel(session, first.ref, policy=POLICY, clock=clock)
    with database.session() as session:
        promoted = session.query(Reservation).filter_by(plate="鲁B00003").one()
        assert promoted.status is ReservationStatus.BOOKED
        topics = {m.topic for m in session.query(OutboxMessage)}
    assert "waitlist.booked" in topics
    assert free(database) == 0


def test_no_show_is_released_after_grace_and_counts_against_the_plate(
    database: Database, clock: FixedClock, lot: str
) -> None:
    policy = Policy(max_no_shows_per_month=1)
    book(database, clock, PLATES[0])
    clock.set(at(2022, 6, 24, 19, 31))
    with database.session(write=True) as session:
        released = lifecycle.release_no_shows(session, policy=policy, clock=clock)
    assert [r.status for r in released] == [ReservationStatus.NO_SHOW]
    assert free(database, (at(2022, 6, 24, 20), at(2022, 6, 25, 10))) == 2
    with pytest.raises(BookingLimitReached):
        book(database, clock, PLATES[0], (at(2022, 6, 25, 19), at(2022, 6, 25, 21)), policy=policy)


def test_cancellation_cap_per_month(database: Database, clock: FixedClock, lot: str) -> None:
    policy = Policy(max_cancellations_per_month=2)
    for _ in range(2):
        reservation = book(database, clock, PLATES[0], policy=policy)
        with database.session(write=True) as session:
            cancel(session, reservation.ref, policy=policy, clock=clock)
    with pytest.raises(BookingLimitReached):
        book(database, clock, PLATES[0], policy=policy)


def test_arrival_departure_and_fee(database: Database, clock: FixedClock, lot: str) -> None:
    book(database, clock, PLATES[0])
    with database.session(write=True) as session:
        arrived = lifecycle.arrive(session, "L", PLATES[0], at(2022, 6, 24, 19, 5))
        assert arrived.status is ReservationStatus.ARRIVED
    clock.set(at(2022, 6, 25, 9, 5))
    with database.session(write=True) as session:
        done = lifecycle.depart(session, "L", PLATES[0], clock.now(), policy=POLICY, clock=clock)
    assert done.status is ReservationStatus.COMPLETED
    assert done.fee_fen == 1_000  # 14 hours at 1 yuan, capped at 10 yuan a day


def test_two_overstays_bar_the_plate(database: Database, clock: FixedClock, lot: str) -> None:
    nights = [
        (at(2022, 6, 27, 19), at(2022, 6, 28, 7)),
        (at(2022, 6, 28, 19), at(2022, 6, 29, 7)),
    ]
    for start, end in nights:
        book(database, clock, PLATES[0], (start, end))
        with database.session(write=True) as session:
            lifecycle.arrive(session, "L", PLATES[0], start)
        clock.set(end.replace(hour=7, minute=30) + POLICY.overstay_grace + timedelta(minutes=1))
        with database.session(write=True) as session:
            found = lifecycle.detect_overstays(session, policy=POLICY, clock=clock)
            assert [r.status for r in found] == [ReservationStatus.OVERSTAYED]
        with database.session(write=True) as session:
            lifecycle.depart(session, "L", PLATES[0], clock.now(), policy=POLICY, clock=clock)
    clock.set(at(2022, 6, 29, 9))
    with database.session() as session:
        assert CreditRepository(session).uncorrected_count("鲁B00001") == 2
    with pytest.raises(Barred):
        book(database, clock, PLATES[0], (at(2022, 6, 30, 19), at(2022, 6, 30, 21)))


def test_a_suspension_tells_every_reservation_it_hits(
    database: Database, clock: FixedClock, lot: str
) -> None:
    policy = Policy(max_cancellations_per_month=1)
    waiting = book(database, clock, PLATES[0], (at(2022, 6, 25, 9), at(2022, 6, 25, 12)))
    inside = book(database, clock, PLATES[1], (at(2022, 6, 24, 19), at(2022, 6, 25, 20)))
    with database.session(write=True) as session:
        lifecycle.arrive(session, "L", PLATES[1], at(2022, 6, 24, 19))
    clock.set(at(2022, 6, 25, 7))
    with database.session(write=True) as session:
        _, hit = suspend_sharing(
            session,
            "L",
            start=at(2022, 6, 25, 10),
            resume=at(2022, 6, 25, 18),
            reason="消防演练 fire drill",
            emergency=False,
            min_notice=timedelta(hours=2),
            clock=clock,
        )
    assert {r.ref for r in hit} == {waiting.ref, inside.ref}
    with database.session() as session:
        cancelled = session.query(Reservation).filter_by(ref=waiting.ref).one()
        kept = session.query(Reservation).filter_by(ref=inside.ref).one()
        notices = session.query(OutboxMessage).filter_by(topic="reservation.suspended").count()
    assert cancelled.status is ReservationStatus.CANCELLED and cancelled.cancel_fee_fen == 0
    assert kept.must_leave_by == kept.end == at(2022, 6, 25, 10)
    assert notices == 2
    # an operator's cancellation is not held against the driver's monthly cap
    again = book(
        database, clock, PLATES[0], (at(2022, 6, 25, 19), at(2022, 6, 25, 21)), policy=policy
    )
    assert isinstance(again, Reservation)
