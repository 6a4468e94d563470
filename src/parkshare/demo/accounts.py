"""Demo sign-ins: one of each role, with passwords printed by ``parkshare demo``.

For a local demonstration only: ``parkshare demo`` refuses to run in production."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from parkshare.accounts import service
from parkshare.accounts.principal import Role
from parkshare.clock import Clock
from parkshare.lots.repository import LotRepository

DEMO_OPERATOR = "青岛恒安物业服务有限公司"  # runs 17 of the demo's car parks


@dataclass(frozen=True)
class DemoAccount:
    role: Role
    login: str
    password: str
    name: str
    plate: str = ""


DEMO_ACCOUNTS = (
    DemoAccount(Role.ADMIN, "admin", "admin-demo-2022", "西海岸新区城市管理局"),
    DemoAccount(Role.OPERATOR, "hengan", "operator-demo-2022", "恒安物业 值班员"),
    DemoAccount(Role.DRIVER, "13800138000", "driver-demo-2022", "王先生", plate="鲁B12345"),
)


def add_demo_accounts(session: Session, *, clock: Clock) -> tuple[DemoAccount, ...]:
    operator = LotRepository(session).operator_by_name(DEMO_OPERATOR)
    assert operator is not None, "build the car parks first"
    for demo in DEMO_ACCOUNTS:
        if demo.role is Role.DRIVER:
            account = service.register_driver(
                session, phone=demo.login, password=demo.password, name=demo.name, clock=clock
            )
            service.add_plate(session, account.id, demo.plate, clock=clock)
        else:
            service.create_staff(
                session,
                role=demo.role,
                login=demo.login,
                password=demo.password,
                name=demo.name,
                operator_id=operator.id if demo.role is Role.OPERATOR else None,
                clock=clock,
            )
    return DEMO_ACCOUNTS
