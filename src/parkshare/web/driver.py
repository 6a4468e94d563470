"""Driver pages (mobile first). This module: ``GET /find``, the search, answered server-side
so its URL can be shared: a place (a landmark, a click on the map or typed coordinates) and a
time (now, tonight, this weekend or custom) give the car parks with a free shared berth over
the whole of it, on a list and a map. The search itself is ``parkshare.search``.

Reserving in two taps is ``driver_reserve``; my reservations and plates ``driver_me``; monthly
passes ``driver_passes``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from parkshare.accounts.deps import PageUser
from parkshare.clock import Clock, parse_instant
from parkshare.config import Policy
from parkshare.deps import ClockDep, PolicyDep, SessionDep, SettingsDep
from parkshare.errors import InvalidInput, InvalidTimestamp, ParkshareError
from parkshare.geo import CoordSystem, to_wgs84
from parkshare.schedules import service as schedules
from parkshare.schedules.rules import SHANGHAI
from parkshare.search.api import current_index
from parkshare.search.index import SearchIndex
from parkshare.search.rules import (
    DEFAULT_RADIUS_M,
    WALK_DETOUR_FACTOR,
    WALK_SPEED_M_PER_MIN,
    NamedWindow,
    SearchQuery,
    named_window,
)
from parkshare.search.service import SearchHit, search
from parkshare.web import driver_me, driver_passes, driver_reserve
from parkshare.web.driver_places import Place, place_of
from parkshare.web.driver_text import Refusal, explain, local_input, span, when, yuan
from parkshare.web.i18n import choose_language
from parkshare.web.landmarks import LANDMARKS
from parkshare.web.map import Marker, build_map
from parkshare.web.render import render

router = APIRouter()
router.include_router(driver_reserve.router)
router.include_router(driver_me.router)
router.include_router(driver_passes.router)

Field = Annotated[str, Query(max_length=64)]
RADII = (500, 1_000, 2_000, 5_000)
WINDOWS = (*(w.value for w in NamedWindow), "custom")


@dataclass(frozen=True)
class FindForm:
    """What the search form sent, as typed (so the page can show it again)."""

    place: str = ""
    lat: str = ""
    lon: str = ""
    coords: str = CoordSystem.WGS84.value
    when: str = NamedWindow.TONIGHT.value
    start: str = ""  # datetime-local, Asia/Shanghai
    end: str = ""
    radius: str = str(DEFAULT_RADIUS_M)

    @property
    def asked(self) -> bool:
        return bool(self.place or self.lat or self.lon)


def window_of(form: FindForm, *, now: datetime, session: Session) -> tuple[datetime, datetime]:
    """Now, tonight, this weekend (the search's named windows) or two local date-times."""
    if form.when != "custom":
        return named_window(form.when, now, calendar=schedules.calendar(session))
    if not form.start or not form.end:
        raise InvalidTimestamp("Choose when you arrive and when you leave.", field="window")
    start = parse_instant(form.start, assume_tz=SHANGHAI, name="from")
    end = parse_instant(form.end, assume_tz=SHANGHAI, name="to")
    return start, end


def radius_of(form: FindForm) -> int:
    try:
        radius = int(form.radius)
    except ValueError:
        return DEFAULT_RADIUS_M
    return radius if radius in RADII else DEFAULT_RADIUS_M


@dataclass(frozen=True)
class Result:
    hit: SearchHit
    name: str
    reserve_href: str
    lon: float  # WGS-84, for the map
    lat: float


@dataclass(frozen=True)
class Answer:
    """The search the form asked for: where, when, and the car parks found (or why not)."""

    place: Place | None = None
    window: tuple[datetime, datetime] | None = None
    results: tuple[Result, ...] = ()
    error: Refusal | None = None


def answer(
    form: FindForm,
    *,
    back: str,
    lang: str,
    session: Session,
    policy: Policy,
    clock: Clock,
    index: SearchIndex | None = None,
) -> Answer:
    if not form.asked:
        return Answer()
    try:
        place = place_of(form.place, form.lat, form.lon, form.coords)
        window = window_of(form, now=clock.now(), session=session)
        query = SearchQuery(
            lon=place.lon,
            lat=place.lat,
            start=window[0],
            end=window[1],
            radius_m=radius_of(form),
            coords=place.coords,
        )
        found = search(session, query, clock=clock, policy=policy, index=index)
    except ParkshareError as refusal:
        return Answer(error=explain(lang, refusal))
    results = tuple(_result(hit, query, lang, back) for hit in found.hits)
    return Answer(place, window, results)


@router.get("/find", response_class=HTMLResponse)
def find_page(
    request: Request,
    user: PageUser,
    session: SessionDep,
    settings: SettingsDep,
    policy: PolicyDep,
    clock: ClockDep,
    place: Field = "",
    lat: Field = "",
    lon: Field = "",
    coords: Field = "",
    when_: Annotated[str, Query(alias="when", max_length=16)] = "",
    start: Annotated[str, Query(alias="from", max_length=64)] = "",
    end: Annotated[str, Query(alias="to", max_length=64)] = "",
    radius: Field = "",
) -> HTMLResponse:
    """The search page; with a place in the query it also shows the answer."""
    lang = choose_language(request)
    form = FindForm(
        place=place.strip(),
        lat=lat.strip(),
        lon=lon.strip(),
        coords=coords or CoordSystem.WGS84.value,
        when=when_ if when_ in WINDOWS else NamedWindow.TONIGHT.value,
        start=start,
        end=end,
        radius=radius or str(DEFAULT_RADIUS_M),
    )
    back = f"{request.url.path}?{request.url.query}"
    index = current_index(request, session, clock)
    found = answer(
        form, back=back, lang=lang, session=session, policy=policy, clock=clock, index=index
    )
    if when_ and not form.asked:  # the form was sent without a place
        found = Answer(error=explain(lang, InvalidInput("Choose a place.", field="place")))
    markers = [
        Marker(r.hit.code, r.name, r.lon, r.lat, state="free", href=f"#lot-{r.hit.code}")
        for r in found.results
    ]
    pin = found.place.wgs84 if found.place else None
    view = build_map(markers, tile_url=settings.map_tile_url, pin=pin, fit_markers=bool(markers))
    window = found.window or named_window(NamedWindow.TONIGHT, clock.now())
    return render(
        request,
        "driver/find.html",
        status_code=422 if found.error else 200,
        form=form,
        landmarks=LANDMARKS,
        radii=RADII,
        windows=WINDOWS,
        chosen=found.place,
        window_text=span(window[0], window[1], lang),
        custom_start=form.start or local_input(window[0]),
        custom_end=form.end or local_input(window[1]),
        results=found.results,
        asked=found.place is not None,
        error=found.error,
        view=view,
        detour=WALK_DETOUR_FACTOR,
        speed_kmh=round(WALK_SPEED_M_PER_MIN * 60 / 1000, 1),
        when=lambda instant: when(instant, lang),
        yuan=yuan,
    )


def _result(hit: SearchHit, query: SearchQuery, lang: str, back: str) -> Result:
    target = urlencode(
        {
            "lot": hit.code,
            "from": query.start.isoformat(),
            "to": query.end.isoformat(),
            "back": back,
        }
    )
    name = hit.name if lang == "zh" or not hit.name_en else hit.name_en
    lon, lat = to_wgs84(hit.lon, hit.lat, query.coords)
    return Result(hit, name, f"/find/reserve?{target}", lon, lat)
