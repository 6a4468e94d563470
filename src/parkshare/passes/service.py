"""Use cases of monthly passes: offers, applications, and the allocation that issues them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time

from sqlalchemy.orm import Session

from parkshare.availability.rules import least_free
from parkshare.availability.service import commitments
from parkshare.calendar import OfficialCalendar
from parkshare.clock import Clock, month_bounds
from parkshare.config import Policy
from parkshare.credit.repository import CreditRepository
from parkshare.credit.service import check_not_barred
from parkshare.errors import Conflict, InvalidInput
from parkshare.geo import CoordSystem, to_wgs84
from parkshare.lots.model import Lot
from parkshare.lots.repository import LotRepository
from parkshare.lots.service import get_lot
from parkshare.outbox import service as outbox
from parkshare.passes.allocation import Applicant, Supply, allocate_fcfs, allocate_optimal
from parkshare.passes.model import (
    ApplicationStatus,
    ParkingPass,
    PassApplication,
    PassKind,
    PassOffer,
)
from parkshare.passes.repository import PassRepository
from parkshare.passes.rules import window_kind
from parkshare.plates import mask_plate, parse_plate
from parkshare.reservations.service import new_ref
from parkshare.schedules import service as schedules
from parkshare.schedules.rules import SHANGHAI, BerthCategory, window_at, windows_between

MIN_WALK_M, MAX_WALK_M = 100, 5_000


def first_of(month: date) -> date:
    return month.replace(day=1)


def offer_passes(
    session: Session, lot_code: str, kind: PassKind, month: date, *, quota: int, price_fen: int
) -> PassOffer:
    """Set how many passes of a kind a car park offers for a month (and their price)."""
    if quota < 0 or price_fen < 0:
        raise InvalidInput("Quota and price cannot be negative.")
    lot = get_lot(session, lot_code, with_schedule=False)
    LotRepository(session).lock(lot.id)
    repository = PassRepository(session)
    month = first_of(month)
    issued = repository.active_count(lot.id, kind, month)
    if quota < issued:
        raise Conflict(f"{issued} passes are already issued; the quota cannot go below that.")
    offer = repository.offer(lot.id, kind, month)
    if offer is None:
        offer = PassOffer(lot_id=lot.id, kind=kind, month=month, quota=quota, price_fen=price_fen)
        session.add(offer)
    else:
        offer.quota, offer.price_fen = quota, price_fen
    session.flush()
    return offer


@dataclass(frozen=True)
class PassApplicationRequest:
    plate: str
    kind: PassKind
    month: date
    lon: float
    lat: float
    coords: CoordSystem = CoordSystem.WGS84
    max_walk_m: int = 1_000
    preferred_lots: tuple[str, ...] = ()
    account_id: int | None = None  # the driver's account applying (None: staff, CLI)


def apply(session: Session, request: PassApplicationRequest, *, clock: Clock) -> PassApplication:
    """Apply for a pass before its month begins. Applying twice with the same details returns
    the first application."""
    plate = parse_plate(request.plate).number
    month = first_of(request.month)
    if datetime.combine(month, time(0), SHANGHAI) <= clock.now():
        raise InvalidInput(f"Applications for {month:%Y-%m} closed when the month began.")
    if not MIN_WALK_M <= request.max_walk_m <= MAX_WALK_M:
        raise InvalidInput(f"max_walk_m must be between {MIN_WALK_M} and {MAX_WALK_M} metres.")
    check_not_barred(session, plate, clock=clock)
    lon, lat = to_wgs84(request.lon, request.lat, request.coords)
    preferred = ",".join(request.preferred_lots)
    existing = PassRepository(session).application(plate, request.kind, month)
    if existing is not None:
        same = (existing.home_lon, existing.home_lat, existing.max_walk_m, existing.preferred_lots)
        if same != (lon, lat, request.max_walk_m, preferred):
            raise Conflict("This plate already applied for that pass and month.")
        return existing
    application = PassApplication(
        ref=new_ref("A"),
        plate=plate,
        account_id=request.account_id,
        kind=request.kind,
        month=month,
        home_lon=lon,
        home_lat=lat,
        max_walk_m=request.max_walk_m,
        preferred_lots=preferred,
        status=ApplicationStatus.PENDING,
        applied_at=clock.now(),
    )
    session.add(application)
    session.flush()
    return application


@dataclass(frozen=True)
class AllocationReport:
    kind: PassKind
    month: date
    applicants: int
    quota: int
    served: int
    total_walk_m: float
    fcfs_served: int
    fcfs_total_walk_m: float
    solver_seconds: float


def allocate(
    session: Session, kind: PassKind, month: date, *, policy: Policy, clock: Clock
) -> AllocationReport:
    """Issue passes to pending applicants: the most applicants served, then the least total
    walking; first-come-first-served on the same input is reported alongside."""
    month = first_of(month)
    repository = PassRepository(session)
    offers = repository.offers(kind, month)
    lots = LotRepository(session)
    for offer in offers:  # in lot id order, so two allocations never deadlock
        lots.lock(offer.lot_id)
    calendar = schedules.calendar(session)
    supply, by_code = [], {}
    for offer in offers:
        lot = lots.get(offer.lot_id)
        assert lot is not None
        left = offer.quota - repository.active_count(lot.id, kind, month)
        room = min(left, _headroom(session, lot, kind, month, calendar, policy))
        if room > 0:
            supply.append(Supply(lot.code, lot.lon, lot.lat, room))
            by_code[lot.code] = (lot, offer)
    credit = CreditRepository(session)
    pending = [
        a for a in repository.pending(kind, month) if not credit.active_bar(a.plate, clock.now())
    ]
    applicants = [
        Applicant(
            id=a.ref,
            lon=a.home_lon,
            lat=a.home_lat,
            max_walk_m=a.max_walk_m,
            applied_at=a.applied_at,
            eligible=frozenset(a.preferred_lots.split(",")) if a.preferred_lots else None,
        )
        for a in pending
    ]
    optimal = allocate_optimal(applicants, supply)
    fcfs = allocate_fcfs(applicants, supply)
    for application in pending:
        code = optimal.assignments.get(application.ref)
        if code is None:
            application.status = ApplicationStatus.UNSERVED
            continue
        lot, offer = by_code[code]
        _issue(session, application, lot, offer, clock=clock)
    session.flush()
    return AllocationReport(
        kind=kind,
        month=month,
        applicants=len(applicants),
        quota=sum(s.quota for s in supply),
        served=optimal.served,
        total_walk_m=optimal.total_walk_m,
        fcfs_served=fcfs.served,
        fcfs_total_walk_m=fcfs.total_walk_m,
        solver_seconds=optimal.solver_seconds,
    )


def _issue(
    session: Session, application: PassApplication, lot: Lot, offer: PassOffer, *, clock: Clock
) -> ParkingPass:
    application.status = ApplicationStatus.ALLOCATED
    issued = ParkingPass(
        ref=new_ref("P"),
        plate=application.plate,
        lot_id=lot.id,
        kind=application.kind,
        month=application.month,
        application_id=application.id,
        price_fen=offer.price_fen,
        issued_at=clock.now(),
    )
    session.add(issued)
    outbox.enqueue(
        session,
        topic="pass.issued",
        key=f"pass:{application.ref}",
        payload={
            "application": application.ref,
            "lot": lot.code,
            "plate": mask_plate(issued.plate),
        },
        due_at=clock.now(),
        clock=clock,
    )
    return issued


def _headroom(
    session: Session,
    lot: Lot,
    kind: PassKind,
    month: date,
    calendar: OfficialCalendar,
    policy: Policy,
) -> int:
    """Passes the car park can still take: the least free ordinary berths over every window
    of that kind starting in the month (a pass holds a berth through each of them)."""
    schedule = schedules.schedule_of(lot)
    first, following = month_bounds(month, SHANGHAI)
    least: int | None = None
    for piece in windows_between(schedule, calendar, first, following):
        anchor = piece.start or first  # pieces are clipped to the month: both ends are set
        window = window_at(schedule, calendar, anchor, horizon_days=policy.window_horizon_days)
        if window is None or window_kind(window, calendar, anchor=anchor) is not kind:
            continue
        if window.start is not None and window.start < first:
            continue  # it belongs to the month before
        start = window.start or anchor
        end = window.end or piece.end or following
        held = commitments(session, lot.id, window, calendar, anchor=anchor)
        free = least_free(window, held, BerthCategory.ORDINARY, start, end)
        least = free if least is None else min(least, free)
    return max(0, least or 0)
