"""All SQL about money: what was settled, cancelled and sold at a car park in a period."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select

from parkshare.passes.model import ParkingPass
from parkshare.repository import Repository
from parkshare.reservations.model import Reservation


class FeesRepository(Repository):
    def settled_or_cancelled(
        self, lot_id: int, start: datetime, end: datetime
    ) -> list[Reservation]:
        statement = select(Reservation).where(
            Reservation.lot_id == lot_id,
            or_(
                Reservation.departed_at.between(start, end),
                Reservation.cancelled_at.between(start, end),
            ),
        )
        return list(self.session.scalars(statement))

    def passes_issued(self, lot_id: int, start: datetime, end: datetime) -> list[ParkingPass]:
        statement = select(ParkingPass).where(
            ParkingPass.lot_id == lot_id,
            ParkingPass.issued_at >= start,
            ParkingPass.issued_at < end,
        )
        return list(self.session.scalars(statement))
