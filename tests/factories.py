"""Small keyword-only factories for test data."""

from __future__ import annotations

from datetime import date, datetime, time

from sqlalchemy.orm import Session

from parkshare.accounts import service as accounts
from parkshare.accounts.model import Account
from parkshare.accounts.principal import Role
from parkshare.clock import Clock
from parkshare.config import Settings
from parkshare.db import Database
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


_logins = iter(range(10**6))


def make_account(
    session: Session,
    *,
    clock: Clock,
    role: Role = Role.ADMIN,
    operator: Operator | None = None,
    plates: tuple[str, ...] = (),
    password: str = "correct-horse-7",
) -> Account:
    """An account of ``role``: drivers get a fresh phone number and ``plates``, operator staff
    belong to ``operator``."""
    if role is Role.DRIVER:
        account = accounts.register_driver(
            session, phone=f"139{next(_logins):08d}", password=password, clock=clock
        )
        for plate in plates:
            accounts.add_plate(session, account.id, plate, clock=clock)
        return account
    session.flush()
    return accounts.create_staff(
        session,
        role=role,
        login=f"{role}{next(_logins)}",
        password=password,
        operator_id=operator.id if operator else None,
        clock=clock,
    )


def bearer_for(
    database: Database,
    *,
    clock: Clock,
    role: Role = Role.ADMIN,
    operator_of: str | None = None,
    plates: tuple[str, ...] = (),
) -> dict[str, str]:
    """Authorization headers of a new account of ``role`` (operator staff of the operator that
    runs car park ``operator_of``)."""
    with database.session(write=True) as session:
        operator = None
        if operator_of is not None:
            lot = session.query(Lot).filter_by(code=operator_of).one()
            operator = session.get(Operator, lot.operator_id)
        account = make_account(session, clock=clock, role=role, operator=operator, plates=plates)
        token = accounts.issue_token(session, account, kind="api", clock=clock)
    return {"Authorization": f"Bearer {token}"}
