"""Who is asking: the signed-in account as the rest of the app sees it (a plain value)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    DRIVER = "driver"  # 车主: registers plates, reserves, applies for passes
    OPERATOR = "operator"  # 停车场运营方员工: scoped to their operator's car parks
    ADMIN = "admin"  # 城市管理员: the whole programme


@dataclass(frozen=True)
class Principal:
    account_id: int
    role: Role
    name: str
    operator_id: int | None  # set for operator staff only
    via: str  # "cookie" (web session) or "bearer" (API token)
    csrf_token: str = ""  # the web session's token; forms and fetch() must send it back

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN
