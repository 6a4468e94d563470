"""Small keyword-only factories for test data."""

from __future__ import annotations

from datetime import date, datetime, time

from sqlalchemy.orm import Session

from parkshare.clock import Clock
from parkshare.config import Settings
from parkshare.fees.service import tariff_row
from parkshare.fees.tariff import RatePeriod, Tariff
from parkshare.lots.model import Lot, LotBerths, LotKind, LotStatus, Operator
from parkshare.schedules import presets
from parkshare.schedules.rules import BerthCategory, QuietHours, SharingRule
from parkshare.schedules.service import set_schedule


def make_operator(
    session: Session,
    *,
    name: str = "测试单位",
    kind: LotKind = LotKind.INSTITUTIONAL,
    now: datetime,
) -> Operator:
    operator = Operator(name=name, name_en="Test unit", kind=kind, contact_phone="", created_at=now)
    session.add(operator)
    return operator


def make_lot(
    session: Session,
    *,
    clock: Clock,
    code: str = "T-001",
    kind: LotKind = LotKind.INSTITUTIONAL,
    shared_berths: int = 10,
    total_berths: int | None = None,
    area: str = "长江路街道",
    status: LotStatus = LotStatus.ONLINE,
    opened_on: date | None = date(2022, 3, 1),
    rules: tuple[SharingRule, ...] | None = None,
    quiet_hours: QuietHours | None = presets.QINGDAO_QUIET_HOURS,
    operator: Operator | None = None,
    tariff: Tariff | None = None,
) -> Lot:
    now = clock.now()
    operator = operator or make_operator(session, name=f"单位 {code}", kind=kind, now=now)
    lot = Lot(
        code=code,
        name=f"测试停车场 {code}",
        name_en=f"Test car park {code}",
        operator=operator,
        kind=kind,
        use="government",
        area=area,
        address="黄岛区测试路1号",
        lon=120.18,
        lat=35.96,
        status=status,
        opened_on=opened_on,
        created_at=now,
        updated_at=now,
        berths=[LotBerths(category=BerthCategory.ORDINARY, total=total_berths or shared_berths)],
    )
    session.add(lot)
    shared = {BerthCategory.ORDINARY: shared_berths}
    set_schedule(lot, rules or presets.qingdao_institutional(shared), quiet_hours, clock=clock)
    if tariff is not None:
        lot.tariff = tariff_row(tariff)
    session.flush()
    return lot


# The rules of sharing the API tests expect (fixed, whatever the environment says).
API_SETTINGS = Settings(
    environment="test",
    free_cancel_minutes=60,
    late_cancel_fee_fen=500,
    overstay_grace_minutes=15,
    overstay_surcharge_fen_per_hour=1_000,
)
# Day rate 4 yuan an hour from 08:00, night rate 1 yuan an hour from 20:00, charged per started
# hour; the first 30 minutes are free and the cap is never reached by the stays in the tests.
DAY, NIGHT = 400, 100
DAY_NIGHT_TARIFF = Tariff(
    rates=(RatePeriod(time(8), DAY), RatePeriod(time(20), NIGHT)),
    free_minutes=30,
    billing_unit_minutes=60,
    daily_cap_fen=10_000,
)
