"""Stored sharing schedules: quiet hours, rules with berths per category, suspensions, and the
administrator's calendar overrides."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from parkshare.calendar import DayType
from parkshare.db import Base, UTCDateTime, str_enum
from parkshare.schedules.rules import BerthCategory

if TYPE_CHECKING:
    from parkshare.lots.model import Lot


class SharingSchedule(Base):
    """Per car park: the schedule-wide settings (the rules are rows of their own)."""

    __tablename__ = "sharing_schedules"

    id: Mapped[int] = mapped_column(primary_key=True)
    lot_id: Mapped[int] = mapped_column(ForeignKey("lots.id", ondelete="CASCADE"), unique=True)
    quiet_start: Mapped[time | None]
    quiet_end: Mapped[time | None]
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    lot: Mapped[Lot] = relationship(back_populates="schedule", lazy="raise")


class SharingRuleRow(Base):
    __tablename__ = "sharing_rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    lot_id: Mapped[int] = mapped_column(ForeignKey("lots.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    day_types: Mapped[str] = mapped_column(String(80))  # comma-separated DayType values
    start: Mapped[time]
    end: Mapped[time]
    end_day_offset: Mapped[int] = mapped_column(Integer, default=0)

    lot: Mapped[Lot] = relationship(back_populates="rules", lazy="raise")
    berths: Mapped[list[SharingRuleBerths]] = relationship(
        back_populates="rule", lazy="raise", cascade="all, delete-orphan"
    )

    __table_args__ = (
        UniqueConstraint("lot_id", "position"),
        CheckConstraint("end_day_offset BETWEEN 0 AND 2", name="offset_range"),
    )


class SharingRuleBerths(Base):
    """Shared berths of one category under one rule."""

    __tablename__ = "sharing_rule_berths"

    id: Mapped[int] = mapped_column(primary_key=True)
    rule_id: Mapped[int] = mapped_column(ForeignKey("sharing_rules.id", ondelete="CASCADE"))
    category: Mapped[BerthCategory] = mapped_column(str_enum(BerthCategory, "berth_category"))
    shared_berths: Mapped[int] = mapped_column(Integer)

    rule: Mapped[SharingRuleRow] = relationship(back_populates="berths", lazy="raise")

    __table_args__ = (
        UniqueConstraint("rule_id", "category"),
        CheckConstraint("shared_berths >= 0", name="shared_not_negative"),
    )


class SuspensionRow(Base):
    __tablename__ = "suspensions"

    id: Mapped[int] = mapped_column(primary_key=True)
    lot_id: Mapped[int] = mapped_column(ForeignKey("lots.id", ondelete="CASCADE"), index=True)
    start: Mapped[datetime] = mapped_column(UTCDateTime())
    end: Mapped[datetime] = mapped_column(UTCDateTime())  # the announced resume time
    reason: Mapped[str] = mapped_column(String(300))
    emergency: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())  # when notice was given

    lot: Mapped[Lot] = relationship(back_populates="suspensions", lazy="raise")


class CalendarOverride(Base):
    """An administrator's day type for one date, over the official calendar."""

    __tablename__ = "calendar_overrides"

    day: Mapped[date] = mapped_column(primary_key=True)
    day_type: Mapped[DayType] = mapped_column(str_enum(DayType, "day_type"))
    note: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
