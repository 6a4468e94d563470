"""HTTP edge of schedule editing: a car park's rules, a preview of a proposal, saving it,
and the tariff. Operator staff act on their own car parks, administrators on all."""

from __future__ import annotations

from fastapi import APIRouter, Response
from sqlalchemy.orm import Session

from parkshare.deps import ClockDep, DatabaseDep, SessionDep, SettingsDep
from parkshare.fees import service as fees
from parkshare.idempotency.deps import Idempotent
from parkshare.lots.service import get_lot
from parkshare.schedules import service
from parkshare.schedules.schemas import (
    LotScheduleRead,
    ScheduleBody,
    SchedulePreviewRead,
    TariffBody,
)

router = APIRouter(tags=["schedules"])


@router.get("/lots/{code}/schedule", response_model=LotScheduleRead)
def get_lot_schedule(session: SessionDep, code: str) -> LotScheduleRead:
    """The rules (day types × time span → shared berths per category), quiet hours and
    suspensions, with the car park's physical berths and tariff."""
    return LotScheduleRead.of(get_lot(session, code))


@router.post("/lots/{code}/schedule/preview", response_model=SchedulePreviewRead)
def preview_lot_schedule(
    session: SessionDep, settings: SettingsDep, clock: ClockDep, code: str, body: ScheduleBody
) -> SchedulePreviewRead:
    """Check a proposed schedule without saving it: its problems, or its sharing windows over
    the coming seven days (official calendar: holidays and make-up working days included)
    and the reservations it could not honour."""
    check = service.preview_schedule(
        session,
        get_lot(session, code),
        body.proposal(),
        clock=clock,
        horizon_days=settings.window_horizon_days,
    )
    return SchedulePreviewRead.of(code, check.problems, check.preview, check.misfits)


@router.put("/lots/{code}/schedule", response_model=LotScheduleRead)
def put_lot_schedule(
    database: DatabaseDep,
    settings: SettingsDep,
    clock: ClockDep,
    code: str,
    body: ScheduleBody,
    idempotent: Idempotent,
) -> Response:
    """Replace the car park's schedule. Refused with the first problem's code (422) when the
    proposal is unsound, ``schedule_conflicts_reservations`` (409) when reservations already
    made would no longer fit, ``schedule_changed`` (409) when ``version`` is stale."""

    def work(session: Session) -> LotScheduleRead:
        lot = service.save_schedule(
            session,
            code,
            body.proposal(),
            expected_version=body.version,
            clock=clock,
            horizon_days=settings.window_horizon_days,
        )
        return LotScheduleRead.of(lot)

    return idempotent.write(database, work)


@router.put("/lots/{code}/tariff", response_model=LotScheduleRead)
def put_lot_tariff(
    database: DatabaseDep, code: str, body: TariffBody, idempotent: Idempotent
) -> Response:
    """Replace the car park's tariff (new bookings are priced by it)."""
    tariff = body.tariff()

    def work(session: Session) -> LotScheduleRead:
        return LotScheduleRead.of(fees.save_tariff(session, code, tariff))

    return idempotent.write(database, work)
