"""API shapes of car parks. Instants are shown in Asia/Shanghai time; coordinates in the
system the client asks for (WGS-84 by default, GCJ-02 for Chinese map tiles)."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Annotated

from pydantic import BaseModel, WithJsonSchema

from parkshare.geo import CoordSystem, from_wgs84
from parkshare.lots.model import Lot, LotKind, LotStatus
from parkshare.schedules.rules import SHANGHAI, BerthCategory
from parkshare.schedules.service import peak_shared_berths


def local(instant: datetime) -> datetime:
    return instant.astimezone(SHANGHAI)


# A time of day on the car park's wall clock (Asia/Shanghai), written without an offset. Not
# JSON Schema's ``format: time``, which is RFC 3339's and requires one.
LocalTime = Annotated[
    time,
    WithJsonSchema(
        {
            "type": "string",
            "pattern": r"^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]{1,6})?)?$",
            "description": "Local time of day (Asia/Shanghai), without an offset",
        }
    ),
]


class Location(BaseModel):
    system: CoordSystem
    lon: float
    lat: float

    @classmethod
    def of(cls, lot: Lot, system: CoordSystem) -> Location:
        lon, lat = from_wgs84(lot.lon, lot.lat, system)
        return cls(system=system, lon=round(lon, 7), lat=round(lat, 7))


class OperatorRead(BaseModel):
    name: str
    name_en: str


class LotRead(BaseModel):
    code: str
    name: str
    name_en: str
    kind: LotKind
    use: str
    area: str
    area_en: str
    address: str
    status: LotStatus
    operator: OperatorRead
    location: Location
    total_berths: int
    shared_berths: int
    berths: dict[BerthCategory, int]
    opened_on: date | None

    @classmethod
    def of(cls, lot: Lot, system: CoordSystem = CoordSystem.WGS84) -> LotRead:
        return cls(**_lot_fields(lot, system))


def _lot_fields(lot: Lot, system: CoordSystem) -> dict[str, object]:
    return {
        "code": lot.code,
        "name": lot.name,
        "name_en": lot.name_en,
        "kind": lot.kind,
        "use": lot.use,
        "area": lot.area,
        "area_en": lot.area_en,
        "address": lot.address,
        "status": lot.status,
        "operator": OperatorRead(name=lot.operator.name, name_en=lot.operator.name_en),
        "location": Location.of(lot, system),
        "total_berths": lot.total_berths,
        "shared_berths": peak_shared_berths(lot),
        "berths": {row.category: row.total for row in lot.berths},
        "opened_on": lot.opened_on,
    }


class QuietHoursRead(BaseModel):
    start: LocalTime
    end: LocalTime


class RuleRead(BaseModel):
    day_types: list[str]
    start: LocalTime
    end: LocalTime
    end_day_offset: int
    shared_berths: dict[BerthCategory, int]


class SuspensionRead(BaseModel):
    start: datetime
    end: datetime
    reason: str
    emergency: bool


class ScheduleRead(BaseModel):
    quiet_hours: QuietHoursRead | None
    rules: list[RuleRead]
    suspensions: list[SuspensionRead]


class LotDetail(LotRead):
    contact_phone: str
    schedule: ScheduleRead

    @classmethod
    def of(cls, lot: Lot, system: CoordSystem = CoordSystem.WGS84) -> LotDetail:
        quiet = None
        if lot.schedule and lot.schedule.quiet_start and lot.schedule.quiet_end:
            quiet = QuietHoursRead(start=lot.schedule.quiet_start, end=lot.schedule.quiet_end)
        schedule = ScheduleRead(
            quiet_hours=quiet,
            rules=[
                RuleRead(
                    day_types=row.day_types.split(","),
                    start=row.start,
                    end=row.end,
                    end_day_offset=row.end_day_offset,
                    shared_berths={b.category: b.shared_berths for b in row.berths},
                )
                for row in lot.rules
            ],
            suspensions=[
                SuspensionRead(
                    start=local(s.start), end=local(s.end), reason=s.reason, emergency=s.emergency
                )
                for s in lot.suspensions
            ],
        )
        return cls(**_lot_fields(lot, system), contact_phone=lot.contact_phone, schedule=schedule)


class LotPage(BaseModel):
    items: list[LotRead]
    total: int
    limit: int
    offset: int
