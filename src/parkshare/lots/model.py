"""Operators, car parks (lots) and their berths by category."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from parkshare.db import Base, UTCDateTime, str_enum
from parkshare.schedules.rules import BerthCategory

if TYPE_CHECKING:
    from parkshare.fees.model import TariffRow
    from parkshare.schedules.model import SharingRuleRow, SharingSchedule, SuspensionRow


class LotKind(StrEnum):
    INSTITUTIONAL = "institutional"  # 机关企事业单位
    COMMERCIAL = "commercial"  # 商场、酒店、写字楼
    RESIDENTIAL = "residential"  # 小区


class LotStatus(StrEnum):
    ONBOARDING = "onboarding"
    ONLINE = "online"
    SUSPENDED = "suspended"


class Operator(Base):
    __tablename__ = "operators"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    name_en: Mapped[str] = mapped_column(String(200), default="")
    kind: Mapped[LotKind] = mapped_column(str_enum(LotKind, "lot_kind"))
    contact_phone: Mapped[str] = mapped_column(String(40), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    lots: Mapped[list[Lot]] = relationship(back_populates="operator", lazy="raise")


class Lot(Base):
    __tablename__ = "lots"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200), default="")
    operator_id: Mapped[int] = mapped_column(ForeignKey("operators.id"), index=True)
    kind: Mapped[LotKind] = mapped_column(str_enum(LotKind, "lot_kind"), index=True)
    use: Mapped[str] = mapped_column(String(40), default="")  # mall, hotel, government, …
    area: Mapped[str] = mapped_column(String(80), index=True)  # 街道
    area_en: Mapped[str] = mapped_column(String(80), default="")
    address: Mapped[str] = mapped_column(String(300), default="")
    lon: Mapped[float]  # WGS-84
    lat: Mapped[float]  # WGS-84
    status: Mapped[LotStatus] = mapped_column(str_enum(LotStatus, "lot_status"), index=True)
    opened_on: Mapped[date | None]  # the day sharing started (counts towards that year's target)
    contact_phone: Mapped[str] = mapped_column(String(40), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Bumped by every change to what decides availability (schedule, suspensions, status,
    # berths, tariff): cached values of the car park are checked against it.
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")

    operator: Mapped[Operator] = relationship(back_populates="lots", lazy="raise")
    berths: Mapped[list[LotBerths]] = relationship(
        back_populates="lot",
        lazy="raise",
        cascade="all, delete-orphan",
        order_by="LotBerths.category",
    )
    schedule: Mapped[SharingSchedule | None] = relationship(
        back_populates="lot", lazy="raise", cascade="all, delete-orphan"
    )
    rules: Mapped[list[SharingRuleRow]] = relationship(
        back_populates="lot",
        lazy="raise",
        cascade="all, delete-orphan",
        order_by="SharingRuleRow.position",
    )
    suspensions: Mapped[list[SuspensionRow]] = relationship(
        back_populates="lot", lazy="raise", cascade="all, delete-orphan"
    )
    tariff: Mapped[TariffRow | None] = relationship(
        back_populates="lot", lazy="raise", cascade="all, delete-orphan"
    )

    __table_args__ = (
        CheckConstraint("lon BETWEEN -180 AND 180", name="lon_range"),
        CheckConstraint("lat BETWEEN -90 AND 90", name="lat_range"),
    )

    @property
    def total_berths(self) -> int:
        return sum(row.total for row in self.berths)


class LotBerths(Base):
    """The physical berths of one category in a car park (a row per category)."""

    __tablename__ = "lot_berths"

    id: Mapped[int] = mapped_column(primary_key=True)
    lot_id: Mapped[int] = mapped_column(ForeignKey("lots.id", ondelete="CASCADE"))
    category: Mapped[BerthCategory] = mapped_column(str_enum(BerthCategory, "berth_category"))
    total: Mapped[int] = mapped_column(Integer)

    lot: Mapped[Lot] = relationship(back_populates="berths", lazy="raise")

    __table_args__ = (
        UniqueConstraint("lot_id", "category"),
        CheckConstraint("total >= 0", name="total_not_negative"),
    )
