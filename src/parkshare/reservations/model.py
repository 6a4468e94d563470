"""Reservations of shared berths, and the waitlist (候补) for full windows."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from parkshare.db import Base, UTCDateTime, str_enum
from parkshare.schedules.rules import BerthCategory

if TYPE_CHECKING:
    from parkshare.lots.model import Lot


class ReservationStatus(StrEnum):
    BOOKED = "booked"
    ARRIVED = "arrived"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    NO_SHOW = "no_show"
    OVERSTAYED = "overstayed"


# Statuses whose berth is held over [start, end).
HOLDING = (ReservationStatus.BOOKED, ReservationStatus.ARRIVED, ReservationStatus.OVERSTAYED)
# Statuses a gate event can still move on (arrive, depart, link a parking session to).
MOVABLE = (*HOLDING, ReservationStatus.COMPLETED)


class Reservation(Base):
    __tablename__ = "reservations"

    id: Mapped[int] = mapped_column(primary_key=True)
    ref: Mapped[str] = mapped_column(String(40), unique=True)  # public id
    lot_id: Mapped[int] = mapped_column(ForeignKey("lots.id"))
    plate: Mapped[str] = mapped_column(String(12), index=True)
    # The driver's account that booked it (None: booked by staff or through the CLI).
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"), index=True)
    category: Mapped[BerthCategory] = mapped_column(str_enum(BerthCategory, "berth_category"))
    start: Mapped[datetime] = mapped_column(UTCDateTime())
    end: Mapped[datetime] = mapped_column(UTCDateTime())
    must_leave_by: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[ReservationStatus] = mapped_column(
        str_enum(ReservationStatus, "reservation_status")
    )
    idempotency_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    price_estimate_fen: Mapped[int] = mapped_column(Integer)
    cancel_fee_fen: Mapped[int] = mapped_column(Integer, default=0)
    parking_fee_fen: Mapped[int | None]  # settled on departure, by the tariff
    overstay_fee_fen: Mapped[int | None]  # surcharge for leaving after must-leave-by + grace
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    arrived_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    departed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # "driver", or "operator" when a suspension of sharing hit it (not held against the driver)
    cancelled_by: Mapped[str | None] = mapped_column(String(20))

    lot: Mapped[Lot] = relationship(lazy="raise")

    @property
    def fee_fen(self) -> int | None:
        if self.parking_fee_fen is None:
            return None
        return self.parking_fee_fen + (self.overstay_fee_fen or 0)

    __table_args__ = (
        Index("ix_reservations_lot_span", "lot_id", "start", "end"),
        CheckConstraint('"end" > start', name="ends_after_start"),
        CheckConstraint('must_leave_by >= "end"', name="inside_window"),
    )


class WaitlistStatus(StrEnum):
    WAITING = "waiting"
    FULFILLED = "fulfilled"
    EXPIRED = "expired"
    CANCELLED = "cancelled"


class WaitlistEntry(Base):
    __tablename__ = "waitlist_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    ref: Mapped[str] = mapped_column(String(40), unique=True)
    lot_id: Mapped[int] = mapped_column(ForeignKey("lots.id"))
    plate: Mapped[str] = mapped_column(String(12))
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"), index=True)
    category: Mapped[BerthCategory] = mapped_column(str_enum(BerthCategory, "berth_category"))
    start: Mapped[datetime] = mapped_column(UTCDateTime())
    end: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[WaitlistStatus] = mapped_column(str_enum(WaitlistStatus, "waitlist_status"))
    idempotency_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    reservation_id: Mapped[int | None] = mapped_column(ForeignKey("reservations.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (Index("ix_waitlist_lot_status", "lot_id", "status", "created_at"),)
