"""API shapes of reservations and waitlist entries. Plates are shown masked."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from parkshare.lots.schemas import local
from parkshare.plates import mask_plate
from parkshare.reservations.model import (
    Reservation,
    ReservationStatus,
    WaitlistEntry,
    WaitlistStatus,
)
from parkshare.schedules.rules import BerthCategory


class ReservationCreate(BaseModel):
    lot: str = Field(max_length=40, examples=["HD-I-001"])
    plate: str = Field(max_length=20, examples=["鲁B12345"])
    start: str = Field(alias="from", max_length=64, examples=["2022-06-24T19:00:00+08:00"])
    end: str = Field(alias="to", max_length=64, examples=["2022-06-25T10:00:00+08:00"])
    category: BerthCategory = BerthCategory.ORDINARY
    waitlist: bool = Field(default=False, description="Wait for a berth if the car park is full")


class ReservationRead(BaseModel):
    kind: Literal["reservation"] = "reservation"
    ref: str
    lot: str
    plate: str  # masked
    category: BerthCategory
    start: datetime
    end: datetime
    must_leave_by: datetime
    status: ReservationStatus
    price_estimate_fen: int
    cancel_fee_fen: int
    parking_fee_fen: int | None
    overstay_fee_fen: int | None
    fee_fen: int | None
    arrived_at: datetime | None
    departed_at: datetime | None

    @classmethod
    def of(cls, reservation: Reservation, lot_code: str) -> ReservationRead:
        return cls(
            ref=reservation.ref,
            lot=lot_code,
            plate=mask_plate(reservation.plate),
            category=reservation.category,
            start=local(reservation.start),
            end=local(reservation.end),
            must_leave_by=local(reservation.must_leave_by),
            status=reservation.status,
            price_estimate_fen=reservation.price_estimate_fen,
            cancel_fee_fen=reservation.cancel_fee_fen,
            parking_fee_fen=reservation.parking_fee_fen,
            overstay_fee_fen=reservation.overstay_fee_fen,
            fee_fen=reservation.fee_fen,
            arrived_at=local(reservation.arrived_at) if reservation.arrived_at else None,
            departed_at=local(reservation.departed_at) if reservation.departed_at else None,
        )


class WaitlistRead(BaseModel):
    kind: Literal["waitlist"] = "waitlist"
    ref: str
    lot: str
    plate: str  # masked
    category: BerthCategory
    start: datetime
    end: datetime
    status: WaitlistStatus

    @classmethod
    def of(cls, entry: WaitlistEntry, lot_code: str) -> WaitlistRead:
        return cls(
            ref=entry.ref,
            lot=lot_code,
            plate=mask_plate(entry.plate),
            category=entry.category,
            start=local(entry.start),
            end=local(entry.end),
            status=entry.status,
        )


class GateMovement(BaseModel):
    """An arrival or departure recorded by the operator (gate systems use the ingest API)."""

    plate: str = Field(max_length=20)
    at: str | None = Field(default=None, max_length=64, description="default: now")
