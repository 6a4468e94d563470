"""All SQL of the search index: every car park with what decides its availability, the
reservations holding berths on the grid, the passes, and the change log."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import delete, func, select

from parkshare.fees.model import TariffRate, TariffRow
from parkshare.fees.service import tariff_value
from parkshare.fees.tariff import RatePeriod, Tariff
from parkshare.lots.model import Lot, LotKind
from parkshare.lots.profiles import LotProfile
from parkshare.passes.model import ParkingPass, PassKind
from parkshare.repository import Repository
from parkshare.reservations.model import HOLDING, Reservation
from parkshare.schedules.model import (
    SharingRuleBerths,
    SharingRuleRow,
    SharingSchedule,
    SuspensionRow,
)
from parkshare.schedules.rules import (
    BerthCategory,
    QuietHours,
    Schedule,
    SharingRule,
    Suspension,
)
from parkshare.schedules.service import rule_value
from parkshare.search.changes import EVERYTHING, LotChange


@dataclass(frozen=True)
class LotFacts:
    """What the index keeps of a car park besides the grid."""

    id: int
    code: str
    name: str
    name_en: str
    kind: LotKind
    area: str
    lon: float  # WGS-84
    lat: float
    profile: LotProfile


class IndexRepository(Repository):
    def facts(self, lot_ids: Collection[int] | None = None) -> list[LotFacts]:
        """Every car park (or those of ``lot_ids``) with its schedule and tariff as values, in
        a few plain queries (the index reads them all at start: no ORM objects)."""

        def only(statement: Any, column: Any) -> Any:  # the statement, for ``lot_ids`` only
            return statement if lot_ids is None else statement.where(column.in_(lot_ids))

        lots = self.session.execute(
            only(
                select(
                    Lot.id, Lot.code, Lot.name, Lot.name_en, Lot.kind, Lot.area,
                    Lot.lon, Lot.lat, Lot.status, Lot.version,
                ).order_by(Lot.id),
                Lot.id,
            )
        ).all()  # fmt: skip
        berths: dict[int, dict[BerthCategory, int]] = defaultdict(dict)
        rule_berths = select(
            SharingRuleBerths.rule_id, SharingRuleBerths.category, SharingRuleBerths.shared_berths
        ).join(SharingRuleRow, SharingRuleRow.id == SharingRuleBerths.rule_id)
        for rule_id, category, count in self.session.execute(
            only(rule_berths, SharingRuleRow.lot_id)
        ):
            berths[rule_id][category] = count
        rules: dict[int, list[SharingRule]] = defaultdict(list)
        rule_rows = select(
            SharingRuleRow.id, SharingRuleRow.lot_id, SharingRuleRow.day_types,
            SharingRuleRow.start, SharingRuleRow.end, SharingRuleRow.end_day_offset,
        ).order_by(SharingRuleRow.lot_id, SharingRuleRow.position)  # fmt: skip
        for rule_id, lot_id, days, start, end, offset in self.session.execute(
            only(rule_rows, SharingRuleRow.lot_id)
        ):
            rules[lot_id].append(rule_value(days, start, end, offset, berths[rule_id]))
        quiet: dict[int, QuietHours] = {}
        quiet_rows = select(
            SharingSchedule.lot_id, SharingSchedule.quiet_start, SharingSchedule.quiet_end
        )
        for lot_id, start, end in self.session.execute(only(quiet_rows, SharingSchedule.lot_id)):
            if start and end:
                quiet[lot_id] = QuietHours(start, end)
        suspensions: dict[int, list[Suspension]] = defaultdict(list)
        suspension_rows = select(
            SuspensionRow.lot_id, SuspensionRow.start, SuspensionRow.end, SuspensionRow.reason
        )
        for lot_id, start, end, reason in self.session.execute(
            only(suspension_rows, SuspensionRow.lot_id)
        ):
            suspensions[lot_id].append(Suspension(start, end, reason))
        tariffs = self._tariffs(only)
        return [
            LotFacts(
                id=row.id,
                code=row.code,
                name=row.name,
                name_en=row.name_en,
                kind=row.kind,
                area=row.area,
                lon=row.lon,
                lat=row.lat,
                profile=LotProfile(
                    id=row.id,
                    code=row.code,
                    version=row.version,
                    status=row.status,
                    schedule=Schedule(
                        rules=tuple(rules[row.id]),
                        quiet_hours=quiet.get(row.id),
                        suspensions=tuple(suspensions[row.id]),
                    ),
                    tariff=tariffs.get(row.id),
                ),
            )
            for row in lots
        ]

    def _tariffs(self, only: Any) -> dict[int, Tariff]:
        rates: dict[int, list[RatePeriod]] = defaultdict(list)
        rate_rows = (
            select(TariffRate.tariff_id, TariffRate.start, TariffRate.fen_per_hour)
            .join(TariffRow, TariffRow.id == TariffRate.tariff_id)
            .order_by(TariffRate.tariff_id, TariffRate.start)
        )
        for tariff_id, start, fen in self.session.execute(only(rate_rows, TariffRow.lot_id)):
            rates[tariff_id].append(RatePeriod(start, fen))
        tariff_rows = select(
            TariffRow.id, TariffRow.lot_id, TariffRow.free_minutes,
            TariffRow.billing_unit_minutes, TariffRow.daily_cap_fen,
        )  # fmt: skip
        return {
            lot_id: tariff_value(tuple(rates[tariff_id]), free, unit, cap)
            for tariff_id, lot_id, free, unit, cap in self.session.execute(
                only(tariff_rows, TariffRow.lot_id)
            )
        }

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
