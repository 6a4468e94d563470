"""Stored tariffs: one per car park, its hourly rates by time of day as rows."""

from __future__ import annotations

from datetime import time
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, ForeignKey, Integer, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from parkshare.db import Base

if TYPE_CHECKING:
    from parkshare.lots.model import Lot


class TariffRow(Base):
    __tablename__ = "tariffs"

    id: Mapped[int] = mapped_column(primary_key=True)
    lot_id: Mapped[int] = mapped_column(ForeignKey("lots.id", ondelete="CASCADE"), unique=True)
    free_minutes: Mapped[int] = mapped_column(Integer)
    billing_unit_minutes: Mapped[int] = mapped_column(Integer)
    daily_cap_fen: Mapped[int | None]

    lot: Mapped[Lot] = relationship(back_populates="tariff", lazy="raise")
    rates: Mapped[list[TariffRate]] = relationship(
        back_populates="tariff",
        lazy="raise",
        cascade="all, delete-orphan",
        order_by="TariffRate.start",
    )

    __table_args__ = (
        CheckConstraint("free_minutes >= 0", name="free_not_negative"),
        CheckConstraint("billing_unit_minutes BETWEEN 1 AND 1440", name="unit_range"),
    )


class TariffRate(Base):
    __tablename__ = "tariff_rates"

    id: Mapped[int] = mapped_column(primary_key=True)
    tariff_id: Mapped[int] = mapped_column(ForeignKey("tariffs.id", ondelete="CASCADE"))
    start: Mapped[time]
    fen_per_hour: Mapped[int] = mapped_column(Integer)

    tariff: Mapped[TariffRow] = relationship(back_populates="rates", lazy="raise")

    __table_args__ = (
        UniqueConstraint("tariff_id", "start"),
        CheckConstraint("fen_per_hour >= 0", name="rate_not_negative"),
    )
