"""Small keyword-only factories for test data."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy.orm import Session

from parkshare.clock import Clock
from parkshare.fees.service import tariff_row
from parkshare.fees.tariff import Tariff
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
