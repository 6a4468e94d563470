"""The waitlist (候补): a driver waits for a full window; a berth freed by a cancellation or a
no-show goes to the first waiting driver whose request still fits, who is told at once."""

from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy.orm import Session

from parkshare.availability.service import availability_at
from parkshare.clock import Clock
from parkshare.config import Policy
from parkshare.credit.repository import CreditRepository
from parkshare.lots.profiles import LotProfile, profile_of
from parkshare.lots.repository import LotRepository
from parkshare.outbox import service as outbox
from parkshare.plates import mask_plate
from parkshare.reservations.model import WaitlistEntry, WaitlistStatus
from parkshare.reservations.repository import ReservationRepository
from parkshare.schedules.rules import BerthCategory


def join(
    session: Session,
    lot: LotProfile,
    plate: str,
    category: BerthCategory,
    start: datetime,
    end: datetime,
    *,
    fingerprint: str,
    idempotency_key: str | None,
    account_id: int | None = None,
    clock: Clock,
) -> WaitlistEntry:
    from parkshare.reservations.service import new_ref

    entry = WaitlistEntry(
        ref=new_ref("W"),
        lot_id=lot.id,
        plate=plate,
        account_id=account_id,
        category=category,
        start=start,
        end=end,
        status=WaitlistStatus.WAITING,
        idempotency_key=idempotency_key,
        request_hash=fingerprint,
        created_at=clock.now(),
    )
    session.add(entry)
    session.flush()
    return entry


def offer_freed_berths(session: Session, lot_id: int, *, policy: Policy, clock: Clock) -> int:
    """Book berths for waiting drivers, first come first served, while they fit.

    The caller holds the car park's lock. Returns how many drivers got a berth.
    """
    from parkshare.reservations.service import book

    repository = ReservationRepository(session)
    entries = repository.waiting(lot_id)
    if not entries:
        return 0
    loaded = LotRepository(session).get(lot_id)
    assert loaded is not None  # the car park of an existing entry
    lot = profile_of(loaded)
    now = clock.now()
    offered = 0
    for entry in entries:
        if entry.start < now:
            entry.status = WaitlistStatus.EXPIRED
            continue
        if CreditRepository(session).active_bar(entry.plate, now) is not None:
            continue
        if repository.plate_overlaps(entry.plate, entry.start, entry.end):
            continue
        answer = availability_at(
            session,
            lot,
            entry.start,
            entry.end,
            category=entry.category,
            horizon_days=policy.window_horizon_days,
        )
        if not answer.servable or answer.free < 1:
            continue
        reservation = book(
            session,
            lot,
            plate=entry.plate,
            category=entry.category,
            start=entry.start,
            end=entry.end,
            must_leave_by=answer.must_leave_by or entry.end,
            fingerprint=hashlib.sha256(entry.ref.encode()).hexdigest(),
            idempotency_key=None,
            account_id=entry.account_id,
            policy=policy,
            clock=clock,
        )
        entry.status = WaitlistStatus.FULFILLED
        entry.reservation_id = reservation.id
        outbox.enqueue(
            session,
            topic="waitlist.booked",
            key=f"waitlist:{entry.ref}",
            payload={
                "waitlist": entry.ref,
                "reservation": reservation.ref,
                "lot": lot.code,
                "plate": mask_plate(entry.plate),
            },
            due_at=now,
            clock=clock,
        )
        offered += 1
    session.flush()
    return offered
