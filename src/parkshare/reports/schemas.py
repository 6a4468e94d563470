"""API shapes of the reports: the targets report and the utilisation of shared berths."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel

from parkshare.lots.model import LotKind
from parkshare.reports.service import TargetsReport
from parkshare.reports.utilisation import Share, UtilisationReport
from parkshare.schedules.rules import SHANGHAI

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


# --- utilisation of shared berths -----------------------------------------------------------


class ShareRead(BaseModel):
    offered_berth_hours: float
    occupied_berth_hours: float
    utilisation_percent: float | None  # occupied ÷ offered, two decimals; None: none offered

    @staticmethod
    def fields(share: Share) -> dict[str, float | None]:
        percent = share.percent
        return {
            "offered_berth_hours": round(share.offered, 2),
            "occupied_berth_hours": round(share.occupied, 2),
            "utilisation_percent": float(percent) if percent is not None else None,
        }


class HourShareRead(ShareRead):
    hour: int  # 0–23, Asia/Shanghai


class AreaShareRead(ShareRead):
    area: str
    area_en: str
    lots: int


class GroupShareRead(ShareRead):
    group: LotKind
    label_zh: str
    label_en: str
    lots: int


class UtilisationRead(BaseModel):
    first_day: date
    last_day: date
    start: datetime
    end: datetime
    lots_measured: int
    lots_unmeasured: int
    total: ShareRead
    by_hour: list[HourShareRead]
    by_area: list[AreaShareRead]
    by_group: list[GroupShareRead]

    @classmethod
    def of(cls, report: UtilisationReport) -> UtilisationRead:
        return cls(
            first_day=report.first_day,
            last_day=report.last_day,
            start=report.start.astimezone(SHANGHAI),
            end=report.end.astimezone(SHANGHAI),
            lots_measured=len(report.lots),
            lots_unmeasured=report.lots_unmeasured,
            total=ShareRead(**ShareRead.fields(report.total)),
            by_hour=[
                HourShareRead(hour=hour, **ShareRead.fields(share))
                for hour, share in enumerate(report.by_hour)
            ],
            by_area=[
                AreaShareRead(
                    area=use.area, area_en=use.area_en, lots=use.lots, **ShareRead.fields(use.share)
                )
                for use in report.by_area
            ],
            by_group=[
                GroupShareRead(
                    group=use.group,
                    label_zh=GROUP_LABELS[use.group][0],
                    label_en=GROUP_LABELS[use.group][1],
                    lots=use.lots,
                    **ShareRead.fields(use.share),
                )
                for use in report.by_group
            ],
        )
