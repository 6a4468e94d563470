"""All SQL about operators and car parks."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload
from sqlalchemy.sql.base import ExecutableOption

from parkshare.fees.model import TariffRow
from parkshare.lots.model import Lot, LotKind, LotStatus, Operator
from parkshare.repository import Page, Repository
from parkshare.schedules.model import SharingRuleRow


class LotRepository(Repository):
    def get_by_code(self, code: str, *, with_schedule: bool = False) -> Lot | None:
        statement = select(Lot).where(Lot.code == code).options(*_lot_loads(with_schedule))
        return self.session.scalars(statement).one_or_none()

    def find(
        self,
        *,
        kind: LotKind | None = None,
        area: str | None = None,
        status: LotStatus | None = None,
        limit: int,
        offset: int,
    ) -> Page[Lot]:
        statement = select(Lot).options(*_lot_loads(with_schedule=True)).order_by(Lot.code)
        if kind is not None:
            statement = statement.where(Lot.kind == kind)
        if area is not None:
            statement = statement.where(Lot.area == area)
        if status is not None:
            statement = statement.where(Lot.status == status)
        return self.paginate(statement, limit=limit, offset=offset)

    def lock_by_code(self, code: str) -> tuple[int, int] | None:
        """Lock a car park's row (as ``lock``) and read its id and version."""
        statement = select(Lot.id, Lot.version).where(Lot.code == code).with_for_update()
        row = self.session.execute(statement).one_or_none()
        return (row[0], row[1]) if row is not None else None

    def get(self, lot_id: int, *, with_schedule: bool = True) -> Lot | None:
        statement = select(Lot).where(Lot.id == lot_id).options(*_lot_loads(with_schedule))
        return self.session.scalars(statement).one_or_none()

    def lock(self, lot_id: int) -> None:
        """Hold the car park's row until commit: every change to what it has committed
        (reservations, passes, schedules) takes this lock first, so two of them never decide
        on the same free berth. SQLite needs no row lock: a write transaction already holds
        the database's write lock (``BEGIN IMMEDIATE``)."""
        self.session.execute(select(Lot.id).where(Lot.id == lot_id).with_for_update())

    def all_with_rules(self) -> list[Lot]:
        return list(self.session.scalars(select(Lot).options(*_lot_loads(with_schedule=True))))

    def count(self) -> int:
        return self.session.scalar(select(func.count()).select_from(Lot)) or 0

    def operator_by_name(self, name: str) -> Operator | None:
        return self.session.scalars(select(Operator).where(Operator.name == name)).one_or_none()


def _lot_loads(with_schedule: bool) -> list[ExecutableOption]:
    loads: list[ExecutableOption] = [selectinload(Lot.operator), selectinload(Lot.berths)]
    if with_schedule:
        loads += [
            selectinload(Lot.schedule),
            selectinload(Lot.rules).selectinload(SharingRuleRow.berths),
            selectinload(Lot.suspensions),
            selectinload(Lot.tariff).selectinload(TariffRow.rates),
        ]
    return loads
