"""All SQL of the invariant check: plain rows read once, so the check costs a handful of
statements whatever the size of the database."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, and_, func, or_, select
from sqlalchemy.orm import aliased

from parkshare.credit.model import BlacklistEntry, Violation
from parkshare.db import Base
from parkshare.idempotency.model import IdempotencyRecord
from parkshare.ingest.model import CountReport, GateEvent, ParkingSession
from parkshare.lots.model import Lot, LotBerths
from parkshare.outbox.model import OutboxMessage
from parkshare.passes.model import ApplicationStatus, ParkingPass, PassApplication, PassOffer
from parkshare.repository import Repository
from parkshare.reservations.model import HOLDING, Reservation, WaitlistEntry, WaitlistStatus
from parkshare.schedules.model import SharingRuleBerths, SharingRuleRow

# The tables whose rows the report counts, in the order it prints them.
COUNTED: tuple[type[Base], ...] = (
    Lot,
    Reservation,
    WaitlistEntry,
    PassOffer,
    PassApplication,
    ParkingPass,
    GateEvent,
    ParkingSession,
    CountReport,
    Violation,
    BlacklistEntry,
    OutboxMessage,
    IdempotencyRecord,
)

Rows = Sequence[Row[*tuple[Any, ...]]]  # rows read by column name


class InvariantRepository(Repository):
    def counts(self) -> dict[str, int]:
        return {
            model.__tablename__: self.session.scalar(select(func.count()).select_from(model)) or 0
            for model in COUNTED
        }

    def lot_codes(self) -> dict[int, str]:
        return {lot_id: code for lot_id, code in self.session.execute(select(Lot.id, Lot.code))}

    def holding_reservations(self, since: datetime | None) -> Rows:
        """Reservations that hold a berth (ending after ``since``, when given)."""
        statement = select(
            Reservation.id,
            Reservation.ref,
            Reservation.lot_id,
            Reservation.plate,
            Reservation.category,
            Reservation.start,
            Reservation.end,
        ).where(Reservation.status.in_(HOLDING))
        if since is not None:
            statement = statement.where(Reservation.end > since)
        return self.session.execute(statement.order_by(Reservation.lot_id, Reservation.start)).all()

    def active_passes(self) -> Rows:
        """(lot_id, kind, month, passes) of the passes not revoked."""
        statement = (
            select(ParkingPass.lot_id, ParkingPass.kind, ParkingPass.month, func.count())
            .where(ParkingPass.revoked_at.is_(None))
            .group_by(ParkingPass.lot_id, ParkingPass.kind, ParkingPass.month)
        )
        return self.session.execute(statement).all()

    def quotas(self) -> Rows:
        return self.session.execute(
            select(PassOffer.lot_id, PassOffer.kind, PassOffer.month, PassOffer.quota)
        ).all()

    def reservations(self) -> Rows:
        return self.session.execute(
            select(
                Reservation.id,
                Reservation.ref,
                Reservation.lot_id,
                Reservation.plate,
                Reservation.status,
                Reservation.arrived_at,
                Reservation.departed_at,
                Reservation.cancelled_at,
                Reservation.parking_fee_fen,
                Reservation.overstay_fee_fen,
            )
        ).all()

    def gate_events(self) -> Rows:
        return self.session.execute(
            select(
                GateEvent.id,
                GateEvent.lot_id,
                GateEvent.event_id,
                GateEvent.plate,
                GateEvent.direction,
                GateEvent.at,
            )
        ).all()

    def parking_sessions(self) -> Rows:
        return self.session.execute(
            select(
                ParkingSession.id,
                ParkingSession.lot_id,
                ParkingSession.plate,
                ParkingSession.status,
                ParkingSession.entered_at,
                ParkingSession.exited_at,
                ParkingSession.entry_event_id,
                ParkingSession.exit_event_id,
                ParkingSession.reservation_id,
            )
        ).all()

    def violations(self) -> Rows:
        return self.session.execute(
            select(Violation.id, Violation.lot_id, Violation.plate, Violation.reservation_id)
        ).all()

    def live_reminders(self) -> set[str]:
        """Dedupe keys of reminders queued and not withdrawn (sent or not)."""
        statement = select(OutboxMessage.dedupe_key).where(
            OutboxMessage.dedupe_key.like("reminder:%"), OutboxMessage.cancelled_at.is_(None)
        )
        return set(self.session.scalars(statement))

    def fulfilled_waitlist(self) -> Rows:
        """Fulfilled waitlist entries and the reservation each points to (if any)."""
        booked = aliased(Reservation)
        statement = (
            select(
                WaitlistEntry.ref,
                WaitlistEntry.lot_id,
                WaitlistEntry.plate,
                WaitlistEntry.start,
                WaitlistEntry.end,
                booked.id.label("reservation_id"),
                booked.lot_id.label("reservation_lot_id"),
                booked.plate.label("reservation_plate"),
                booked.start.label("reservation_start"),
                booked.end.label("reservation_end"),
            )
            .outerjoin(booked, booked.id == WaitlistEntry.reservation_id)
            .where(WaitlistEntry.status == WaitlistStatus.FULFILLED)
        )
        return self.session.execute(statement).all()

    def passes_with_applications(self) -> Rows:
        statement = select(
            ParkingPass.ref,
            ParkingPass.lot_id,
            ParkingPass.plate,
            ParkingPass.kind,
            ParkingPass.month,
            PassApplication.ref.label("application_ref"),
            PassApplication.plate.label("application_plate"),
            PassApplication.kind.label("application_kind"),
            PassApplication.month.label("application_month"),
            PassApplication.status.label("application_status"),
        ).outerjoin(PassApplication, PassApplication.id == ParkingPass.application_id)
        return self.session.execute(statement).all()

    def allocated_without_pass(self) -> list[str]:
        statement = (
            select(PassApplication.ref)
            .outerjoin(ParkingPass, ParkingPass.application_id == PassApplication.id)
            .where(PassApplication.status == ApplicationStatus.ALLOCATED, ParkingPass.id.is_(None))
        )
        return list(self.session.scalars(statement))

    def trusted_impossible_counts(self) -> Rows:
        """Counts stored as trusted (no anomaly) that cannot be true whatever the berths."""
        impossible = or_(
            CountReport.free < 0,
            and_(CountReport.total.is_not(None), CountReport.free > CountReport.total),
        )
        statement = select(CountReport.lot_id, CountReport.free, CountReport.at).where(
            CountReport.anomaly == "", impossible
        )
        return self.session.execute(statement).all()

    def shared_over_physical(self) -> Rows:
        """(lot_id, category, shared, physical) where a rule shares more than the car park has."""
        physical = func.coalesce(LotBerths.total, 0)
        statement = (
            select(
                SharingRuleRow.lot_id,
                SharingRuleBerths.category,
                func.max(SharingRuleBerths.shared_berths),
                func.max(physical),
            )
            .join(SharingRuleRow, SharingRuleRow.id == SharingRuleBerths.rule_id)
            .outerjoin(
                LotBerths,
                and_(
                    LotBerths.lot_id == SharingRuleRow.lot_id,
                    LotBerths.category == SharingRuleBerths.category,
                ),
            )
            .group_by(SharingRuleRow.lot_id, SharingRuleBerths.category)
            .having(func.max(SharingRuleBerths.shared_berths) > func.max(physical))
        )
        return self.session.execute(statement).all()

    def duplicates(self, model: type[Base], *columns: str) -> Rows:
        """Values of ``columns`` held by more than one row of ``model`` (NULLs never clash),
        with how many rows hold each and the first car park among them."""
        table = model.__table__
        keys = [table.c[name] for name in columns]
        statement = (
            select(*keys, func.count(), func.min(table.c.lot_id))
            .where(*(key.is_not(None) for key in keys))
            .group_by(*keys)
            .having(func.count() > 1)
        )
        return self.session.execute(statement).all()

    def unanswered_idempotency_keys(self) -> list[tuple[str, str]]:
        """(scope, key) of Idempotency-Key records committed without the answer to replay."""
        statement = select(IdempotencyRecord.scope, IdempotencyRecord.idempotency_key).where(
            IdempotencyRecord.status_code.is_(None)
        )
        return [(scope, key) for scope, key in self.session.execute(statement)]

    def keys_in_both(self) -> Rows:
        """Idempotency keys held by a reservation and by a waitlist entry at once."""
        statement = select(
            Reservation.idempotency_key, Reservation.lot_id, WaitlistEntry.lot_id
        ).join(WaitlistEntry, WaitlistEntry.idempotency_key == Reservation.idempotency_key)
        return self.session.execute(statement).all()
