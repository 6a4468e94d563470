"""All SQL about pass offers, applications and passes."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import func, select

from parkshare.lots.model import Lot
from parkshare.passes.model import (
    ApplicationStatus,
    ParkingPass,
    PassApplication,
    PassKind,
    PassOffer,
)
from parkshare.repository import Repository


class PassRepository(Repository):
    def applications_of_account(
        self, account_id: int
    ) -> list[tuple[PassApplication, ParkingPass | None, str | None]]:
        """A driver's applications, newest month first, each with the pass it won."""
        statement = (
            select(PassApplication, ParkingPass, Lot.code)
            .outerjoin(ParkingPass, ParkingPass.application_id == PassApplication.id)
            .outerjoin(Lot, Lot.id == ParkingPass.lot_id)
            .where(PassApplication.account_id == account_id)
            .order_by(PassApplication.month.desc(), PassApplication.id.desc())
        )
        return [(row[0], row[1], row[2]) for row in self.session.execute(statement)]

    def active_count(self, lot_id: int, kind: PassKind, month: date) -> int:
        statement = select(func.count()).where(
            ParkingPass.lot_id == lot_id,
            ParkingPass.kind == kind,
            ParkingPass.month == month,
            ParkingPass.revoked_at.is_(None),
        )
        return self.session.scalar(statement) or 0

    def offers(self, kind: PassKind, month: date) -> list[PassOffer]:
        statement = select(PassOffer).where(PassOffer.kind == kind, PassOffer.month == month)
        return list(self.session.scalars(statement.order_by(PassOffer.lot_id)))

    def offer(self, lot_id: int, kind: PassKind, month: date) -> PassOffer | None:
        statement = select(PassOffer).where(
            PassOffer.lot_id == lot_id, PassOffer.kind == kind, PassOffer.month == month
        )
        return self.session.scalars(statement).one_or_none()

    def pending(self, kind: PassKind, month: date) -> list[PassApplication]:
        statement = (
            select(PassApplication)
            .where(
                PassApplication.kind == kind,
                PassApplication.month == month,
                PassApplication.status == ApplicationStatus.PENDING,
            )
            .order_by(PassApplication.applied_at, PassApplication.id)
        )
        return list(self.session.scalars(statement))

    def application(self, plate: str, kind: PassKind, month: date) -> PassApplication | None:
        statement = select(PassApplication).where(
            PassApplication.plate == plate,
            PassApplication.kind == kind,
            PassApplication.month == month,
        )
        return self.session.scalars(statement).one_or_none()

    def active_at_lot(self, lot_id: int, start: datetime, end: datetime) -> list[ParkingPass]:
        """Passes of the months that [start, end) touches (a window may start the month before)."""
        months = {date(start.year, start.month, 1), date(end.year, end.month, 1)}
        previous = date(start.year - (start.month == 1), (start.month - 2) % 12 + 1, 1)
        months.add(previous)
        statement = select(ParkingPass).where(
            ParkingPass.lot_id == lot_id,
            ParkingPass.month.in_(sorted(months)),
            ParkingPass.revoked_at.is_(None),
        )
        return list(self.session.scalars(statement))

    def passes_for_plate(self, plate: str) -> list[ParkingPass]:
        statement = select(ParkingPass).where(ParkingPass.plate == plate)
        return list(self.session.scalars(statement.order_by(ParkingPass.month)))
