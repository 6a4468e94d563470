"""Information networking (信息联网): what car-park systems send us, and what we derive.

- ``IngestKey``: a per-system credential, stored hashed, scoped to a set of car parks.
- ``GateEvent``: the inbox of gate events, append-only, unique on (car park, event id).
- ``CountReport``: free-berth counts as reported, append-only (realtime data keeps its own
  time; the registry's static data is never overwritten by it).
- ``ParkingSession``: entry → exit pairs derived from the events of one plate at one car park.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from parkshare.db import Base, UTCDateTime, str_enum


class IngestKey(Base):
    __tablename__ = "ingest_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    prefix: Mapped[str] = mapped_column(String(16), unique=True)  # shown, to tell keys apart
    secret_hash: Mapped[str] = mapped_column(String(64))  # sha256 of the whole key
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class IngestKeyLot(Base):
    """The car parks a key may write for."""

    __tablename__ = "ingest_key_lots"

    key_id: Mapped[int] = mapped_column(
        ForeignKey("ingest_keys.id", ondelete="CASCADE"), primary_key=True
    )
    lot_id: Mapped[int] = mapped_column(ForeignKey("lots.id", ondelete="CASCADE"), primary_key=True)


class Direction(StrEnum):
    IN = "in"
    OUT = "out"


class GateEvent(Base):
    __tablename__ = "gate_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    lot_id: Mapped[int] = mapped_column(ForeignKey("lots.id"))
    event_id: Mapped[str] = mapped_column(String(100))
    # The plate is personal data: kept for the retention period, then erased; the masked
    # form stays for statistics.
    plate: Mapped[str | None] = mapped_column(String(12))
    plate_masked: Mapped[str] = mapped_column(String(12))
    direction: Mapped[Direction] = mapped_column(str_enum(Direction, "direction"))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    gate: Mapped[str] = mapped_column(String(60), default="")
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    key_id: Mapped[int | None] = mapped_column(ForeignKey("ingest_keys.id"))

    __table_args__ = (
        UniqueConstraint("lot_id", "event_id"),
        Index("ix_gate_events_lot_plate_at", "lot_id", "plate", "at"),
        Index("ix_gate_events_received", "received_at"),
    )


class CountReport(Base):
    __tablename__ = "count_reports"

    id: Mapped[int] = mapped_column(primary_key=True)
    lot_id: Mapped[int] = mapped_column(ForeignKey("lots.id"))
    free: Mapped[int] = mapped_column(Integer)
    total: Mapped[int | None] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    anomaly: Mapped[str] = mapped_column(String(120), default="")  # why it is not trusted
    key_id: Mapped[int | None] = mapped_column(ForeignKey("ingest_keys.id"))

    # One count per car park and instant: a resent count is a duplicate, not a second row.
    __table_args__ = (UniqueConstraint("lot_id", "at"),)


class SessionStatus(StrEnum):
    OPEN = "open"  # entered, not yet left
    CLOSED = "closed"  # entered and left
    EXIT_ONLY = "exit_only"  # an exit with no entry before it (entry missed by the gate)
    ENTRY_ONLY = "entry_only"  # an entry followed by another entry: its exit was missed


class ParkingSession(Base):
    __tablename__ = "parking_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    lot_id: Mapped[int] = mapped_column(ForeignKey("lots.id"))
    plate: Mapped[str | None] = mapped_column(String(12))
    plate_masked: Mapped[str] = mapped_column(String(12))
    entered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    exited_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    status: Mapped[SessionStatus] = mapped_column(str_enum(SessionStatus, "session_status"))
    entry_event_id: Mapped[int | None] = mapped_column(ForeignKey("gate_events.id"))
    exit_event_id: Mapped[int | None] = mapped_column(ForeignKey("gate_events.id"))
    reservation_id: Mapped[int | None] = mapped_column(ForeignKey("reservations.id"))
    fee_fen: Mapped[int | None] = mapped_column(Integer)

    __table_args__ = (
        Index("ix_parking_sessions_lot_status", "lot_id", "status"),
        Index("ix_parking_sessions_lot_plate", "lot_id", "plate"),
    )
