"""Availability of a stored car park over [start, end)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from parkshare.availability.rules import Availability, Commitment, Unservable, availability
from parkshare.lots.model import LotStatus
from parkshare.lots.service import get_lot
from parkshare.schedules import service as schedules
from parkshare.schedules.rules import BerthCategory


def lot_availability(
    session: Session,
    code: str,
    start: datetime,
    end: datetime,
    *,
    category: BerthCategory = BerthCategory.ORDINARY,
    horizon_days: int = 31,
) -> Availability:
    lot = get_lot(session, code)
    answer = availability(
        schedules.schedule_of(lot),
        schedules.calendar(session),
        commitments(session, lot.id, start, end),
        start,
        end,
        category=category,
        horizon_days=horizon_days,
    )
    if lot.status is not LotStatus.ONLINE and answer.servable:
        return Availability(
            start=start,
            end=end,
            category=category,
            free=0,
            shared=answer.shared,
            free_by_category={c: 0 for c in BerthCategory},
            window_start=answer.window_start,
            must_leave_by=answer.must_leave_by,
            reason=Unservable.LOT_NOT_ONLINE,
        )
    return answer


def commitments(session: Session, lot_id: int, start: datetime, end: datetime) -> list[Commitment]:
    """Reservations and passes holding berths at the car park during [start, end).

    Neither exists yet: reservations and passes arrive with the booking feature (issue 3),
    which fills this from its own repository.
    """
    return []
