"""The operator console: an operator's car parks with their live state, one car park's desk
(occupancy, today's reservations, who is inside, overstays, violations, ingest keys) and its
monthly statement. Editing the schedule and tariff is ``console_schedule``.

Operator staff see their own operator's car parks only (another's is a 403 page);
administrators see all. Plates are shown masked, always.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from parkshare.accounts import access
from parkshare.accounts.principal import Principal
from parkshare.config import Settings
from parkshare.credit.model import Violation
from parkshare.credit.repository import CreditRepository
from parkshare.deps import ClockDep, DatabaseDep, SessionDep, SettingsDep, write
from parkshare.errors import Forbidden, NotFound
from parkshare.fees.statement import statement
from parkshare.ingest import keys
from parkshare.ingest.live import MAX_STAY, LiveState, live_state
from parkshare.ingest.model import IngestKey, SessionStatus
from parkshare.ingest.repository import IngestRepository
from parkshare.lots.model import Lot
from parkshare.lots.repository import LotRepository
from parkshare.plates import mask_plate
from parkshare.reservations.model import Reservation, ReservationStatus
from parkshare.reservations.repository import ReservationRepository
from parkshare.schedules.service import peak_shared_berths, schedule_of
from parkshare.web import console_schedule
from parkshare.web.console_common import HELPERS, Staff, local, open_lot, today_bounds
from parkshare.web.render import check_form, render

router = APIRouter()
router.include_router(console_schedule.router)

Text = Annotated[str, Form(max_length=200)]
INSIDE = (ReservationStatus.ARRIVED, ReservationStatus.OVERSTAYED)


def _live(session: Session, lot: Lot, settings: Settings, now: datetime) -> LiveState:
    return live_state(
        session,
        lot,
        now=now,
        stale=timedelta(minutes=settings.live_stale_after_minutes),
        offline=timedelta(minutes=settings.live_offline_after_minutes),
    )


@dataclass(frozen=True)
class LotLine:
    lot: Lot
    live: LiveState
    shared_berths: int


@router.get("/console", response_class=HTMLResponse)
def console_home(
    request: Request, user: Staff, session: SessionDep, settings: SettingsDep, clock: ClockDep
) -> HTMLResponse:
    """My car parks: live state, free berths and shared berths free now."""
    own = access.own_lot_codes(user, session)
    lots = [
        lot for lot in LotRepository(session).all_with_rules() if own is None or lot.code in own
    ]
    now = clock.now()
    lines = [
        LotLine(lot, _live(session, lot, settings, now), peak_shared_berths(lot))
        for lot in sorted(lots, key=lambda lot: lot.code)
    ]
    return render(
        request,
        "console/index.html",
        lines=lines,
        now=now,
        shared_free=sum(line.live.shared_free_now or 0 for line in lines),
        shared_total=sum(line.shared_berths for line in lines),
        online=sum(1 for line in lines if line.live.link == "online"),
        **HELPERS,
    )


@dataclass(frozen=True)
class Inside:
    plate: str  # masked
    since: datetime | None
    reservation: Reservation | None


@dataclass(frozen=True)
class Desk:
    """What the desk of one car park shows."""

    live: LiveState
    today: list[Reservation]
    inside: list[Inside]
    overstays: list[Reservation]
    violations: list[Violation]
    keys: list[IngestKey]


def desk_of(session: Session, lot: Lot, settings: Settings, now: datetime) -> Desk:
    first, last = today_bounds(now)
    reservations = ReservationRepository(session)
    today = reservations.at_lot_on(lot.id, first, last)
    recent = reservations.at_lot_on(lot.id, now - MAX_STAY, last)
    inside_now = [r for r in recent if r.status in INSIDE]
    gate = IngestRepository(session)
    walk_ins = [
        s
        for s in gate.sessions(lot.id, now - MAX_STAY, now)
        if s.status is SessionStatus.OPEN and s.reservation_id is None
    ]
    inside = [Inside(mask_plate(r.plate), r.arrived_at, r) for r in inside_now]
    inside += [Inside(s.plate_masked, s.entered_at, None) for s in walk_ins]
    overstays = [
        r for r in inside_now if r.status is ReservationStatus.OVERSTAYED or r.must_leave_by < now
    ]
    violations = CreditRepository(session).violations(
        lot_ids=[lot.id], plate=None, limit=20, offset=0
    )
    return Desk(
        live=_live(session, lot, settings, now),
        today=today,
        inside=inside,
        overstays=overstays,
        violations=list(violations.items),
        keys=keys_of(session, lot.code),
    )


def keys_of(session: Session, code: str) -> list[IngestKey]:
    repository = IngestRepository(session)
    return [key for key in repository.all_keys() if code in repository.key_lots(key.id)]


def _lot_page(
    request: Request,
    user: Principal,
    session: Session,
    settings: Settings,
    now: datetime,
    code: str,
    *,
    new_key: str = "",
    notice: str = "",
    status_code: int = 200,
) -> HTMLResponse:
    lot = open_lot(user, session, code)
    return render(
        request,
        "console/lot.html",
        status_code=status_code,
        lot=lot,
        desk=desk_of(session, lot, settings, now),
        schedule=schedule_of(lot),
        shared_berths=peak_shared_berths(lot),
        month=f"{local(now):%Y-%m}",
        now=now,
        new_key=new_key,
        notice=notice,
        mask_plate=mask_plate,
        **HELPERS,
    )


@router.get("/console/lots/{code}", response_class=HTMLResponse)
def console_lot(
    request: Request,
    user: Staff,
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
    code: str,
    revoked: Annotated[str, Query(max_length=16)] = "",
) -> HTMLResponse:
    notice = "console.key.revoked" if revoked else ""
    return _lot_page(request, user, session, settings, clock.now(), code, notice=notice)


@router.post("/console/lots/{code}/keys", response_class=HTMLResponse)
def console_create_key(
    request: Request,
    user: Staff,
    database: DatabaseDep,
    settings: SettingsDep,
    clock: ClockDep,
    code: str,
    name: Annotated[str, Form(max_length=120)],
    csrf_token: Text = "",
) -> HTMLResponse:
    """A new ingest key for this car park; its secret is shown on this answer only."""
    check_form(request, user, csrf_token)

    def work(session: Session) -> str:
        access.require_lot(user, session, code)
        _, secret = keys.create_key(session, name=name, lot_codes=[code], clock=clock)
        return secret

    secret = write(database, work)
    with database.session() as session:  # a fresh read that sees the new key
        return _lot_page(request, user, session, settings, clock.now(), code, new_key=secret)


@router.post("/console/lots/{code}/keys/{prefix}/revoke")
def console_revoke_key(
    request: Request,
    user: Staff,
    database: DatabaseDep,
    clock: ClockDep,
    code: str,
    prefix: str,
    csrf_token: Text = "",
) -> Response:
    """Revoke one of the car park's keys (one that also serves another operator's car park
    is left to an administrator)."""
    check_form(request, user, csrf_token)

    def work(session: Session) -> None:
        access.require_lot(user, session, code)
        key = IngestRepository(session).key_by_prefix(prefix)
        served = IngestRepository(session).key_lots(key.id) if key else {}
        if key is None or code not in served:
            raise NotFound(f"Car park {code} has no ingest key {prefix!r}.")
        own = access.own_lot_codes(user, session)
        if own is not None and not set(served) <= own:
            raise Forbidden("This key also serves another operator's car parks.")
        keys.revoke(session, prefix, clock=clock)

    write(database, work)
    return RedirectResponse(f"/console/lots/{code}?revoked={prefix}", status_code=303)


@router.get("/console/lots/{code}/statement", response_class=HTMLResponse)
def console_statement(
    request: Request,
    user: Staff,
    session: SessionDep,
    clock: ClockDep,
    code: str,
    month: Annotated[str, Query(max_length=7)] = "",
) -> HTMLResponse:
    """The monthly statement: fees by day and source, in yuan."""
    lot = open_lot(user, session, code)
    first = _month(month)
    error = bool(month) and first is None
    first = first or local(clock.now()).date().replace(day=1)
    report = statement(session, code, first)
    return render(
        request,
        "console/statement.html",
        status_code=422 if error else 200,
        lot=lot,
        report=report,
        month=f"{first:%Y-%m}",
        previous=f"{(first - timedelta(days=1)):%Y-%m}",
        following=f"{(first + timedelta(days=32)):%Y-%m}",
        error=error,
        asked=month,
        **HELPERS,
    )


def _month(text: str) -> date | None:
    try:
        first = date.fromisoformat(f"{text}-01")
    except ValueError:
        return None
    return first if 2000 <= first.year <= 2100 else None
