"""All SQL of the search index: every car park with what decides its availability, the
reservations holding berths on the grid, the passes, and the change log."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from datetime import date, datetime

from sqlalchemy import delete, func, select
from sqlalchemy.orm import selectinload

from parkshare.fees.model import TariffRow
from parkshare.lots.model import Lot
from parkshare.passes.model import ParkingPass, PassKind
from parkshare.repository import Repository
from parkshare.reservations.model import HOLDING, Reservation
from parkshare.schedules.model import SharingRuleRow
from parkshare.schedules.rules import BerthCategory
from parkshare.search.changes import EVERYTHING, LotChange


class IndexRepository(Repository):
    def lots(self, lot_ids: Collection[int] | None = None) -> list[Lot]:
        statement = (
            select(Lot)
            .order_by(Lot.id)
            .options(
                selectinload(Lot.schedule),
                selectinload(Lot.rules).selectinload(SharingRuleRow.berths),
                selectinload(Lot.suspensions),
                selectinload(Lot.tariff).selectinload(TariffRow.rates),
            )
        )
        if lot_ids is not None:
            statement = statement.where(Lot.id.in_(lot_ids))
        return list(self.session.scalars(statement))

    def holding(
        self,
        start: datetime,
        end: datetime,
        category: BerthCategory,
        *,
        lot_ids: Collection[int] | None = None,
    ) -> dict[int, list[tuple[datetime, datetime]]]:
        """Spans of the reservations holding a berth of ``category`` in [start, end), by car
        park (the same reservations ``ReservationRepository.holding_spans`` counts)."""
        statement = select(Reservation.lot_id, Reservation.start, Reservation.end).where(
            Reservation.status.in_(HOLDING),
            Reservation.category == category,
            Reservation.start < end,
            Reservation.end > start,
        )
        if lot_ids is not None:
            statement = statement.where(Reservation.lot_id.in_(lot_ids))
        spans: dict[int, list[tuple[datetime, datetime]]] = defaultdict(list)
        for lot_id, span_start, span_end in self.session.execute(statement):
            spans[lot_id].append((span_start, span_end))
        return spans

    def passes(
        self, lot_ids: Collection[int] | None = None
    ) -> dict[int, dict[tuple[PassKind, date], int]]:
        """Passes in force by car park, kind and month (as ``PassRepository.active_count``)."""
        statement = (
            select(ParkingPass.lot_id, ParkingPass.kind, ParkingPass.month, func.count())
            .where(ParkingPass.revoked_at.is_(None))
            .group_by(ParkingPass.lot_id, ParkingPass.kind, ParkingPass.month)
        )
        if lot_ids is not None:
            statement = statement.where(ParkingPass.lot_id.in_(lot_ids))
        counts: dict[int, dict[tuple[PassKind, date], int]] = defaultdict(dict)
        for lot_id, kind, month, count in self.session.execute(statement):
            counts[lot_id][(kind, month)] = count
        return counts

    def last_change(self) -> int:
        return self.session.scalar(select(func.max(LotChange.id))) or 0

    def changes_after(self, floor: int) -> list[tuple[int, int]]:
        """(change id, car park id — EVERYTHING for all) of the changes after ``floor``."""
        statement = select(LotChange.id, LotChange.lot_id).where(LotChange.id > floor)
        return [
            (change, EVERYTHING if lot is None else lot)
            for change, lot in self.session.execute(statement.order_by(LotChange.id))
        ]

    def forget_changes_before(self, instant: datetime) -> int:
        """Drop change-log rows older than ``instant`` (an index rebuilds at least daily)."""
        result = self.session.execute(delete(LotChange).where(LotChange.at < instant))
        return int(getattr(result, "rowcount", 0) or 0)
