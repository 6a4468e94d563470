"""Applying for a monthly pass (包月): ``GET/POST /me/passes/apply``. The driver names a plate
of theirs, the kind (nights or weekends), the month and where they want to park near (a
landmark, a click on the map or coordinates), and how far they would walk; the allocation
later issues passes (``parkshare.passes``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from parkshare.accounts import access
from parkshare.accounts import service as accounts
from parkshare.accounts.deps import require_page
from parkshare.accounts.principal import Principal, Role
from parkshare.clock import Clock
from parkshare.deps import ClockDep, DatabaseDep, SessionDep, SettingsDep, write
from parkshare.errors import InvalidInput, ParkshareError
from parkshare.geo import CoordSystem
from parkshare.passes import service as passes
from parkshare.passes.model import PassKind
from parkshare.schedules.rules import SHANGHAI
from parkshare.web.driver_places import place_of
from parkshare.web.driver_text import Refusal, explain
from parkshare.web.i18n import choose_language
from parkshare.web.landmarks import LANDMARKS
from parkshare.web.map import build_map
from parkshare.web.render import check_form, render

router = APIRouter()

Driver = Annotated[Principal, Depends(require_page(Role.DRIVER))]
Text = Annotated[str, Form(max_length=200)]
WALKS = (300, 500, 1_000, 2_000)
MONTHS_AHEAD = 3


@dataclass(frozen=True)
class PassForm:
    plate: str = ""
    kind: str = PassKind.NIGHT.value
    month: str = ""  # YYYY-MM
    place: str = ""
    lat: str = ""
    lon: str = ""
    coords: str = CoordSystem.WGS84.value
    max_walk: str = "1000"


def months_open(now: datetime) -> list[str]:
    """The months one can still apply for: those that have not begun."""
    local = now.astimezone(SHANGHAI)
    year, month = local.year, local.month
    found = []
    for _ in range(MONTHS_AHEAD):
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        found.append(f"{year:04d}-{month:02d}")
    return found


def pass_request(form: PassForm, user: Principal) -> passes.PassApplicationRequest:
    try:
        kind = PassKind(form.kind)
    except ValueError:
        raise InvalidInput("A pass is for nights or weekends.", field="kind") from None
    try:
        year, month = (int(part) for part in form.month.split("-"))
        first = date(year, month, 1)
    except ValueError:
        raise InvalidInput("Choose the month of the pass.", field="month") from None
    try:
        walk = int(form.max_walk)
    except ValueError:
        raise InvalidInput("Choose how far you would walk.", field="max_walk") from None
    place = place_of(form.place, form.lat, form.lon, form.coords)
    return passes.PassApplicationRequest(
        plate=form.plate,
        kind=kind,
        month=first,
        lon=place.lon,
        lat=place.lat,
        coords=place.coords,
        max_walk_m=walk,
        account_id=user.account_id,
    )


def _apply_page(
    request: Request,
    session: Session,
    user: Principal,
    form: PassForm,
    *,
    clock: Clock,
    tile_url: str | None,
    error: Refusal | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    months = months_open(clock.now())
    return render(
        request,
        "driver/pass_apply.html",
        status_code=status_code,
        form=form if form.month else PassForm(**{**form.__dict__, "month": months[0]}),
        plates=accounts.plates_of(session, user.account_id),
        months=months,
        kinds=[k.value for k in PassKind],
        walks=WALKS,
        landmarks=LANDMARKS,
        error=error,
        view=build_map([], tile_url=tile_url),
    )


@router.get("/me/passes/apply", response_class=HTMLResponse)
def apply_page(
    request: Request, user: Driver, session: SessionDep, settings: SettingsDep, clock: ClockDep
) -> HTMLResponse:
    form = PassForm(place=LANDMARKS[0].key)
    return _apply_page(request, session, user, form, clock=clock, tile_url=settings.map_tile_url)


@router.post("/me/passes/apply", response_class=HTMLResponse)
def apply_for_pass_page(
    request: Request,
    user: Driver,
    database: DatabaseDep,
    settings: SettingsDep,
    clock: ClockDep,
    plate: Annotated[str, Form(max_length=20)] = "",
    kind: Annotated[str, Form(max_length=16)] = "",
    month: Annotated[str, Form(max_length=7)] = "",
    place: Annotated[str, Form(max_length=64)] = "",
    lat: Annotated[str, Form(max_length=32)] = "",
    lon: Annotated[str, Form(max_length=32)] = "",
    coords: Annotated[str, Form(max_length=8)] = "",
    max_walk: Annotated[str, Form(max_length=8)] = "",
    csrf_token: Text = "",
) -> Response:
    check_form(request, user, csrf_token)
    form = PassForm(plate, kind, month, place, lat, lon, coords or "wgs84", max_walk)

    def work(session: Session) -> str:
        application = pass_request(form, user)
        access.require_plate(user, session, application.plate)
        return passes.apply(session, application, clock=clock).ref

    try:
        ref = write(database, work)
    except ParkshareError as refusal:
        with database.session() as session:
            return _apply_page(
                request,
                session,
                user,
                form,
                clock=clock,
                tile_url=settings.map_tile_url,
                error=explain(choose_language(request), refusal),
                status_code=refusal.status,
            )
    return RedirectResponse(f"/me?applied={ref}#passes", status_code=303)
