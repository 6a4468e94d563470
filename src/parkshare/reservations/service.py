"""Booking and cancelling. The database decides: every change that takes or frees a berth
locks the car park first (``LotRepository.lock``) and re-reads what is committed under that
lock, so no two transactions can both take the last berth, on SQLite or on PostgreSQL."""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from parkshare.availability.rules import check_interval
from parkshare.availability.service import availability_at
from parkshare.clock import Clock
from parkshare.config import Policy
from parkshare.credit.service import check_not_barred
from parkshare.errors import (
    BookingLimitReached,
    CancellationRefused,
    IdempotencyKeyReused,
    NoCapacity,
    NotFound,
    NotServable,
    PlateAlreadyBooked,
    StartsInPast,
    TooFarAhead,
)
from parkshare.lots.profiles import LotProfile, profiles
from parkshare.lots.repository import LotRepository
from parkshare.lots.service import get_lot
from parkshare.outbox import service as outbox
from parkshare.plates import mask_plate, parse_plate
from parkshare.reservations import waitlist
from parkshare.reservations.model import Reservation, ReservationStatus, WaitlistEntry
from parkshare.reservations.repository import ReservationRepository
from parkshare.schedules import service as schedules
from parkshare.schedules.model import SuspensionRow
from parkshare.schedules.rules import SHANGHAI, BerthCategory

CLOCK_SKEW = timedelta(minutes=5)  # a start this far in the past still counts as "now"


@dataclass(frozen=True)
class ReservationRequest:
    lot: str
    plate: str
    start: datetime
    end: datetime
    category: BerthCategory = BerthCategory.ORDINARY
    waitlist: bool = False  # wait for a berth when the car park is full
    account_id: int | None = None  # the driver's account booking it (None: staff, CLI)

    def fingerprint(self) -> str:
        body = {
            "lot": self.lot,
            "plate": parse_plate(self.plate).number,
            "start": self.start.timestamp(),
            "end": self.end.timestamp(),
            "category": str(self.category),
            "waitlist": self.waitlist,
            "account": self.account_id,
        }
        return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def new_ref(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:16]}"


def reserve(
    session: Session,
    request: ReservationRequest,
    *,
    idempotency_key: str | None,
    policy: Policy,
    clock: Clock,
) -> Reservation | WaitlistEntry:
    """Book a shared berth, or (when asked) join the waitlist of a full window.

    A retry with the same ``idempotency_key`` returns the first answer; the same key with a
    different request is refused.
    """
    plate = parse_plate(request.plate).number
    fingerprint = request.fingerprint()
    repository = ReservationRepository(session)
    lot = profiles(session).locked(session, request.lot)  # everything below is decided under it
    if idempotency_key and (earlier := _replay(repository, idempotency_key, fingerprint)):
        return earlier  # the first answer, even if the request has since gone stale
    _check_times(request, policy=policy, clock=clock)
    check_not_barred(session, plate, clock=clock)
    _check_limits(repository, plate, policy=policy, clock=clock)
    if repository.plate_overlaps(plate, request.start, request.end):
        raise PlateAlreadyBooked("This plate already holds a reservation in that interval.")
    answer = availability_at(
        session,
        lot,
        request.start,
        request.end,
        category=request.category,
        horizon_days=policy.window_horizon_days,
    )
    if answer.reason is not None:
        raise NotServable(
            str(answer.reason),
            f"Car park {lot.code} cannot serve this interval ({answer.reason}).",
            must_leave_by=answer.must_leave_by.isoformat() if answer.must_leave_by else None,
        )
    if answer.free < 1:
        if request.waitlist:
            return waitlist.join(
                session,
                lot,
                plate,
                request.category,
                request.start,
                request.end,
                fingerprint=fingerprint,
                idempotency_key=idempotency_key,
                account_id=request.account_id,
                clock=clock,
            )
        raise NoCapacity(
            f"Car park {lot.code} has no free {request.category} berth for the whole interval.",
            lot=lot.code,
        )
    reservation = book(
        session,
        lot,
        plate=plate,
        category=request.category,
        start=request.start,
        end=request.end,
        must_leave_by=answer.must_leave_by or request.end,
        fingerprint=fingerprint,
        idempotency_key=idempotency_key,
        account_id=request.account_id,
        policy=policy,
        clock=clock,
    )
    return reservation


def book(
    session: Session,
    lot: LotProfile,
    *,
    plate: str,
    category: BerthCategory,
    start: datetime,
    end: datetime,
    must_leave_by: datetime,
    fingerprint: str,
    idempotency_key: str | None,
    account_id: int | None = None,
    policy: Policy,
    clock: Clock,
) -> Reservation:
    """Write a reservation the caller has checked under the car park's lock."""
    now = clock.now()
    tariff = lot.tariff
    reservation = Reservation(
        ref=new_ref("R"),
        lot_id=lot.id,
        plate=plate,
        account_id=account_id,
        category=category,
        start=start,
        end=end,
        must_leave_by=must_leave_by,
        status=ReservationStatus.BOOKED,
        idempotency_key=idempotency_key,
        request_hash=fingerprint,
        price_estimate_fen=tariff.fee(start, end) if tariff else 0,
        cancel_fee_fen=0,
        created_at=now,
        updated_at=now,
    )
    session.add(reservation)
    session.flush()
    outbox.enqueue(
        session,
        topic="reminder.must_leave_by",
        key=f"reminder:{reservation.ref}",
        payload={
            "reservation": reservation.ref,
            "lot": lot.code,
            "plate": mask_plate(plate),
            "must_leave_by": must_leave_by.astimezone(SHANGHAI).isoformat(),
        },
        due_at=max(now, must_leave_by - policy.reminder_lead),
        clock=clock,
        fresh_key=True,
    )
    return reservation


def get_reservation(session: Session, ref: str) -> Reservation:
    reservation = ReservationRepository(session).by_ref(ref)
    if reservation is None:
        raise NotFound(f"No reservation {ref!r}.", reservation=ref)
    return reservation


def cancel(session: Session, ref: str, *, policy: Policy, clock: Clock) -> Reservation:
    """Cancel a booked reservation: free until ``policy.free_cancel_before`` the start, then a
    fee (or refused when the policy has no late fee). Cancelling twice changes nothing."""
    reservation = get_reservation(session, ref)
    LotRepository(session).lock(reservation.lot_id)
    session.refresh(reservation)  # the state as committed, now that we hold the lock
    if reservation.status is ReservationStatus.CANCELLED:
        return reservation
    now = clock.now()
    if reservation.status is not ReservationStatus.BOOKED or now >= reservation.start:
        raise CancellationRefused(
            f"A reservation that is {reservation.status} and starts at "
            f"{reservation.start.isoformat()} can no longer be cancelled."
        )
    fee = 0
    if now > reservation.start - policy.free_cancel_before:
        if policy.late_cancel_fee_fen is None:
            raise CancellationRefused(
                f"Cancellations close {policy.free_cancel_before} before the start."
            )
        fee = policy.late_cancel_fee_fen
    _cancelled(session, reservation, by="driver", fee=fee, clock=clock)
    session.flush()
    waitlist.offer_freed_berths(session, reservation.lot_id, policy=policy, clock=clock)
    return reservation


def _cancelled(
    session: Session, reservation: Reservation, *, by: str, fee: int, clock: Clock
) -> None:
    now = clock.now()
    reservation.status = ReservationStatus.CANCELLED
    reservation.cancelled_at = now
    reservation.cancelled_by = by
    reservation.cancel_fee_fen = fee
    reservation.updated_at = now
    outbox.cancel(session, f"reminder:{reservation.ref}", clock=clock)


def suspend_sharing(
    session: Session,
    lot_code: str,
    *,
    start: datetime,
    resume: datetime,
    reason: str,
    emergency: bool,
    min_notice: timedelta,
    clock: Clock,
) -> tuple[SuspensionRow, list[Reservation]]:
    """Suspend sharing at a car park and tell every reservation it hits at once: bookings
    not yet started are cancelled free of charge (not held against the driver); cars already
    inside must leave by the start of the suspension."""
    lot = get_lot(session, lot_code)
    LotRepository(session).lock(lot.id)
    row = schedules.suspend(
        lot,
        start=start,
        resume=resume,
        reason=reason,
        emergency=emergency,
        min_notice=min_notice,
        clock=clock,
    )
    hit = ReservationRepository(session).holding(lot.id, start, resume)
    for reservation in hit:
        if reservation.status is ReservationStatus.BOOKED:
            _cancelled(session, reservation, by="operator", fee=0, clock=clock)
        else:  # the car is inside: its stay now ends when the suspension starts
            leave_by = min(reservation.must_leave_by, max(start, clock.now()))
            reservation.must_leave_by = leave_by
            reservation.end = min(reservation.end, leave_by)
        outbox.enqueue(
            session,
            topic="reservation.suspended",
            key=f"suspended:{reservation.ref}:{row.start.isoformat()}",
            payload={
                "reservation": reservation.ref,
                "lot": lot.code,
                "plate": mask_plate(reservation.plate),
                "status": str(reservation.status),
                "from": start.astimezone(SHANGHAI).isoformat(),
                "resume": resume.astimezone(SHANGHAI).isoformat(),
                "reason": row.reason,
            },
            due_at=clock.now(),
            clock=clock,
        )
    session.flush()
    return row, hit


def _replay(
    repository: ReservationRepository, key: str, fingerprint: str
) -> Reservation | WaitlistEntry | None:
    """The first answer given to this key: a reservation, or a place on the waitlist."""
    earlier: Reservation | WaitlistEntry | None = repository.by_idempotency_key(key)
    if earlier is None:
        earlier = repository.waiting_by_idempotency_key(key)
    if earlier is not None and earlier.request_hash != fingerprint:
        raise IdempotencyKeyReused(
            "This Idempotency-Key was used for a different request; use a new key."
        )
    return earlier


def _check_times(request: ReservationRequest, *, policy: Policy, clock: Clock) -> None:
    check_interval(request.start, request.end)
    now = clock.now()
    if request.start < now - CLOCK_SKEW:
        raise StartsInPast("A reservation cannot start in the past.")
    if request.start > now + policy.booking_horizon:
        raise TooFarAhead(f"Reservations open {policy.booking_horizon.days} days ahead at most.")


def _check_limits(
    repository: ReservationRepository, plate: str, *, policy: Policy, clock: Clock
) -> None:
    local = clock.now().astimezone(SHANGHAI)
    since = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    cancelled, no_shows = repository.strikes_since(plate, since)
    if cancelled >= policy.max_cancellations_per_month:
        raise BookingLimitReached(
            f"{cancelled} cancellations this month reach the limit of "
            f"{policy.max_cancellations_per_month}; booking reopens next month."
        )
    if no_shows >= policy.max_no_shows_per_month:
        raise BookingLimitReached(
            f"{no_shows} no-shows this month reach the limit of "
            f"{policy.max_no_shows_per_month}; booking reopens next month."
        )
