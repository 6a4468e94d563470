"""Yearly targets set by the city: car parks and berths to open, by group (and area)."""

from __future__ import annotations

from sqlalchemy import CheckConstraint, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from parkshare.db import Base, str_enum
from parkshare.lots.model import LotKind


class Target(Base):
    __tablename__ = "targets"

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column(Integer, index=True)
    group: Mapped[LotKind] = mapped_column(str_enum(LotKind, "lot_kind"))
    area: Mapped[str] = mapped_column(String(80), default="")  # "" = the whole district
    lots: Mapped[int | None]
    berths: Mapped[int]

    __table_args__ = (
        UniqueConstraint("year", "group", "area"),
        CheckConstraint("berths > 0", name="berths_positive"),
        CheckConstraint("lots IS NULL OR lots > 0", name="lots_positive"),
    )
