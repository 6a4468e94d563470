"""Reserving in two taps. Tap 1, a result's Reserve button, opens ``GET /find/reserve``: a
confirmation with the car park, the window, the price, the plate to use and the must-leave-by
warning, carrying an Idempotency-Key made when it was rendered. Tap 2, Confirm, posts it to
``POST /find/reserve``, which books through the reservations service, so posting the same
confirmation twice books once."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from parkshare.accounts import access
from parkshare.accounts import service as accounts
from parkshare.accounts.deps import require_page
from parkshare.accounts.principal import Principal, Role
from parkshare.availability.service import availability_at
from parkshare.clock import Clock, parse_instant
from parkshare.config import Policy
from parkshare.deps import ClockDep, DatabaseDep, PolicyDep, SessionDep, write
from parkshare.errors import (
    IdempotencyKeyReused,
    InvalidInput,
    NoCapacity,
    NotServable,
    ParkshareError,
)
from parkshare.fees.service import tariff_of
from parkshare.lots.model import Lot
from parkshare.lots.service import get_lot
from parkshare.reservations import service as reservations
from parkshare.reservations.model import Reservation
from parkshare.schedules.rules import SHANGHAI
from parkshare.search.rules import check_times
from parkshare.web.driver_text import explain, leave_rules, span, when, yuan
from parkshare.web.i18n import choose_language
from parkshare.web.pages import safe_next
from parkshare.web.render import check_form, render

router = APIRouter()

Driver = Annotated[Principal, Depends(require_page(Role.DRIVER))]
Instant = Annotated[str, Query(max_length=64)]
MIN_KEY = 16


@dataclass(frozen=True)
class Quote:
    """What a booking of this car park over [start, end) would be, as the booking decides."""

    lot: Lot
    start: datetime
    end: datetime
    price_fen: int
    free: int
    must_leave_by: datetime | None
    refusal: ParkshareError | None  # why it cannot be booked now, if it cannot


def quote(
    session: Session, code: str, start: datetime, end: datetime, *, policy: Policy, clock: Clock
) -> Quote:
    lot = get_lot(session, code)
    tariff = tariff_of(lot)
    price = tariff.fee(start, end) if tariff else 0
    refusal: ParkshareError | None = None
    answer = None
    try:
        check_times(
            start,
            now=clock.now(),
            skew=reservations.CLOCK_SKEW,
            booking_horizon=policy.booking_horizon,
        )
        answer = availability_at(session, lot, start, end, horizon_days=policy.window_horizon_days)
    except ParkshareError as exc:
        refusal = exc
    if answer is not None and answer.reason is not None:
        refusal = NotServable(str(answer.reason), f"Car park {code} cannot serve this interval.")
    elif answer is not None and answer.free < 1:
        refusal = NoCapacity(f"Car park {code} has no free berth for the whole interval.")
    return Quote(
        lot=lot,
        start=start,
        end=end,
        price_fen=price,
        free=answer.free if answer else 0,
        must_leave_by=answer.must_leave_by if answer else None,
        refusal=refusal,
    )


def new_key() -> str:
    """The Idempotency-Key of one confirmation form."""
    return f"web-{secrets.token_urlsafe(18)}"


def _instants(start: str, end: str) -> tuple[datetime, datetime]:
    return (
        parse_instant(start, assume_tz=SHANGHAI, name="from"),
        parse_instant(end, assume_tz=SHANGHAI, name="to"),
    )


def _confirmation(
    request: Request,
    session: Session,
    user: Principal,
    offer: Quote,
    *,
    key: str,
    plate: str,
    back: str,
    policy: Policy,
    error: ParkshareError | None = None,
) -> HTMLResponse:
    lang = choose_language(request)
    refusal = error or offer.refusal
    plates = accounts.plates_of(session, user.account_id)
    lot = offer.lot
    return render(
        request,
        "driver/confirm.html",
        status_code=error.status if error else 200,
        lot=lot,
        lot_name=lot.name if lang == "zh" or not lot.name_en else lot.name_en,
        offer=offer,
        window_text=span(offer.start, offer.end, lang),
        must_leave_by=when(offer.must_leave_by, lang),
        price=yuan(offer.price_fen),
        plates=plates,
        plate=plate or (plates[0] if plates else ""),
        key=key,
        back=safe_next(back, "/find"),
        refusal=explain(lang, refusal) if refusal else None,
        bookable=offer.refusal is None and bool(plates),
        start_value=offer.start.isoformat(),
        end_value=offer.end.isoformat(),
        **leave_rules(policy),
    )


@router.get("/find/reserve", response_class=HTMLResponse)
def confirm_reservation_page(
    request: Request,
    user: Driver,
    session: SessionDep,
    policy: PolicyDep,
    clock: ClockDep,
    lot: Annotated[str, Query(max_length=40)],
    start: Annotated[str, Query(alias="from", max_length=64)],
    end: Annotated[str, Query(alias="to", max_length=64)],
    back: Annotated[str, Query(max_length=500)] = "",
) -> HTMLResponse:
    """Tap 1: what the booking would be, with a fresh Idempotency-Key for tap 2."""
    first, last = _instants(start, end)
    offer = quote(session, lot, first, last, policy=policy, clock=clock)
    return _confirmation(
        request, session, user, offer, key=new_key(), plate="", back=back, policy=policy
    )


@router.post("/find/reserve", response_class=HTMLResponse)
def reserve_page(
    request: Request,
    user: Driver,
    database: DatabaseDep,
    policy: PolicyDep,
    clock: ClockDep,
    lot: Annotated[str, Form(max_length=40)] = "",
    start: Annotated[str, Form(alias="from", max_length=64)] = "",
    end: Annotated[str, Form(alias="to", max_length=64)] = "",
    plate: Annotated[str, Form(max_length=20)] = "",
    idempotency_key: Annotated[str, Form(max_length=100)] = "",
    csrf_token: Annotated[str, Form(max_length=200)] = "",
    back: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    """Tap 2: book. The same key posted twice gives the first reservation, not a second."""
    check_form(request, user, csrf_token)
    first, last = _instants(start, end)

    def work(session: Session) -> str:
        if len(idempotency_key) < MIN_KEY:
            raise InvalidInput("The form expired; open the car park again.", field="form")
        access.require_plate(user, session, plate)
        request_ = reservations.ReservationRequest(
            lot=lot, plate=plate, start=first, end=last, account_id=user.account_id
        )
        outcome = reservations.reserve(
            session, request_, idempotency_key=idempotency_key, policy=policy, clock=clock
        )
        if not isinstance(outcome, Reservation):  # a waitlist place under this key (API)
            raise IdempotencyKeyReused("This form was used for another request.")
        return outcome.ref

    try:
        ref = write(database, work)
    except ParkshareError as refusal:
        with database.session() as session:
            offer = quote(session, lot, first, last, policy=policy, clock=clock)
            return _confirmation(
                request,
                session,
                user,
                offer,
                key=new_key(),  # nothing was booked under the old one
                plate=plate,
                back=back,
                policy=policy,
                error=refusal,
            )
    return RedirectResponse(f"/me/reservations/{ref}?booked=1", status_code=303)
