"""An operator's statement: fees per local day and for the month, by source."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy.orm import Session

from parkshare.clock import month_bounds
from parkshare.fees.repository import FeesRepository
from parkshare.lots.service import get_lot
from parkshare.schedules.rules import SHANGHAI


@dataclass
class StatementDay:
    day: date
    completed: int = 0
    parking_fen: int = 0
    overstay_fen: int = 0
    cancellation_fen: int = 0
    passes_sold: int = 0
    pass_fen: int = 0

    @property
    def total_fen(self) -> int:
        return self.parking_fen + self.overstay_fen + self.cancellation_fen + self.pass_fen


@dataclass
class Statement:
    lot: str
    month: date
    days: list[StatementDay] = field(default_factory=list)

    @property
    def total(self) -> StatementDay:
        total = StatementDay(day=self.month)
        for day in self.days:
            total.completed += day.completed
            total.parking_fen += day.parking_fen
            total.overstay_fen += day.overstay_fen
            total.cancellation_fen += day.cancellation_fen
            total.passes_sold += day.passes_sold
            total.pass_fen += day.pass_fen
        return total


def statement(session: Session, lot_code: str, month: date) -> Statement:
    """Fees of one car park in one month, by local day (only days with activity)."""
    lot = get_lot(session, lot_code, with_schedule=False)
    start, end = month_bounds(month, SHANGHAI)
    days: dict[date, StatementDay] = {}

    def on(instant: datetime) -> StatementDay:
        local_day = instant.astimezone(SHANGHAI).date()
        return days.setdefault(local_day, StatementDay(day=local_day))

    repository = FeesRepository(session)
    for r in repository.settled_or_cancelled(lot.id, start, end):
        if r.departed_at is not None and start <= r.departed_at < end:
            day = on(r.departed_at)
            day.completed += 1
            day.parking_fen += r.parking_fee_fen or 0
            day.overstay_fen += r.overstay_fee_fen or 0
        if r.cancelled_at is not None and start <= r.cancelled_at < end and r.cancel_fee_fen:
            on(r.cancelled_at).cancellation_fen += r.cancel_fee_fen
    for sold in repository.passes_issued(lot.id, start, end):
        day = on(sold.issued_at)
        day.passes_sold += 1
        day.pass_fen += sold.price_fen
    return Statement(
        lot=lot_code, month=start.date(), days=sorted(days.values(), key=lambda d: d.day)
    )
