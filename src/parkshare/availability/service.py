"""Availability of a stored car park over [start, end), counting reservations and passes."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from parkshare.availability.rules import Availability, Commitment, Unservable, availability
from parkshare.calendar import OfficialCalendar
from parkshare.lots.model import Lot, LotStatus
from parkshare.lots.profiles import LotProfile, profile_of
from parkshare.lots.service import get_lot
from parkshare.passes.repository import PassRepository
from parkshare.passes.rules import month_of, window_kind
from parkshare.reservations.repository import ReservationRepository
from parkshare.schedules import service as schedules
from parkshare.schedules.rules import SHANGHAI, BerthCategory, Window


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
    return availability_at(session, lot, start, end, category=category, horizon_days=horizon_days)


def availability_at(
    session: Session,
    lot: Lot | LotProfile,
    start: datetime,
    end: datetime,
    *,
    category: BerthCategory = BerthCategory.ORDINARY,
    horizon_days: int = 31,
    calendar: OfficialCalendar | None = None,
) -> Availability:
    """The answer for a car park (loaded with its schedule, or its cached profile), inside the
    caller's transaction."""
    profile = lot if isinstance(lot, LotProfile) else profile_of(lot)
    calendar = calendar or schedules.calendar(session)

    def held(window: Window) -> list[Commitment]:
        return commitments(session, profile.id, window, calendar, anchor=start)

    answer = availability(
        profile.schedule,
        calendar,
        held,
        start,
        end,
        category=category,
        horizon_days=horizon_days,
    )
    if profile.status is not LotStatus.ONLINE and answer.servable:
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


def commitments(
    session: Session, lot_id: int, window: Window, calendar: OfficialCalendar, *, anchor: datetime
) -> list[Commitment]:
    """Berths held in ``window``: reservations over their spans, passes over the whole window."""
    spans = ReservationRepository(session).holding_spans(lot_id, window.start, window.end)
    held = [Commitment(start, end, category) for start, end, category in spans]
    kind = window_kind(window, calendar, anchor=anchor)
    month = month_of(window.start or anchor, SHANGHAI)  # passes are sold by Shanghai month
    passes = PassRepository(session).active_count(lot_id, kind, month)
    if passes:
        # An open end lies beyond the search horizon: the pass holds through it.
        first = window.start or anchor - OPEN_END
        last = window.end or anchor + OPEN_END
        held.append(Commitment(first, last, BerthCategory.ORDINARY, berths=passes))
    return held


OPEN_END = timedelta(days=366)
