"""API shape of the targets report."""

from __future__ import annotations

from pydantic import BaseModel

from parkshare.lots.model import LotKind
from parkshare.reports.service import TargetsReport

GROUP_LABELS = {
    LotKind.INSTITUTIONAL: ("机关企事业单位", "Government and institutional units"),
    LotKind.COMMERCIAL: ("商场、酒店、写字楼", "Malls, hotels and office buildings"),
    LotKind.RESIDENTIAL: ("小区", "Residential compounds"),
}


class TargetRowRead(BaseModel):
    group: LotKind
    label_zh: str
    label_en: str
    lots: int
    lots_target: int | None
    berths: int
    berths_target: int | None
    completion_percent: float | None


class TargetsReportRead(BaseModel):
    year: int
    rows: list[TargetRowRead]
    total_lots: int
    total_berths: int

    @classmethod
    def of(cls, report: TargetsReport) -> TargetsReportRead:
        rows = [
            TargetRowRead(
                group=row.group,
                label_zh=GROUP_LABELS[row.group][0],
                label_en=GROUP_LABELS[row.group][1],
                lots=row.lots,
                lots_target=row.lots_target,
                berths=row.berths,
                berths_target=row.berths_target,
                completion_percent=(
                    float(row.completion_percent) if row.completion_percent is not None else None
                ),
            )
            for row in report.rows
        ]
        return cls(
            year=report.year,
            rows=rows,
            total_lots=report.total_lots,
            total_berths=report.total_berths,
        )
