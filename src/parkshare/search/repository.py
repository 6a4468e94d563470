"""All SQL of search: car parks inside a bounding box, then the chosen ones with their
schedules and tariffs."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from parkshare.fees.model import TariffRow
from parkshare.lots.model import Lot, LotKind, LotStatus
from parkshare.repository import Repository
from parkshare.schedules.model import SharingRuleRow
from parkshare.search.rules import BoundingBox


@dataclass(frozen=True)
class Place:
    """Where an online car park is (WGS-84): enough to measure it before loading it."""

    lot_id: int
    code: str
    lon: float
    lat: float


class SearchRepository(Repository):
    def online_in(self, box: BoundingBox, *, kind: LotKind | None = None) -> list[Place]:
        """Online car parks inside ``box`` (of ``kind``, when given)."""
        statement = select(Lot.id, Lot.code, Lot.lon, Lot.lat).where(
            Lot.status == LotStatus.ONLINE,
            Lot.lat.between(box.min_lat, box.max_lat),
            Lot.lon.between(box.min_lon, box.max_lon),
        )
        if kind is not None:
            statement = statement.where(Lot.kind == kind)
        return [Place(*row) for row in self.session.execute(statement)]

    def with_schedules(self, lot_ids: Collection[int]) -> dict[int, Lot]:
        """The car parks loaded with what decides availability and price, by id."""
        if not lot_ids:
            return {}
        statement = (
            select(Lot)
            .where(Lot.id.in_(lot_ids))
            .options(
                selectinload(Lot.schedule),
                selectinload(Lot.rules).selectinload(SharingRuleRow.berths),
                selectinload(Lot.suspensions),
                selectinload(Lot.tariff).selectinload(TariffRow.rates),
            )
        )
        return {lot.id: lot for lot in self.session.scalars(statement)}
