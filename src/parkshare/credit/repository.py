"""All SQL about violations and the blacklist."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select

from parkshare.credit.model import BlacklistEntry, Violation
from parkshare.repository import Page, Repository


class CreditRepository(Repository):
    def uncorrected_count(self, plate: str) -> int:
        statement = select(func.count()).where(
            Violation.plate == plate, Violation.corrected_at.is_(None)
        )
        return self.session.scalar(statement) or 0

    def active_bar(self, plate: str, at: datetime) -> BlacklistEntry | None:
        statement = (
            select(BlacklistEntry)
            .where(
                BlacklistEntry.plate == plate,
                BlacklistEntry.lifted_at.is_(None),
                BlacklistEntry.starts_at <= at,
                BlacklistEntry.ends_at > at,
            )
            .order_by(BlacklistEntry.ends_at.desc())
        )
        return self.session.scalars(statement).first()

    def violation_for(self, reservation_id: int) -> Violation | None:
        statement = select(Violation).where(Violation.reservation_id == reservation_id)
        return self.session.scalars(statement).one_or_none()

    def violations(
        self, *, lot_ids: list[int] | None, plate: str | None, limit: int, offset: int
    ) -> Page[Violation]:
        statement = select(Violation).order_by(Violation.occurred_at.desc(), Violation.id.desc())
        if lot_ids is not None:
            statement = statement.where(Violation.lot_id.in_(lot_ids))
        if plate is not None:
            statement = statement.where(Violation.plate == plate)
        return self.paginate(statement, limit=limit, offset=offset)

    def get_violation(self, violation_id: int) -> Violation | None:
        return self.session.get(Violation, violation_id)
