"""All SQL about reservations and the waitlist."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select, tuple_

from parkshare.repository import Repository
from parkshare.reservations.model import (
    HOLDING,
    MOVABLE,
    Reservation,
    ReservationStatus,
    WaitlistEntry,
    WaitlistStatus,
)
from parkshare.schedules.rules import BerthCategory


class ReservationRepository(Repository):
    def by_ref(self, ref: str) -> Reservation | None:
        return self.session.scalars(select(Reservation).where(Reservation.ref == ref)).one_or_none()

    def of_account(self, account_id: int, *, limit: int = 200) -> list[Reservation]:
        statement = (
            select(Reservation)
            .where(Reservation.account_id == account_id)
            .order_by(Reservation.start.desc(), Reservation.id.desc())
            .limit(limit)
        )
        return list(self.session.scalars(statement))

    def by_idempotency_key(self, key: str) -> Reservation | None:
        statement = select(Reservation).where(Reservation.idempotency_key == key)
        return self.session.scalars(statement).one_or_none()

    def waiting_by_idempotency_key(self, key: str) -> WaitlistEntry | None:
        statement = select(WaitlistEntry).where(WaitlistEntry.idempotency_key == key)
        return self.session.scalars(statement).one_or_none()

    def holding(
        self, lot_id: int, start: datetime | None, end: datetime | None
    ) -> list[Reservation]:
        """Reservations of a car park that hold a berth at some instant of [start, end)."""
        statement = select(Reservation).where(
            Reservation.lot_id == lot_id, Reservation.status.in_(HOLDING)
        )
        if end is not None:
            statement = statement.where(Reservation.start < end)
        if start is not None:
            statement = statement.where(Reservation.end > start)
        return list(self.session.scalars(statement))

    def holding_spans(
        self, lot_id: int, start: datetime | None, end: datetime | None
    ) -> list[tuple[datetime, datetime, BerthCategory]]:
        """(start, end, category) of the reservations ``holding`` returns, without the ORM."""
        statement = select(Reservation.start, Reservation.end, Reservation.category).where(
            Reservation.lot_id == lot_id, Reservation.status.in_(HOLDING)
        )
        if end is not None:
            statement = statement.where(Reservation.start < end)
        if start is not None:
            statement = statement.where(Reservation.end > start)
        return [(s, e, c) for s, e, c in self.session.execute(statement)]

    def plate_overlaps(self, plate: str, start: datetime, end: datetime) -> bool:
        statement = (
            select(Reservation.id)
            .where(
                Reservation.plate == plate,
                Reservation.status.in_(HOLDING),
                Reservation.start < end,
                Reservation.end > start,
            )
            .limit(1)
        )
        return self.session.execute(statement).first() is not None

    def strikes_since(self, plate: str, since: datetime) -> tuple[int, int]:
        """The plate's cancellations (its own, not an operator's) and no-shows since ``since``."""
        cancelled = (
            (Reservation.status == ReservationStatus.CANCELLED)
            & (Reservation.cancelled_at >= since)
            & Reservation.cancelled_by.is_distinct_from("operator")
        )
        no_show = (Reservation.status == ReservationStatus.NO_SHOW) & (Reservation.start >= since)
        statement = select(func.count().filter(cancelled), func.count().filter(no_show)).where(
            Reservation.plate == plate
        )
        row = self.session.execute(statement).one()
        return int(row[0]), int(row[1])

    def booked_starting_before(self, instant: datetime) -> list[Reservation]:
        statement = (
            select(Reservation)
            .where(Reservation.status == ReservationStatus.BOOKED, Reservation.start <= instant)
            .order_by(Reservation.lot_id, Reservation.start)
        )
        return list(self.session.scalars(statement))

    def arrived_past(self, instant: datetime) -> list[Reservation]:
        statement = (
            select(Reservation)
            .where(
                Reservation.status == ReservationStatus.ARRIVED,
                Reservation.must_leave_by <= instant,
            )
            .order_by(Reservation.lot_id, Reservation.must_leave_by)
        )
        return list(self.session.scalars(statement))

    def at_lot_on(self, lot_id: int, start: datetime, end: datetime) -> list[Reservation]:
        statement = (
            select(Reservation)
            .where(Reservation.lot_id == lot_id, Reservation.start < end, Reservation.end > start)
            .order_by(Reservation.start, Reservation.id)
        )
        return list(self.session.scalars(statement))

    def for_plate_at_lot(
        self, lot_id: int, plate: str, statuses: Sequence[ReservationStatus]
    ) -> list[Reservation]:
        statement = (
            select(Reservation)
            .where(
                Reservation.lot_id == lot_id,
                Reservation.plate == plate,
                Reservation.status.in_(statuses),
            )
            .order_by(Reservation.start)
        )
        return list(self.session.scalars(statement))

    def plates_with_reservations(self, pairs: set[tuple[int, str]]) -> set[tuple[int, str]]:
        """Which (car park, plate) pairs have a reservation that gate events can move on."""
        statement = select(Reservation.lot_id, Reservation.plate).where(
            tuple_(Reservation.lot_id, Reservation.plate).in_(pairs),
            Reservation.status.in_(MOVABLE),
        )
        return {(lot_id, plate) for lot_id, plate in self.session.execute(statement)}

    def waiting(self, lot_id: int) -> list[WaitlistEntry]:
        statement = (
            select(WaitlistEntry)
            .where(WaitlistEntry.lot_id == lot_id, WaitlistEntry.status == WaitlistStatus.WAITING)
            .order_by(WaitlistEntry.created_at, WaitlistEntry.id)
        )
        return list(self.session.scalars(statement))
