"""Feed sites built in memory (no database) for the pure feed tests."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from parkshare.clock import FixedClock
from parkshare.ingest.live import Link, LiveState
from parkshare.interop.rows import COLUMNS
from parkshare.interop.sites import FeedSite, SharingNow
from parkshare.lots.model import Lot, LotBerths, LotKind, LotStatus, Operator
from parkshare.schedules import presets
from parkshare.schedules.rules import BerthCategory
from parkshare.schedules.service import set_schedule

NOW = datetime(2022, 6, 24, 12, 0, tzinfo=UTC)  # 20:00 in Qingdao, a Friday
UPDATED = datetime(2022, 6, 1, 2, 30, tzinfo=UTC)


def lot(*, code: str = "HD-001", lon: float = 120.18, lat: float = 35.96) -> Lot:
    """An institutional car park: 100 ordinary, 10 EV and 4 accessible berths, of which
    40 / 6 / 2 are shared under Qingdao's rules."""
    operator = Operator(
        name="黄岛区机关事务中心", name_en="Huangdao offices", kind=LotKind.INSTITUTIONAL
    )
    car_park = Lot(
        code=code,
        name="区政府停车场",
        name_en="District Government Car Park",
        operator=operator,
        kind=LotKind.INSTITUTIONAL,
        use="government",
        area="长江路街道",
        area_en="Changjianglu",
        address="黄岛区长江中路1号",
        lon=lon,
        lat=lat,
        status=LotStatus.ONLINE,
        contact_phone="0532-86000000",
        created_at=UPDATED,
        updated_at=UPDATED,
        berths=[
            LotBerths(category=BerthCategory.ORDINARY, total=100),
            LotBerths(category=BerthCategory.EV_CHARGING, total=10),
            LotBerths(category=BerthCategory.ACCESSIBLE, total=4),
        ],
    )
    shared = {BerthCategory.ORDINARY: 40, BerthCategory.EV_CHARGING: 6, BerthCategory.ACCESSIBLE: 2}
    set_schedule(
        car_park,
        presets.qingdao_institutional(shared),
        presets.QINGDAO_QUIET_HOURS,
        clock=FixedClock(UPDATED),
    )
    return car_park


def live(
    link: Link = Link.ONLINE,
    *,
    code: str = "HD-001",
    free: int | None = 70,
    shared_free_now: int | None = 31,
    last_data_at: datetime | None = datetime(2022, 6, 24, 11, 57, 30, 123456, tzinfo=UTC),
) -> LiveState:
    return LiveState(
        lot=code,
        link=link,
        last_data_at=last_data_at,
        berths=114,
        free=free,
        occupied=114 - free if free is not None else None,
        free_source="count" if free is not None else "",
        shared_free_now=shared_free_now,
        anomaly="",
    )


def site(
    link: Link = Link.ONLINE,
    *,
    free: int | None = 70,
    shared_free_now: int | None = 31,
    last_data_at: datetime | None = datetime(2022, 6, 24, 11, 57, 30, 123456, tzinfo=UTC),
    open: bool | None = True,
    shared: int | None = 48,
    car_park: Lot | None = None,
) -> FeedSite:
    car_park = car_park or lot()
    return FeedSite(
        lot=car_park,
        live=live(
            link,
            code=car_park.code,
            free=free,
            shared_free_now=shared_free_now,
            last_data_at=last_data_at,
        ),
        sharing=SharingNow(open=open, shared=shared),
    )


def row(code: str, **changes: Any) -> dict[str, Any]:
    """A spreadsheet row of a valid car park, as the onboarding import takes it."""
    return {
        "code": code,
        "name": f"停车场 {code}",
        "operator": "黄岛区机关事务中心",
        "kind": "institutional",
        "area": "长江路街道",
        "lon": 120.18,
        "lat": 35.96,
        "ordinary": 100,
        "status": "online",
        "schedule": "qingdao_institutional",
        "shared_ordinary": 40,
        **changes,
    }


def csv_file(*rows: dict[str, Any], encoding: str = "utf-8") -> bytes:
    lines = [",".join(column.label for column in COLUMNS)]
    lines += [",".join(str(r.get(column.key, "")) for column in COLUMNS) for r in rows]
    return ("\n".join(lines) + "\n").encode(encoding)
