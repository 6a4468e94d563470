"""The driver's own pages: ``/me`` (my reservations, upcoming first, with cancelling; my pass
applications and passes; my plates) and ``/me/reservations/{ref}``. Another driver's
reservation is answered with 404, as the API does: a guessed reference reveals nothing."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from parkshare.accounts import service as accounts
from parkshare.accounts.deps import require_page
from parkshare.accounts.principal import Principal, Role
from parkshare.clock import Clock
from parkshare.config import Policy
from parkshare.deps import ClockDep, DatabaseDep, PolicyDep, SessionDep, write
from parkshare.errors import NotFound, ParkshareError
from parkshare.lots.model import Lot
from parkshare.lots.repository import LotRepository
from parkshare.passes.repository import PassRepository
from parkshare.reservations import service as reservations
from parkshare.reservations.model import HOLDING, Reservation, ReservationStatus
from parkshare.reservations.repository import ReservationRepository
from parkshare.web.driver_text import explain, leave_rules, span, when, yuan
from parkshare.web.i18n import choose_language
from parkshare.web.render import check_form, render

router = APIRouter()

Driver = Annotated[Principal, Depends(require_page(Role.DRIVER))]
Text = Annotated[str, Form(max_length=200)]


@dataclass(frozen=True)
class Booking:
    """A reservation as the driver's pages show it."""

    reservation: Reservation
    lot_name: str
    lot_code: str
    address: str
    window: str
    must_leave_by: str
    upcoming: bool  # booked, arrived or overstayed, and not over yet: warn about leaving
    cancellable: bool
    cancel_fee_now: int | None  # fen a cancellation costs now; None: cancelling is refused

    @property
    def ref(self) -> str:
        return self.reservation.ref

    @property
    def status(self) -> str:
        return str(self.reservation.status)


def _bookings(
    session: Session, rows: list[Reservation], *, lang: str, policy: Policy, clock: Clock
) -> list[Booking]:
    lots: dict[int, Lot | None] = {}
    for row in rows:
        if row.lot_id not in lots:
            lots[row.lot_id] = LotRepository(session).get(row.lot_id, with_schedule=False)
    return [_booking(row, lots[row.lot_id], lang=lang, policy=policy, clock=clock) for row in rows]


def _booking(
    row: Reservation, lot: Lot | None, *, lang: str, policy: Policy, clock: Clock
) -> Booking:
    now = clock.now()
    cancellable = row.status is ReservationStatus.BOOKED and now < row.start
    fee: int | None = 0
    if cancellable and now > row.start - policy.free_cancel_before:
        fee = policy.late_cancel_fee_fen  # None: late cancellations are refused
    name = "" if lot is None else (lot.name if lang == "zh" or not lot.name_en else lot.name_en)
    return Booking(
        reservation=row,
        lot_name=name,
        lot_code=lot.code if lot else "",
        address=lot.address if lot else "",
        window=span(row.start, row.end, lang),
        must_leave_by=when(row.must_leave_by, lang),
        upcoming=row.status in HOLDING and row.must_leave_by > now,
        cancellable=cancellable,
        cancel_fee_now=fee,
    )


def _ordered(bookings: list[Booking]) -> list[Booking]:
    """Upcoming and active first (soonest first), then the rest (latest first)."""
    upcoming = sorted((b for b in bookings if b.upcoming), key=lambda b: b.reservation.start)
    rest = [b for b in bookings if not b.upcoming]  # already newest first
    return upcoming + rest


# --- my reservations, passes and plates


@router.get("/me", response_class=HTMLResponse)
def my_page(
    request: Request,
    user: Driver,
    session: SessionDep,
    policy: PolicyDep,
    clock: ClockDep,
) -> HTMLResponse:
    return _me_page(request, session, user, policy=policy, clock=clock)


def _me_page(
    request: Request,
    session: Session,
    user: Principal,
    *,
    policy: Policy,
    clock: Clock,
    plate_error: ParkshareError | None = None,
    plate_typed: str = "",
    cancel_error: tuple[str, ParkshareError] | None = None,
) -> HTMLResponse:
    lang = choose_language(request)
    rows = ReservationRepository(session).of_account(user.account_id)
    bookings = _ordered(_bookings(session, rows, lang=lang, policy=policy, clock=clock))
    applications = PassRepository(session).applications_of_account(user.account_id)
    error = plate_error or (cancel_error[1] if cancel_error else None)
    return render(
        request,
        "driver/me.html",
        status_code=error.status if error else 200,
        bookings=bookings,
        applications=applications,
        plates=accounts.plates_of(session, user.account_id),
        plate_error=explain(lang, plate_error) if plate_error else None,
        plate_typed=plate_typed,
        cancel_error=(cancel_error[0], explain(lang, cancel_error[1])) if cancel_error else None,
        yuan=yuan,
        max_plates=accounts.MAX_PLATES,
    )


@router.get("/me/reservations/{ref}", response_class=HTMLResponse)
def my_reservation_page(
    request: Request,
    ref: str,
    user: Driver,
    session: SessionDep,
    policy: PolicyDep,
    clock: ClockDep,
) -> HTMLResponse:
    return _reservation_page(request, session, user, ref, policy=policy, clock=clock)


def _own(session: Session, user: Principal, ref: str) -> Reservation:
    """The driver's own reservation; any other (or none) is "not found"."""
    row = ReservationRepository(session).by_ref(ref[:40])
    if row is None or row.account_id != user.account_id:
        raise NotFound(f"No reservation {ref!r}.", reservation=ref)
    return row


def _reservation_page(
    request: Request,
    session: Session,
    user: Principal,
    ref: str,
    *,
    policy: Policy,
    clock: Clock,
    error: ParkshareError | None = None,
) -> HTMLResponse:
    lang = choose_language(request)
    row = _own(session, user, ref)
    lot = LotRepository(session).get(row.lot_id, with_schedule=False)
    booking = _booking(row, lot, lang=lang, policy=policy, clock=clock)
    return render(
        request,
        "driver/reservation.html",
        status_code=error.status if error else 200,
        booking=booking,
        booked=request.query_params.get("booked") == "1",
        error=explain(lang, error) if error else None,
        free_cancel_minutes=int(policy.free_cancel_before.total_seconds() // 60),
        yuan=yuan,
        when=lambda instant: when(instant, lang),
        **leave_rules(policy),
    )


@router.post("/me/reservations/{ref}/cancel", response_class=HTMLResponse)
def cancel_my_reservation_page(
    request: Request,
    ref: str,
    user: Driver,
    database: DatabaseDep,
    policy: PolicyDep,
    clock: ClockDep,
    csrf_token: Text = "",
) -> Response:
    check_form(request, user, csrf_token)

    def work(session: Session) -> None:
        reservations.cancel(session, _own(session, user, ref).ref, policy=policy, clock=clock)

    try:
        write(database, work)
    except NotFound:
        raise
    except ParkshareError as refusal:
        with database.session() as session:
            return _reservation_page(
                request, session, user, ref, policy=policy, clock=clock, error=refusal
            )
    return RedirectResponse(f"/me/reservations/{ref}", status_code=303)


@router.post("/me/plates", response_class=HTMLResponse)
def add_plate_page(
    request: Request,
    user: Driver,
    database: DatabaseDep,
    policy: PolicyDep,
    clock: ClockDep,
    plate: Annotated[str, Form(max_length=20)] = "",
    csrf_token: Text = "",
) -> Response:
    check_form(request, user, csrf_token)

    def work(session: Session) -> None:
        accounts.add_plate(session, user.account_id, plate, clock=clock)

    try:
        write(database, work)
    except ParkshareError as refusal:
        with database.session() as session:
            return _me_page(
                request,
                session,
                user,
                policy=policy,
                clock=clock,
                plate_error=refusal,
                plate_typed=plate,
            )
    return RedirectResponse("/me#plates", status_code=303)


@router.post("/me/plates/remove", response_class=HTMLResponse)
def remove_plate_page(
    request: Request,
    user: Driver,
    database: DatabaseDep,
    policy: PolicyDep,
    clock: ClockDep,
    plate: Annotated[str, Form(max_length=20)] = "",
    csrf_token: Text = "",
) -> Response:
    check_form(request, user, csrf_token)

    def work(session: Session) -> None:
        accounts.remove_plate(session, user.account_id, plate)

    try:
        write(database, work)
    except ParkshareError as refusal:
        with database.session() as session:
            return _me_page(request, session, user, policy=policy, clock=clock, plate_error=refusal)
    return RedirectResponse("/me#plates", status_code=303)
