"""All SQL about ingest keys, gate events, counts and parking sessions."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, select, tuple_, update

from parkshare.ingest.model import (
    CountReport,
    GateEvent,
    IngestKey,
    IngestKeyLot,
    ParkingSession,
    SessionStatus,
)
from parkshare.lots.model import Lot
from parkshare.repository import Repository


class IngestRepository(Repository):
    def key_by_prefix(self, prefix: str) -> IngestKey | None:
        return self.session.scalars(
            select(IngestKey).where(IngestKey.prefix == prefix)
        ).one_or_none()

    def all_keys(self) -> list[IngestKey]:
        return list(self.session.scalars(select(IngestKey).order_by(IngestKey.id)))

    def key_lots(self, key_id: int) -> dict[str, int]:
        """Code → id of the car parks a key may write for."""
        statement = (
            select(Lot.code, Lot.id)
            .join(IngestKeyLot, IngestKeyLot.lot_id == Lot.id)
            .where(IngestKeyLot.key_id == key_id)
        )
        return {code: lot_id for code, lot_id in self.session.execute(statement)}

    def events_of_many(self, pairs: set[tuple[int, str]]) -> list[GateEvent]:
        """The events of several (car park, plate) pairs, in one query."""
        statement = select(GateEvent).where(tuple_(GateEvent.lot_id, GateEvent.plate).in_(pairs))
        return list(self.session.scalars(statement))

    def replace_sessions(self, pairs: set[tuple[int, str]], sessions: list[ParkingSession]) -> None:
        """Drop the sessions of the (car park, plate) pairs and store ``sessions`` instead."""
        self.session.execute(
            delete(ParkingSession).where(
                tuple_(ParkingSession.lot_id, ParkingSession.plate).in_(pairs)
            )
        )
        self.session.add_all(sessions)

    def open_sessions(self, lot_id: int, *, entered_after: datetime) -> int:
        """Cars inside by the gate events: open sessions that began after ``entered_after``."""
        statement = select(func.count()).where(
            ParkingSession.lot_id == lot_id,
            ParkingSession.status == SessionStatus.OPEN,
            ParkingSession.entered_at > entered_after,
        )
        return self.session.scalar(statement) or 0

    def sessions(self, lot_id: int, start: datetime, end: datetime) -> list[ParkingSession]:
        statement = (
            select(ParkingSession)
            .where(
                ParkingSession.lot_id == lot_id,
                func.coalesce(ParkingSession.entered_at, ParkingSession.exited_at) < end,
                func.coalesce(ParkingSession.exited_at, ParkingSession.entered_at) >= start,
            )
            .order_by(ParkingSession.entered_at)
        )
        return list(self.session.scalars(statement))

    def latest_count(self, lot_id: int) -> CountReport | None:
        statement = (
            select(CountReport)
            .where(CountReport.lot_id == lot_id)
            .order_by(CountReport.at.desc(), CountReport.id.desc())
            .limit(1)
        )
        return self.session.scalars(statement).first()

    def latest_event_at(self, lot_id: int) -> datetime | None:
        return self.session.scalar(select(func.max(GateEvent.at)).where(GateEvent.lot_id == lot_id))

    def erase_plates_before(self, cutoff: datetime) -> int:
        """Erase plates of events and sessions older than ``cutoff`` (the masked form stays)."""
        events = self.session.execute(
            update(GateEvent)
            .where(GateEvent.at < cutoff, GateEvent.plate.is_not(None))
            .values(plate=None)
        )
        self.session.execute(
            update(ParkingSession)
            .where(
                func.coalesce(ParkingSession.exited_at, ParkingSession.entered_at) < cutoff,
                ParkingSession.status != SessionStatus.OPEN,
                ParkingSession.plate.is_not(None),
            )
            .values(plate=None)
        )
        return int(events.rowcount or 0)  # type: ignore[attr-defined]
