"""The city dashboard, for administrators: the programme's targets the way the West Coast
article states them, networking and live states on a map, the utilisation of shared berths,
onboarding from a spreadsheet (``city_import``) and the exports; and one car park's page."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse

from parkshare.accounts.deps import require_page
from parkshare.accounts.principal import Principal, Role
from parkshare.clock import Clock
from parkshare.deps import ClockDep, SessionDep, SettingsDep
from parkshare.errors import ParkshareError
from parkshare.geo import CoordSystem
from parkshare.lots.service import get_lot
from parkshare.reports.utilisation import utilisation_report, yesterday
from parkshare.schedules.rules import SHANGHAI
from parkshare.schedules.service import peak_shared_berths
from parkshare.web import city_import
from parkshare.web.city_view import (
    area_name,
    lot_name,
    lot_now,
    markers,
    network,
    number,
    programme,
    statement,
    target_year,
    thresholds,
    use_view,
)
from parkshare.web.i18n import choose_language
from parkshare.web.map import build_map
from parkshare.web.render import render

router = APIRouter()
router.include_router(city_import.router)
Admin = Annotated[Principal, Depends(require_page(Role.ADMIN))]


def _day(text: str, default: date) -> date:
    """A date typed in the range form; what does not read as one is the default."""
    try:
        return date.fromisoformat(text[:10]) if text else default
    except ValueError:
        return default


def _year(text: str) -> int | None:
    return int(text) if len(text) == 4 and text.isdigit() and 2000 <= int(text) <= 2100 else None


def _local(clock: Clock) -> str:
    return f"{clock.now().astimezone(SHANGHAI):%Y-%m-%d %H:%M}"


@router.get("/city", response_class=HTMLResponse)
def dashboard(
    request: Request,
    user: Admin,
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
    start: Annotated[str, Query(alias="from")] = "",
    end: Annotated[str, Query(alias="to")] = "",
    year: str = "",
) -> HTMLResponse:
    lang = choose_language(request)
    now = clock.now()
    plan = programme(session, target_year(session, now.astimezone(SHANGHAI).date(), _year(year)))
    status = network(session, now=now, settings=settings)
    view = build_map(markers(status.lots, lang), tile_url=settings.map_tile_url)
    first = _day(start, yesterday(clock))
    last = _day(end, first)
    use, use_error = None, None
    try:
        use = use_view(utilisation_report(session, first, last, clock=clock), lang)
    except ParkshareError as refusal:  # a range the wrong way round, too long, no calendar
        use_error = refusal
    stale, offline = thresholds(settings)
    return render(
        request,
        "city/dashboard.html",
        status_code=use_error.status if use_error else 200,
        plan=plan,
        statements=[statement(line, lang) for line in plan.lines],
        status=status,
        number=number,
        view=view,
        as_of=_local(clock),
        stale_minutes=int(stale.total_seconds() // 60),
        offline_minutes=int(offline.total_seconds() // 60),
        first=first.isoformat(),
        last=last.isoformat(),
        use=use,
        use_error=use_error,
        area_name=area_name,
        limit=city_import.LIMIT_TEXT,
        coords=CoordSystem,
    )


@router.get("/city/lots/{code}", response_class=HTMLResponse)
def lot_page(
    request: Request,
    code: str,
    user: Admin,
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
) -> HTMLResponse:
    lang = choose_language(request)
    lot = get_lot(session, code[:40])
    now_state = lot_now(session, lot, now=clock.now(), settings=settings)
    day = yesterday(clock)
    report = utilisation_report(session, day, day, clock=clock, codes=[lot.code])
    view = build_map(markers((now_state,), lang), tile_url=settings.map_tile_url)
    last_data = now_state.live.last_data_at
    return render(
        request,
        "city/lot.html",
        lot=lot,
        name=lot_name(lot, lang),
        area=area_name(lot.area, lot.area_en, lang),
        operator=lot.operator.name_en
        if lang == "en" and lot.operator.name_en
        else lot.operator.name,
        shared=number(peak_shared_berths(lot)),
        now_state=now_state,
        last_data=f"{last_data.astimezone(SHANGHAI):%Y-%m-%d %H:%M}" if last_data else "—",
        number=number,
        view=view,
        day=day.isoformat(),
        use=use_view(report, lang) if report.lots else None,
    )
