"""Search: the nearest car parks with enough shared berths free over a whole interval.

Candidates come out of a bounding box in SQL, are measured exactly (straight line, WGS-84)
and taken nearest first (ties by code). Each is asked the question booking asks,
``availability_at`` with the same calendar and horizon, until ``limit`` car parks qualify; so a
car park in the answer is one a booking of ``min_free`` berths would be granted at that moment.
A spatial and time-grid index can later stand behind ``search`` without changing it.

Search reads; it never locks. So it builds each car park's values with ``profile_of`` rather
than ``LotProfiles.locked`` (which takes the row lock booking decides under), and its answer
is what booking would decide at the moment of the search, not a hold on a berth.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from sqlalchemy.orm import Session

from parkshare.availability.service import availability_at
from parkshare.calendar import OfficialCalendar
from parkshare.clock import Clock
from parkshare.config import Policy
from parkshare.fees.tariff import Tariff
from parkshare.geo import from_wgs84, haversine_m, to_wgs84
from parkshare.lots.model import Lot, LotKind, LotStatus
from parkshare.lots.profiles import profile_of
from parkshare.reservations.service import CLOCK_SKEW
from parkshare.schedules import service as schedules
from parkshare.schedules.rules import BerthCategory
from parkshare.search.index import Candidate, IndexedLot, SearchIndex
from parkshare.search.repository import Place, SearchRepository
from parkshare.search.rules import (
    SearchQuery,
    bounding_box,
    check_query,
    check_times,
    walk_minutes,
)

# Candidates are loaded with their schedules this many (or ``limit``) at a time.
BATCH = 20


@dataclass(frozen=True)
class SearchHit:
    code: str
    name: str
    name_en: str
    kind: LotKind
    area: str
    lon: float  # in the query's ``coords``
    lat: float
    distance_m: float  # straight line from the query point
    walk_minutes: int  # see ``rules.walk_minutes``: an estimate, not a route
    free: int  # least free shared berths of the query's category over the whole interval
    price_fen: int  # the tariff's fee for the interval, as booking estimates it (0: no tariff)
    must_leave_by: datetime | None  # end of the window holding the start; None: past the horizon


@dataclass(frozen=True)
class SearchResult:
    query: SearchQuery
    hits: tuple[SearchHit, ...]


def search(
    session: Session,
    query: SearchQuery,
    *,
    clock: Clock,
    policy: Policy,
    index: SearchIndex | None = None,
) -> SearchResult:
    """The ``query.limit`` nearest online car parks within ``query.radius_m`` that have
    ``query.min_free`` shared berths free over all of [start, end) and match the filters.
    With an ``index`` (caught up by the caller), car parks are found and, where the index
    can, answered from it; the rest are asked exactly as below."""
    check_query(query)
    check_times(
        query.start, now=clock.now(), skew=CLOCK_SKEW, booking_horizon=policy.booking_horizon
    )
    lon, lat = to_wgs84(query.lon, query.lat, query.coords)
    if index is not None and query.category is BerthCategory.ORDINARY:
        return _search_indexed(session, index, query, lon, lat, policy=policy)
    repository = SearchRepository(session)
    box = bounding_box(lon, lat, query.radius_m)
    nearest = _nearest(repository.online_in(box, kind=query.kind), lon, lat, query.radius_m)
    calendar = schedules.calendar(session)
    hits: list[SearchHit] = []
    for batch in _batches(nearest, max(BATCH, query.limit)):
        lots = repository.with_schedules([place.lot_id for _, place in batch])
        for distance, place in batch:
            lot = lots.get(place.lot_id)
            if lot is None:
                continue
            hit = _hit(session, lot, distance, query, calendar=calendar, policy=policy)
            if hit is not None:
                hits.append(hit)
                if len(hits) == query.limit:
                    return SearchResult(query, tuple(hits))
    return SearchResult(query, tuple(hits))


def _search_indexed(
    session: Session,
    index: SearchIndex,
    query: SearchQuery,
    lon: float,
    lat: float,
    *,
    policy: Policy,
) -> SearchResult:
    slots = index.slot_range(query.start, query.end)
    found = index.candidates(
        lon, lat, query.radius_m, kind=query.kind, slots=slots, min_free=query.min_free
    )
    repository = SearchRepository(session)
    calendar: OfficialCalendar | None = None
    hits: list[SearchHit] = []
    for candidate in found:
        entry = candidate.lot
        if candidate.answered:
            hit = _answered(candidate, query)
        else:  # the database decides, as without the index
            calendar = calendar or schedules.calendar(session)
            lot = repository.with_schedules([entry.id]).get(entry.id)
            if lot is None or lot.status is not LotStatus.ONLINE:
                continue
            hit = _hit(session, lot, candidate.distance_m, query, calendar=calendar, policy=policy)
        if hit is not None:
            hits.append(hit)
            if len(hits) == query.limit:
                break
    return SearchResult(query, tuple(hits))


def _answered(candidate: Candidate, query: SearchQuery) -> SearchHit | None:
    """A hit from the index's answer: the quiet hours and the price are checked here."""
    entry = candidate.lot
    schedule = entry.profile.schedule
    quiet = schedule.quiet_hours
    if quiet and (
        quiet.forbids_entry_at(query.start, schedule.tz)
        or quiet.forbids_exit_at(query.end, schedule.tz)
    ):
        return None
    tariff = entry.profile.tariff
    price = _fee(tariff, query.start, query.end) if tariff else 0
    if query.max_price_fen is not None and price > query.max_price_fen:
        return None
    return _search_hit(
        entry,
        candidate.distance_m,
        query,
        free=candidate.free,
        price_fen=price,
        must_leave_by=candidate.must_leave_by,
    )


def _search_hit(
    lot: Lot | IndexedLot,
    distance: float,
    query: SearchQuery,
    *,
    free: int,
    price_fen: int,
    must_leave_by: datetime | None,
) -> SearchHit:
    """The answer for one car park, in the query's datum (the index's or the database's)."""
    lon, lat = from_wgs84(lot.lon, lot.lat, query.coords)
    return SearchHit(
        code=lot.code,
        name=lot.name,
        name_en=lot.name_en,
        kind=lot.kind,
        area=lot.area,
        lon=lon,
        lat=lat,
        distance_m=distance,
        walk_minutes=walk_minutes(distance),
        free=free,
        price_fen=price_fen,
        must_leave_by=must_leave_by,
    )


@lru_cache(maxsize=65_536)
def _fee(tariff: Tariff, start: datetime, end: datetime) -> int:
    """A tariff's fee for an interval: car parks share tariffs and drivers share the same few
    windows (tonight, this weekend), so most fees were worked out for an earlier search."""
    return tariff.fee(start, end)


def _nearest(
    places: list[Place], lon: float, lat: float, radius_m: float
) -> list[tuple[float, Place]]:
    measured = [(haversine_m(lon, lat, p.lon, p.lat), p) for p in places]
    return sorted(
        ((d, p) for d, p in measured if d <= radius_m), key=lambda pair: (pair[0], pair[1].code)
    )


def _batches(
    items: Sequence[tuple[float, Place]], size: int
) -> Iterator[Sequence[tuple[float, Place]]]:
    for first in range(0, len(items), size):
        yield items[first : first + size]


def _hit(
    session: Session,
    lot: Lot,
    distance: float,
    query: SearchQuery,
    *,
    calendar: OfficialCalendar,
    policy: Policy,
) -> SearchHit | None:
    profile = profile_of(lot)
    price = profile.tariff.fee(query.start, query.end) if profile.tariff else 0
    if query.max_price_fen is not None and price > query.max_price_fen:
        return None
    answer = availability_at(
        session,
        profile,
        query.start,
        query.end,
        category=query.category,
        horizon_days=policy.window_horizon_days,
        calendar=calendar,
    )
    if not answer.servable or answer.free < query.min_free:
        return None
    return _search_hit(
        lot, distance, query, free=answer.free, price_fen=price, must_leave_by=answer.must_leave_by
    )
