"""HTTP edge of monthly passes."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Response
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from parkshare.accounts import access
from parkshare.accounts.deps import SignedIn
from parkshare.accounts.principal import Role
from parkshare.deps import ClockDep, DatabaseDep, PolicyDep, SessionDep
from parkshare.fees.api import parse_month
from parkshare.geo import CoordSystem
from parkshare.idempotency.deps import Idempotent
from parkshare.passes import service
from parkshare.passes.model import ApplicationStatus, PassApplication, PassKind
from parkshare.plates import mask_plate

router = APIRouter(prefix="/passes", tags=["passes"])


class Home(BaseModel):
    lon: float = Field(ge=-180, le=180)
    lat: float = Field(ge=-90, le=90)
    system: CoordSystem = CoordSystem.WGS84


class OfferCreate(BaseModel):
    lot: str = Field(max_length=40)
    kind: PassKind
    month: str = Field(max_length=7, examples=["2022-07"])
    quota: int = Field(ge=0, le=100_000)
    price_fen: int = Field(ge=0, le=10_000_000)


class OfferRead(BaseModel):
    lot: str
    kind: PassKind
    month: str
    quota: int
    price_fen: int


class ApplicationCreate(BaseModel):
    plate: str = Field(max_length=20)
    kind: PassKind
    month: str = Field(max_length=7, examples=["2022-07"])
    home: Home
    max_walk_m: int = Field(default=1_000, ge=service.MIN_WALK_M, le=service.MAX_WALK_M)
    preferred_lots: list[str] = Field(default_factory=list, max_length=20)


class ApplicationRead(BaseModel):
    ref: str
    plate: str  # masked
    kind: PassKind
    month: str
    status: ApplicationStatus

    @classmethod
    def of(cls, application: PassApplication) -> ApplicationRead:
        return cls(
            ref=application.ref,
            plate=mask_plate(application.plate),
            kind=application.kind,
            month=f"{application.month:%Y-%m}",
            status=application.status,
        )


class AllocateRequest(BaseModel):
    kind: PassKind
    month: str = Field(max_length=7)


class AllocationRead(BaseModel):
    kind: PassKind
    month: str
    applicants: int
    quota: int
    served: int
    total_walk_m: float
    fcfs_served: int
    fcfs_total_walk_m: float
    solver_seconds: float


@router.post("/offers", response_model=OfferRead, status_code=201)
def create_offer(
    body: OfferCreate,
    principal: SignedIn,
    session: SessionDep,
    database: DatabaseDep,
    idempotent: Idempotent,
) -> Response:
    access.require_lot(principal, session, body.lot)
    month = parse_month(body.month)

    def work(session: Session) -> OfferRead:
        offer = service.offer_passes(
            session, body.lot, body.kind, month, quota=body.quota, price_fen=body.price_fen
        )
        return OfferRead(
            lot=body.lot,
            kind=offer.kind,
            month=f"{offer.month:%Y-%m}",
            quota=offer.quota,
            price_fen=offer.price_fen,
        )

    return idempotent.write(database, work)


@router.post("/applications", response_model=ApplicationRead, status_code=201)
def create_application(
    body: ApplicationCreate,
    principal: SignedIn,
    session: SessionDep,
    database: DatabaseDep,
    clock: ClockDep,
    idempotent: Idempotent,
) -> Response:
    """A driver applies for one of their registered plates (administrators for anyone)."""
    access.require_plate(principal, session, body.plate)
    request = service.PassApplicationRequest(
        account_id=principal.account_id if principal.role is Role.DRIVER else None,
        plate=body.plate,
        kind=body.kind,
        month=parse_month(body.month),
        lon=body.home.lon,
        lat=body.home.lat,
        coords=body.home.system,
        max_walk_m=body.max_walk_m,
        preferred_lots=tuple(body.preferred_lots),
    )

    def work(session: Session) -> ApplicationRead:
        return ApplicationRead.of(service.apply(session, request, clock=clock))

    return idempotent.write(database, work)


@router.post("/allocate", response_model=AllocationRead)
def allocate(
    body: AllocateRequest,
    database: DatabaseDep,
    policy: PolicyDep,
    clock: ClockDep,
    idempotent: Idempotent,
) -> Response:
    month: date = parse_month(body.month)

    def work(session: Session) -> AllocationRead:
        report = service.allocate(session, body.kind, month, policy=policy, clock=clock)
        return AllocationRead(
            kind=report.kind,
            month=f"{report.month:%Y-%m}",
            applicants=report.applicants,
            quota=report.quota,
            served=report.served,
            total_walk_m=round(report.total_walk_m, 1),
            fcfs_served=report.fcfs_served,
            fcfs_total_walk_m=round(report.fcfs_total_walk_m, 1),
            solver_seconds=round(report.solver_seconds, 4),
        )

    return idempotent.write(database, work)
