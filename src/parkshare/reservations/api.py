"""HTTP edge of reservations."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Query, Response
from sqlalchemy.orm import Session

from parkshare.accounts import access
from parkshare.accounts.deps import SignedIn
from parkshare.accounts.principal import Role
from parkshare.clock import Clock, parse_instant
from parkshare.deps import ClockDep, DatabaseDep, PolicyDep, SessionDep
from parkshare.errors import InvalidInput
from parkshare.idempotency.deps import Idempotent
from parkshare.idempotency.service import Answer
from parkshare.lots.repository import LotRepository
from parkshare.lots.service import get_lot
from parkshare.reservations import lifecycle, service
from parkshare.reservations.model import Reservation
from parkshare.reservations.repository import ReservationRepository
from parkshare.reservations.schemas import (
    GateMovement,
    ReservationCreate,
    ReservationRead,
    WaitlistRead,
)
from parkshare.schedules.rules import SHANGHAI

router = APIRouter(tags=["reservations"])


def _movement_time(body: GateMovement, clock: Clock) -> datetime:
    at = parse_instant(body.at, name="at") if body.at else clock.now()
    if at > clock.now() + timedelta(minutes=5):
        raise InvalidInput("A movement cannot be recorded in the future.", field="at")
    return at


def _read(session: Session, reservation: Reservation) -> ReservationRead:
    lot = LotRepository(session).get(reservation.lot_id, with_schedule=False)
    return ReservationRead.of(reservation, lot.code if lot else "")


def read_reservations(session: Session, rows: list[Reservation]) -> list[ReservationRead]:
    lots = LotRepository(session)
    codes: dict[int, str] = {}
    for row in rows:
        if row.lot_id not in codes:
            lot = lots.get(row.lot_id, with_schedule=False)
            codes[row.lot_id] = lot.code if lot else ""
    return [ReservationRead.of(row, codes[row.lot_id]) for row in rows]


@router.post(
    "/reservations",
    status_code=201,
    response_model=ReservationRead | WaitlistRead,
    responses={202: {"model": WaitlistRead, "description": "Full: waiting for a berth"}},
)
def create_reservation(
    body: ReservationCreate,
    principal: SignedIn,
    session: SessionDep,
    database: DatabaseDep,
    policy: PolicyDep,
    clock: ClockDep,
    idempotent: Idempotent,
) -> Response:
    """A driver books for one of their registered plates; operator staff for their own car
    parks (a driver at the counter or on the phone); administrators anywhere. A retry with the
    same Idempotency-Key gets the first answer (booked or waitlisted), never a second booking."""
    if principal.role is Role.DRIVER:
        access.require_plate(principal, session, body.plate)
    else:
        access.require_lot(principal, session, body.lot)
    request = service.ReservationRequest(
        account_id=principal.account_id if principal.role is Role.DRIVER else None,
        lot=body.lot,
        plate=body.plate,
        start=parse_instant(body.start, name="from"),
        end=parse_instant(body.end, name="to"),
        category=body.category,
        waitlist=body.waitlist,
    )

    def work(session: Session) -> ReservationRead | Answer:
        # The key is kept by the Idempotency-Key records, per caller; the reservation's own
        # key column serves the web form and the CLI.
        outcome = service.reserve(
            session, request, idempotency_key=None, policy=policy, clock=clock
        )
        if isinstance(outcome, Reservation):
            return ReservationRead.of(outcome, body.lot)
        return Answer(202, WaitlistRead.of(outcome, body.lot).model_dump(mode="json"))

    # The booking's own fingerprint: a plate respelled (鲁b·12345) is the same request.
    return idempotent.write(database, work, fingerprint_of=request.fingerprint())


@router.get("/reservations/{ref}", response_model=ReservationRead)
def get_reservation(session: SessionDep, ref: str) -> ReservationRead:
    return _read(session, service.get_reservation(session, ref))


@router.post("/reservations/{ref}/cancel", response_model=ReservationRead)
def cancel_reservation(
    ref: str, database: DatabaseDep, policy: PolicyDep, clock: ClockDep, idempotent: Idempotent
) -> Response:
    def work(session: Session) -> ReservationRead:
        return _read(session, service.cancel(session, ref, policy=policy, clock=clock))

    return idempotent.write(database, work)


@router.get("/lots/{code}/reservations", response_model=list[ReservationRead])
def lot_reservations(
    session: SessionDep,
    code: str,
    day: Annotated[str, Query(alias="date", max_length=10, examples=["2022-06-24"])],
) -> list[ReservationRead]:
    """Reservations that touch the given local day (Asia/Shanghai)."""
    lot = get_lot(session, code, with_schedule=False)
    first = parse_instant(f"{day}T00:00:00", assume_tz=SHANGHAI, name="date")
    rows = ReservationRepository(session).at_lot_on(lot.id, first, first + timedelta(days=1))
    return [ReservationRead.of(r, code) for r in rows]


@router.post("/lots/{code}/arrivals", response_model=ReservationRead)
def record_arrival(
    code: str, body: GateMovement, database: DatabaseDep, clock: ClockDep, idempotent: Idempotent
) -> Response:
    at = _movement_time(body, clock)

    def work(session: Session) -> ReservationRead:
        return ReservationRead.of(lifecycle.arrive(session, code, body.plate, at), code)

    return idempotent.write(database, work)


@router.post("/lots/{code}/departures", response_model=ReservationRead)
def record_departure(
    code: str,
    body: GateMovement,
    database: DatabaseDep,
    policy: PolicyDep,
    clock: ClockDep,
    idempotent: Idempotent,
) -> Response:
    at = _movement_time(body, clock)

    def work(session: Session) -> ReservationRead:
        left = lifecycle.depart(session, code, body.plate, at, policy=policy, clock=clock)
        return ReservationRead.of(left, code)

    return idempotent.write(database, work)
