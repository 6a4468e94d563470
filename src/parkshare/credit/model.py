"""Violations (overstays past must-leave-by) and the blacklist they lead to."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from parkshare.db import Base, UTCDateTime, str_enum


class ViolationKind(StrEnum):
    OVERSTAY = "overstay"


class Violation(Base):
    __tablename__ = "violations"

    id: Mapped[int] = mapped_column(primary_key=True)
    plate: Mapped[str] = mapped_column(String(12))
    lot_id: Mapped[int] = mapped_column(ForeignKey("lots.id"))
    reservation_id: Mapped[int | None] = mapped_column(ForeignKey("reservations.id"), unique=True)
    kind: Mapped[ViolationKind] = mapped_column(str_enum(ViolationKind, "violation_kind"))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())  # must-leave-by + grace
    minutes_over: Mapped[int | None] = mapped_column(Integer)  # known once the car leaves
    corrected_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    note: Mapped[str] = mapped_column(String(300), default="")

    __table_args__ = (Index("ix_violations_plate", "plate", "corrected_at"),)


class BlacklistEntry(Base):
    __tablename__ = "blacklist"

    id: Mapped[int] = mapped_column(primary_key=True)
    plate: Mapped[str] = mapped_column(String(12), index=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    reason: Mapped[str] = mapped_column(String(300))
    lifted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    lifted_note: Mapped[str] = mapped_column(String(300), default="")
