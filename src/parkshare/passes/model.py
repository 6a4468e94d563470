"""Monthly passes (包月): offers with a quota per car park, applications, issued passes."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, Float, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from parkshare.db import Base, UTCDateTime, str_enum


class PassKind(StrEnum):
    NIGHT = "night"  # every weekday-night window of the month
    WEEKEND = "weekend"  # every window of the month that holds a rest day or holiday


class PassOffer(Base):
    """A car park offers ``quota`` passes of a kind for a month."""

    __tablename__ = "pass_offers"

    id: Mapped[int] = mapped_column(primary_key=True)
    lot_id: Mapped[int] = mapped_column(ForeignKey("lots.id"))
    kind: Mapped[PassKind] = mapped_column(str_enum(PassKind, "pass_kind"))
    month: Mapped[date]  # the first day of the month
    quota: Mapped[int] = mapped_column(Integer)
    price_fen: Mapped[int] = mapped_column(Integer)

    __table_args__ = (
        UniqueConstraint("lot_id", "kind", "month"),
        CheckConstraint("quota >= 0", name="quota_not_negative"),
    )


class ApplicationStatus(StrEnum):
    PENDING = "pending"
    ALLOCATED = "allocated"
    UNSERVED = "unserved"


class PassApplication(Base):
    __tablename__ = "pass_applications"

    id: Mapped[int] = mapped_column(primary_key=True)
    ref: Mapped[str] = mapped_column(String(40), unique=True)
    plate: Mapped[str] = mapped_column(String(12))
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"), index=True)
    kind: Mapped[PassKind] = mapped_column(str_enum(PassKind, "pass_kind"))
    month: Mapped[date]
    home_lon: Mapped[float] = mapped_column(Float)  # WGS-84
    home_lat: Mapped[float] = mapped_column(Float)
    max_walk_m: Mapped[int] = mapped_column(Integer)
    preferred_lots: Mapped[str] = mapped_column(String(400), default="")  # comma-separated codes
    status: Mapped[ApplicationStatus] = mapped_column(
        str_enum(ApplicationStatus, "application_status")
    )
    applied_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (UniqueConstraint("plate", "kind", "month"),)


class ParkingPass(Base):
    __tablename__ = "passes"

    id: Mapped[int] = mapped_column(primary_key=True)
    ref: Mapped[str] = mapped_column(String(40), unique=True)
    plate: Mapped[str] = mapped_column(String(12), index=True)
    lot_id: Mapped[int] = mapped_column(ForeignKey("lots.id"))
    kind: Mapped[PassKind] = mapped_column(str_enum(PassKind, "pass_kind"))
    month: Mapped[date]
    application_id: Mapped[int | None] = mapped_column(ForeignKey("pass_applications.id"))
    price_fen: Mapped[int] = mapped_column(Integer)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (UniqueConstraint("plate", "kind", "month"),)
