"""HTTP edge of credit: violations and the blacklist."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query, Response
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from parkshare.accounts import access
from parkshare.accounts.deps import SignedIn
from parkshare.credit import service
from parkshare.credit.model import BlacklistEntry, Violation, ViolationKind
from parkshare.credit.repository import CreditRepository
from parkshare.db import MAX_ROW_ID
from parkshare.deps import ClockDep, DatabaseDep, SessionDep
from parkshare.idempotency.deps import Idempotent
from parkshare.lots.schemas import local
from parkshare.lots.service import get_lot
from parkshare.plates import mask_plate, parse_plate

router = APIRouter(tags=["credit"])


class ViolationRead(BaseModel):
    id: int
    plate: str  # masked
    lot_id: int
    kind: ViolationKind
    occurred_at: datetime
    corrected_at: datetime | None
    note: str

    @classmethod
    def of(cls, violation: Violation) -> ViolationRead:
        return cls(
            id=violation.id,
            plate=mask_plate(violation.plate),
            lot_id=violation.lot_id,
            kind=violation.kind,
            occurred_at=local(violation.occurred_at),
            corrected_at=local(violation.corrected_at) if violation.corrected_at else None,
            note=violation.note,
        )


class ViolationPage(BaseModel):
    items: list[ViolationRead]
    total: int


class Note(BaseModel):
    note: str = Field(default="", max_length=300)


class BarRead(BaseModel):
    plate: str  # masked
    starts_at: datetime
    ends_at: datetime
    lifted_at: datetime | None

    @classmethod
    def of(cls, bar: BlacklistEntry) -> BarRead:
        return cls(
            plate=mask_plate(bar.plate),
            starts_at=local(bar.starts_at),
            ends_at=local(bar.ends_at),
            lifted_at=local(bar.lifted_at) if bar.lifted_at else None,
        )


@router.get("/violations", response_model=ViolationPage)
def list_violations(
    principal: SignedIn,
    session: SessionDep,
    lot: Annotated[str | None, Query(max_length=40)] = None,
    plate: Annotated[str | None, Query(max_length=20)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> ViolationPage:
    """Violations, newest first; operator staff see those at their own car parks only."""
    if lot:
        access.require_lot(principal, session, lot)
        lot_ids: list[int] | None = [get_lot(session, lot, with_schedule=False).id]
    else:
        own = access.own_lot_ids(principal, session)
        lot_ids = sorted(own) if own is not None else None
    number = parse_plate(plate).number if plate else None
    page = CreditRepository(session).violations(
        lot_ids=lot_ids, plate=number, limit=limit, offset=offset
    )
    return ViolationPage(items=[ViolationRead.of(v) for v in page.items], total=page.total)


@router.post("/violations/{violation_id}/correct", response_model=ViolationRead)
def correct_violation(
    violation_id: Annotated[int, Path(ge=1, le=MAX_ROW_ID)],
    body: Note,
    principal: SignedIn,
    database: DatabaseDep,
    clock: ClockDep,
    idempotent: Idempotent,
) -> Response:
    def work(session: Session) -> ViolationRead:
        found = CreditRepository(session).get_violation(violation_id)
        if found is not None:
            access.require_lot_id(
                principal, session, found.lot_id, missing=f"No violation {violation_id}."
            )
        corrected = service.correct_violation(session, violation_id, note=body.note, clock=clock)
        return ViolationRead.of(corrected)

    return idempotent.write(database, work)


@router.post("/blacklist/{plate}/lift", response_model=BarRead)
def lift_bar(
    plate: str, body: Note, database: DatabaseDep, clock: ClockDep, idempotent: Idempotent
) -> Response:
    number = parse_plate(plate).number

    def work(session: Session) -> BarRead:
        return BarRead.of(service.lift_bar(session, number, note=body.note, clock=clock))

    return idempotent.write(database, work)
