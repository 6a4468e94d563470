"""What flows back down to the gate: the plates allowed in a car park and when, so a barrier
opens by plate recognition (reservations, and passes in the windows of their kind)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from parkshare.clock import Clock
from parkshare.lots.model import Lot
from parkshare.passes.repository import PassRepository
from parkshare.passes.rules import window_kind
from parkshare.reservations.lifecycle import EARLY_ARRIVAL
from parkshare.reservations.repository import ReservationRepository
from parkshare.schedules import service as schedules
from parkshare.schedules.rules import SHANGHAI, window_at, windows_between

LOOK_AHEAD = timedelta(hours=24)


@dataclass(frozen=True)
class Permit:
    plate: str  # in full: only the car park's own system, holding its key, reads this
    source: str  # "reservation" or "pass"
    ref: str
    valid_from: datetime
    valid_until: datetime


@dataclass(frozen=True)
class Whitelist:
    lot: str
    generated_at: datetime
    permits: list[Permit]

    @property
    def version(self) -> str:
        """Changes exactly when the permits change (MQTT republishes on a new version)."""
        rows = sorted(
            (p.plate, p.source, p.ref, p.valid_from.isoformat(), p.valid_until.isoformat())
            for p in self.permits
        )
        return hashlib.sha256(json.dumps(rows).encode()).hexdigest()[:16]


def whitelist(session: Session, lot: Lot, *, clock: Clock) -> Whitelist:
    """Permits valid at some moment of the next 24 hours (``lot`` loaded with its schedule)."""
    now = clock.now()
    until = now + LOOK_AHEAD
    permits = [
        Permit(r.plate, "reservation", r.ref, r.start - EARLY_ARRIVAL, r.must_leave_by)
        for r in ReservationRepository(session).holding(lot.id, now, until)
        if r.start - EARLY_ARRIVAL < until
    ]
    permits += _pass_permits(session, lot, now, until)
    permits.sort(key=lambda p: (p.valid_from, p.plate))
    return Whitelist(lot=lot.code, generated_at=now, permits=permits)


def _pass_permits(session: Session, lot: Lot, now: datetime, until: datetime) -> list[Permit]:
    passes = PassRepository(session).active_at_lot(lot.id, now, until)
    if not passes:
        return []
    schedule = schedules.schedule_of(lot)
    calendar = schedules.calendar(session)
    permits = []
    for piece in windows_between(schedule, calendar, now, until):
        anchor = piece.start or now
        window = window_at(schedule, calendar, anchor)
        if window is None:
            continue
        kind = window_kind(window, calendar, anchor=anchor)
        month = (window.start or anchor).astimezone(SHANGHAI).date().replace(day=1)
        for held in passes:
            if held.kind is kind and held.month == month:
                permits.append(
                    Permit(
                        held.plate, "pass", held.ref, window.start or anchor, window.end or until
                    )
                )
    return permits
