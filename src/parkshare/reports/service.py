"""The targets report: each group's openings in a year against the city's target,
stated the way the West Coast article states it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy.orm import Session

from parkshare.lots.model import Lot, LotKind, LotStatus
from parkshare.lots.repository import LotRepository
from parkshare.reports.repository import TargetRepository
from parkshare.schedules.service import peak_shared_berths


@dataclass(frozen=True)
class TargetRow:
    group: LotKind
    lots: int
    berths: int
    lots_target: int | None
    berths_target: int | None

    @property
    def completion_percent(self) -> Decimal | None:
        """Berths opened as a share of the berth target, to two decimals (142.86)."""
        if not self.berths_target:
            return None
        ratio = Decimal(self.berths * 100) / Decimal(self.berths_target)
        return ratio.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class TargetsReport:
    year: int
    rows: list[TargetRow]

    @property
    def total_lots(self) -> int:
        return sum(row.lots for row in self.rows)

    @property
    def total_berths(self) -> int:
        return sum(row.berths for row in self.rows)


def targets_report(session: Session, year: int) -> TargetsReport:
    """Car parks online whose sharing opened in ``year``, by group, against the targets."""
    targets = {t.group: t for t in TargetRepository(session).for_year(year, area="")}
    opened = [lot for lot in LotRepository(session).all_with_rules() if _opened_in(lot, year)]
    rows = []
    for group in LotKind:
        lots = [lot for lot in opened if lot.kind is group]
        target = targets.get(group)
        if not lots and target is None:
            continue
        rows.append(
            TargetRow(
                group=group,
                lots=len(lots),
                berths=sum(peak_shared_berths(lot) for lot in lots),
                lots_target=target.lots if target else None,
                berths_target=target.berths if target else None,
            )
        )
    return TargetsReport(year=year, rows=rows)


def _opened_in(lot: Lot, year: int) -> bool:
    return (
        lot.status is LotStatus.ONLINE
        and lot.opened_on is not None
        and date(year, 1, 1) <= lot.opened_on <= date(year, 12, 31)
    )
