"""API shapes of accounts."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from parkshare.accounts.model import Account
from parkshare.accounts.principal import Role
from parkshare.accounts.service import display_login
from parkshare.db import MAX_ROW_ID
from parkshare.lots.schemas import local
from parkshare.passes.model import ApplicationStatus, ParkingPass, PassApplication, PassKind


class Registration(BaseModel):
    phone: str = Field(max_length=20, examples=["138 0013 8000"])
    password: str = Field(max_length=200)
    name: str = Field(default="", max_length=80)
    plate: str | None = Field(default=None, max_length=20, description="A first plate to register")


class Credentials(BaseModel):
    login: str = Field(max_length=40, description="A driver's phone number or a staff login")
    password: str = Field(max_length=200)


class StaffCreate(BaseModel):
    role: Role
    login: str = Field(max_length=40)
    password: str = Field(max_length=200)
    name: str = Field(default="", max_length=80)
    operator_id: int | None = Field(default=None, ge=1, le=MAX_ROW_ID)


class PlateAdd(BaseModel):
    plate: str = Field(max_length=20)


class AccountRead(BaseModel):
    id: int
    role: Role
    login: str  # a driver's phone, masked
    name: str
    operator_id: int | None
    plates: list[str] = Field(default_factory=list, description="Registered plates (drivers)")
    created_at: datetime

    @classmethod
    def of(cls, account: Account, plates: list[str] | None = None) -> AccountRead:
        return cls(
            id=account.id,
            role=account.role,
            login=display_login(account),
            name=account.name,
            operator_id=account.operator_id,
            plates=plates or [],
            created_at=local(account.created_at),
        )


class TokenRead(BaseModel):
    token: str = Field(description="Send as 'Authorization: Bearer <token>'; shown once")
    expires_at: datetime
    account: AccountRead


class MyPassRead(BaseModel):
    ref: str
    plate: str
    kind: PassKind
    month: str
    status: ApplicationStatus
    lot: str | None = Field(description="The car park of the pass, once allocated")
    pass_ref: str | None
    price_fen: int | None

    @classmethod
    def of(
        cls, application: PassApplication, won: ParkingPass | None, lot: str | None
    ) -> MyPassRead:
        return cls(
            ref=application.ref,
            plate=application.plate,  # the driver's own plate
            kind=application.kind,
            month=f"{application.month:%Y-%m}",
            status=application.status,
            lot=lot,
            pass_ref=won.ref if won else None,
            price_fen=won.price_fen if won else None,
        )
