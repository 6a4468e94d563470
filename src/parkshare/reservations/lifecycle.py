"""What happens to a reservation after booking: arrival, departure with its fee, no-show
release after a grace period, and overstays past must-leave-by (which become violations).

Arrival and departure come from gate events (the ingest feature) or from the operator; the
sweeps run periodically (``parkshare sweep``)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from parkshare.clock import Clock
from parkshare.config import Policy
from parkshare.credit.service import record_overstay
from parkshare.errors import InvalidTransition, NotFound
from parkshare.fees.service import tariff_of
from parkshare.fees.tariff import overstay_surcharge
from parkshare.lots.repository import LotRepository
from parkshare.lots.service import get_lot
from parkshare.outbox import service as outbox
from parkshare.plates import mask_plate, parse_plate
from parkshare.reservations import waitlist
from parkshare.reservations.model import Reservation, ReservationStatus
from parkshare.reservations.repository import ReservationRepository

EARLY_ARRIVAL = timedelta(minutes=30)  # a driver may enter this long before the start
ARRIVABLE = (ReservationStatus.BOOKED,)
INSIDE = (ReservationStatus.ARRIVED, ReservationStatus.OVERSTAYED)


def arrive(session: Session, lot_code: str, plate: str, at: datetime) -> Reservation:
    """The plate entered the car park: its booked reservation for that time is now arrived."""
    lot = get_lot(session, lot_code, with_schedule=False)
    number = parse_plate(plate).number
    candidates = [
        r
        for r in ReservationRepository(session).for_plate_at_lot(lot.id, number, ARRIVABLE)
        if r.start - EARLY_ARRIVAL <= at < r.end
    ]
    if not candidates:
        raise NotFound(
            f"No booked reservation of {mask_plate(number)} at {lot_code} covers {at.isoformat()}."
        )
    reservation = candidates[0]
    reservation.status = ReservationStatus.ARRIVED
    reservation.arrived_at = at
    reservation.updated_at = at
    return reservation


def reservation_for_entry(
    session: Session, lot_id: int, plate: str, entered_at: datetime
) -> Reservation | None:
    """The reservation an entry belongs to: the one that already arrived at that moment, or
    a booked one whose span (from a little before its start) holds it."""
    statuses = (*ARRIVABLE, *INSIDE, ReservationStatus.COMPLETED)
    mine = ReservationRepository(session).for_plate_at_lot(lot_id, plate, statuses)
    arrived = [r for r in mine if r.arrived_at == entered_at]
    if arrived:
        return arrived[0]
    booked = [
        r for r in mine if r.status in ARRIVABLE and r.start - EARLY_ARRIVAL <= entered_at < r.end
    ]
    return booked[0] if booked else None


def depart(
    session: Session, lot_code: str, plate: str, at: datetime, *, policy: Policy, clock: Clock
) -> Reservation:
    """The plate left: settle the fee (parking plus any overstay surcharge) and complete."""
    lot = get_lot(session, lot_code)
    number = parse_plate(plate).number
    inside = ReservationRepository(session).for_plate_at_lot(lot.id, number, INSIDE)
    if not inside:
        raise NotFound(f"{mask_plate(number)} has no reservation inside {lot_code}.")
    reservation = inside[0]
    if reservation.arrived_at is None or at < reservation.arrived_at:
        raise InvalidTransition("A departure cannot come before the arrival.")
    tariff = tariff_of(lot)
    parking = tariff.fee(reservation.arrived_at, at) if tariff else 0
    surcharge = overstay_surcharge(
        reservation.must_leave_by + policy.overstay_grace,
        at,
        fen_per_hour=policy.overstay_surcharge_fen_per_hour,
    )
    if reservation.status is ReservationStatus.ARRIVED and surcharge:
        _overstayed(session, reservation, policy=policy, clock=clock)
    reservation.status = ReservationStatus.COMPLETED
    reservation.departed_at = at
    reservation.parking_fee_fen = parking
    reservation.overstay_fee_fen = surcharge
    reservation.updated_at = clock.now()
    outbox.cancel(session, f"reminder:{reservation.ref}", clock=clock)
    return reservation


def release_no_shows(session: Session, *, policy: Policy, clock: Clock) -> list[Reservation]:
    """Booked reservations whose driver has not arrived ``no_show_grace`` after the start
    release their berth (which goes to the waitlist)."""
    cutoff = clock.now() - policy.no_show_grace
    released: list[Reservation] = []
    lots = LotRepository(session)
    for reservation in ReservationRepository(session).booked_starting_before(cutoff):
        lots.lock(reservation.lot_id)
        session.refresh(reservation)
        if reservation.status is not ReservationStatus.BOOKED:
            continue
        reservation.status = ReservationStatus.NO_SHOW
        reservation.updated_at = clock.now()
        outbox.cancel(session, f"reminder:{reservation.ref}", clock=clock)
        released.append(reservation)
    session.flush()
    for lot_id in sorted({r.lot_id for r in released}):
        waitlist.offer_freed_berths(session, lot_id, policy=policy, clock=clock)
    return released


def detect_overstays(session: Session, *, policy: Policy, clock: Clock) -> list[Reservation]:
    """Vehicles still inside after must-leave-by + grace: mark them and record a violation."""
    cutoff = clock.now() - policy.overstay_grace
    found = ReservationRepository(session).arrived_past(cutoff)
    for reservation in found:
        _overstayed(session, reservation, policy=policy, clock=clock)
    return found


def _overstayed(
    session: Session, reservation: Reservation, *, policy: Policy, clock: Clock
) -> None:
    reservation.status = ReservationStatus.OVERSTAYED
    reservation.updated_at = clock.now()
    record_overstay(
        session,
        plate=reservation.plate,
        lot_id=reservation.lot_id,
        reservation_id=reservation.id,
        occurred_at=reservation.must_leave_by + policy.overstay_grace,
        policy=policy,
        clock=clock,
    )
    outbox.enqueue(
        session,
        topic="operator.overstay",
        key=f"overstay:{reservation.ref}",
        payload={"reservation": reservation.ref, "plate": mask_plate(reservation.plate)},
        due_at=clock.now(),
        clock=clock,
    )
