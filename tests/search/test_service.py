"""Search over stored car parks on both databases: nearest first, free over the whole window,
the filters, GCJ-02, and agreement with availability and booking (also on random data)."""

from __future__ import annotations

import math
import random
from datetime import date, datetime, time, timedelta
from typing import Any

import pytest
from sqlalchemy.orm import Session

from parkshare.availability.service import availability_at, lot_availability
from parkshare.calendar import DayType
from parkshare.clock import FixedClock
from parkshare.config import Policy
from parkshare.db import Database
from parkshare.errors import ParkshareError, StartsInPast, TooFarAhead
from parkshare.fees.service import tariff_of
from parkshare.fees.tariff import RatePeriod, Tariff
from parkshare.geo import EARTH_RADIUS_M, CoordSystem, haversine_m, to_wgs84, wgs84_to_gcj02
from parkshare.lots.model import Lot, LotKind, LotStatus
from parkshare.lots.repository import LotRepository
from parkshare.reservations.model import Reservation
from parkshare.reservations.service import ReservationRequest, reserve, suspend_sharing
from parkshare.schedules import presets
from parkshare.schedules import service as schedules
from parkshare.schedules.rules import SHANGHAI, BerthCategory
from parkshare.search.rules import SearchQuery, walk_minutes
from parkshare.search.service import SearchResult, search
from tests.factories import DAY_NIGHT_TARIFF, make_lot

POLICY = Policy()
CENTRE = (120.18, 35.96)  # lon, lat (WGS-84), in Huangdao
PLATES = iter(f"鲁B{n:05d}" for n in range(1, 100_000))
CHEAP = Tariff(rates=(RatePeriod(time(0), 100),))  # 1 yuan an hour


def at(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=SHANGHAI)  # type: ignore[misc]


# Friday 2022-06-24: its 18:00 window runs through the weekend to Monday 07:30.
FRIDAY_NIGHT = (at(2022, 6, 24, 19), at(2022, 6, 25, 10))
MONDAY_MORNING = at(2022, 6, 27, 7, 30)


@pytest.fixture(autouse=True)
def friday_morning(clock: FixedClock) -> None:
    clock.set(at(2022, 6, 24, 9))


def offset(east_m: float, north_m: float) -> tuple[float, float]:
    """The WGS-84 point this far east and north of the centre (small-distance approximation)."""
    lon, lat = CENTRE
    d_lat = math.degrees(north_m / EARTH_RADIUS_M)
    d_lon = math.degrees(east_m / (EARTH_RADIUS_M * math.cos(math.radians(lat))))
    return lon + d_lon, lat + d_lat


def place(
    session: Session, clock: FixedClock, code: str, east: float = 0, north: float = 0, **kw: Any
) -> Lot:
    lot = make_lot(session, clock=clock, code=code, **kw)
    lot.lon, lot.lat = offset(east, north)
    session.flush()
    return lot


def find(
    database: Database,
    clock: FixedClock,
    span: tuple[datetime, datetime] = FRIDAY_NIGHT,
    *,
    point: tuple[float, float] = CENTRE,
    policy: Policy = POLICY,
    **kw: Any,
) -> SearchResult:
    query = SearchQuery(lon=point[0], lat=point[1], start=span[0], end=span[1], **kw)
    with database.session() as session:
        return search(session, query, clock=clock, policy=policy)


def codes(result: SearchResult) -> list[str]:
    return [hit.code for hit in result.hits]


def book(
    database: Database, clock: FixedClock, lot: str, start: datetime, end: datetime
) -> Reservation:
    request = ReservationRequest(lot, next(PLATES), start, end)
    with database.session(write=True) as session:
        booked = reserve(session, request, idempotency_key=None, policy=POLICY, clock=clock)
    assert isinstance(booked, Reservation)
    return booked


def test_nearest_car_parks_come_first(database: Database, clock: FixedClock) -> None:
    with database.session(write=True) as session:
        place(session, clock, "FAR", east=300)
        place(session, clock, "NEAR", north=100)
        place(session, clock, "MID", east=-200)
    result = find(database, clock)
    assert codes(result) == ["NEAR", "MID", "FAR"]
    assert [round(hit.distance_m) for hit in result.hits] == [100, 200, 300]
    assert [hit.walk_minutes for hit in result.hits] == [
        walk_minutes(h.distance_m) for h in result.hits
    ]


def test_car_parks_at_the_same_distance_are_ordered_by_code(
    database: Database, clock: FixedClock
) -> None:
    with database.session(write=True) as session:
        place(session, clock, "B", east=100)
        place(session, clock, "A", east=100)
    assert codes(find(database, clock)) == ["A", "B"]


def test_limit_keeps_only_the_nearest(database: Database, clock: FixedClock) -> None:
    with database.session(write=True) as session:
        for n in range(5):
            place(session, clock, f"L{n}", east=100 * (n + 1))
    assert codes(find(database, clock, limit=2)) == ["L0", "L1"]


def test_a_car_park_full_for_part_of_the_window_is_left_out(
    database: Database, clock: FixedClock
) -> None:
    with database.session(write=True) as session:
        place(session, clock, "ONE", east=100, shared_berths=1)
        place(session, clock, "TWO", east=200, shared_berths=2)
    book(database, clock, "ONE", at(2022, 6, 24, 20), at(2022, 6, 24, 21))
    book(database, clock, "TWO", at(2022, 6, 24, 20), at(2022, 6, 24, 21))
    whole_night = find(database, clock)
    assert codes(whole_night) == ["TWO"]
    assert whole_night.hits[0].free == 1
    after_the_bookings = find(database, clock, (at(2022, 6, 24, 21), at(2022, 6, 25, 10)))
    assert [(h.code, h.free) for h in after_the_bookings.hits] == [("ONE", 1), ("TWO", 2)]


def test_min_free_asks_for_that_many_berths_over_the_whole_window(
    database: Database, clock: FixedClock
) -> None:
    with database.session(write=True) as session:
        place(session, clock, "THREE", east=100, shared_berths=3)
        place(session, clock, "FIVE", east=200, shared_berths=5)
    book(database, clock, "THREE", at(2022, 6, 25, 8), at(2022, 6, 25, 9))
    assert codes(find(database, clock, min_free=3)) == ["FIVE"]
    assert codes(find(database, clock, min_free=2)) == ["THREE", "FIVE"]
    assert codes(find(database, clock, min_free=6)) == []


def test_free_and_must_leave_by_are_what_availability_answers(
    database: Database, clock: FixedClock
) -> None:
    with database.session(write=True) as session:
        place(session, clock, "L", east=100, shared_berths=4)
    book(database, clock, "L", at(2022, 6, 24, 21), at(2022, 6, 25, 9))
    (hit,) = find(database, clock).hits
    with database.session() as session:
        answer = lot_availability(session, "L", *FRIDAY_NIGHT)
    assert (
        (hit.free, hit.must_leave_by) == (answer.free, answer.must_leave_by) == (3, MONDAY_MORNING)
    )


def test_kind_keeps_only_car_parks_of_that_kind(database: Database, clock: FixedClock) -> None:
    with database.session(write=True) as session:
        place(session, clock, "GOV", east=100, kind=LotKind.INSTITUTIONAL)
        place(session, clock, "HOME", east=200, kind=LotKind.RESIDENTIAL)
    assert codes(find(database, clock, kind=LotKind.RESIDENTIAL)) == ["HOME"]
    assert codes(find(database, clock, kind=LotKind.COMMERCIAL)) == []


def test_price_is_the_tariff_fee_for_the_window_and_max_price_filters(
    database: Database, clock: FixedClock
) -> None:
    with database.session(write=True) as session:
        place(session, clock, "DEAR", east=100, tariff=DAY_NIGHT_TARIFF)
        place(session, clock, "CHEAP", east=200, tariff=CHEAP)
        place(session, clock, "FREE", east=300)  # no tariff: booking estimates 0
    dear, cheap = DAY_NIGHT_TARIFF.fee(*FRIDAY_NIGHT), CHEAP.fee(*FRIDAY_NIGHT)
    assert cheap < dear
    every = find(database, clock)
    assert [(h.code, h.price_fen) for h in every.hits] == [
        ("DEAR", dear),
        ("CHEAP", cheap),
        ("FREE", 0),
    ]
    assert codes(find(database, clock, max_price_fen=cheap)) == ["CHEAP", "FREE"]
    assert codes(find(database, clock, max_price_fen=0)) == ["FREE"]


def test_radius_leaves_out_car_parks_further_away(database: Database, clock: FixedClock) -> None:
    with database.session(write=True) as session:
        place(session, clock, "IN", north=1_900)
        place(session, clock, "CORNER", east=1_500, north=1_500)  # 2.1 km: inside the box
    assert codes(find(database, clock)) == ["IN"]
    assert codes(find(database, clock, radius_m=2_200)) == ["IN", "CORNER"]
    assert codes(find(database, clock, radius_m=1_000)) == []


def test_car_parks_not_online_or_not_sharing_then_are_left_out(
    database: Database, clock: FixedClock
) -> None:
    with database.session(write=True) as session:
        place(session, clock, "ONBOARDING", east=100, status=LotStatus.ONBOARDING)
        place(session, clock, "SUSPENDED", east=200, status=LotStatus.SUSPENDED)
        place(session, clock, "HOTEL", east=300, rules=presets.hotel({BerthCategory.ORDINARY: 5}))
        place(session, clock, "NIGHTS", east=400)
    assert codes(find(database, clock)) == ["NIGHTS"]
    assert codes(find(database, clock, (at(2022, 6, 24, 10), at(2022, 6, 24, 17)))) == ["HOTEL"]


def test_a_suspended_window_is_left_out(database: Database, clock: FixedClock) -> None:
    with database.session(write=True) as session:
        place(session, clock, "L", east=100)
        place(session, clock, "M", east=200)
    with database.session(write=True) as session:
        suspend_sharing(
            session,
            "L",
            start=at(2022, 6, 25, 8),
            resume=at(2022, 6, 25, 12),
            reason="消防检查",
            emergency=True,
            min_notice=timedelta(0),
            clock=clock,
        )
    assert codes(find(database, clock)) == ["M"]


def test_query_point_and_locations_in_gcj02(database: Database, clock: FixedClock) -> None:
    with database.session(write=True) as session:
        lot = place(session, clock, "L", east=700)
        lon, lat = lot.lon, lot.lat
        place(session, clock, "CENTRE")
    gcj = wgs84_to_gcj02(lon, lat)
    (hit, centre) = find(database, clock, point=gcj, coords=CoordSystem.GCJ02).hits
    assert hit.code == "L"
    assert hit.distance_m < 0.01
    assert (hit.lon, hit.lat) == pytest.approx(gcj, abs=1e-9)
    assert (centre.lon, centre.lat) == pytest.approx(wgs84_to_gcj02(*CENTRE), abs=1e-9)
    # The same numbers read as WGS-84 are a few hundred metres off: the datum matters.
    (as_wgs84, *_) = find(database, clock, point=gcj).hits
    assert as_wgs84.distance_m > 100
    assert (as_wgs84.lon, as_wgs84.lat) == pytest.approx((lon, lat), abs=1e-9)


def test_a_car_park_found_can_be_booked_until_its_last_berth_is_taken(
    database: Database, clock: FixedClock
) -> None:
    with database.session(write=True) as session:
        place(session, clock, "L", east=100, shared_berths=1, tariff=CHEAP)
    (hit,) = find(database, clock).hits
    booked = book(database, clock, "L", *FRIDAY_NIGHT)
    assert (booked.price_estimate_fen, booked.must_leave_by) == (hit.price_fen, hit.must_leave_by)
    assert find(database, clock).hits == ()


def test_the_booking_rules_on_when_a_window_may_start_apply(
    database: Database, clock: FixedClock
) -> None:
    with pytest.raises(StartsInPast):
        find(database, clock, (at(2022, 6, 24, 8), at(2022, 6, 24, 10)))
    short = Policy(booking_horizon=timedelta(days=2))
    with pytest.raises(TooFarAhead):
        find(database, clock, (at(2022, 6, 27, 19), at(2022, 6, 28, 7)), policy=short)


# --- random car parks, random bookings, random queries: search equals brute force


RULES = [presets.qingdao_institutional, presets.office, presets.hotel]


def random_lots(database: Database, clock: FixedClock, rng: random.Random) -> list[str]:
    with database.session(write=True) as session:
        schedules.override_day(
            session, date(2022, 6, 27), DayType.HOLIDAY, note="台风", clock=clock
        )
        for n in range(30):
            shared = rng.randint(1, 3)
            place(
                session,
                clock,
                f"R{n:02d}",
                east=rng.uniform(-3_000, 3_000),
                north=rng.uniform(-3_000, 3_000),
                kind=rng.choice(list(LotKind)),
                shared_berths=shared,
                rules=rng.choice(RULES)({BerthCategory.ORDINARY: shared}),
                quiet_hours=rng.choice([presets.QINGDAO_QUIET_HOURS, None]),
                status=rng.choices(list(LotStatus), weights=[1, 8, 1])[0],
                tariff=rng.choice([None, CHEAP, DAY_NIGHT_TARIFF]),
            )
    return [f"R{n:02d}" for n in range(30)]


def random_bookings(
    database: Database, clock: FixedClock, rng: random.Random, lots: list[str]
) -> int:
    booked = 0
    for _ in range(60):
        start = at(2022, 6, 24, 10) + timedelta(hours=rng.randint(0, 60))
        end = start + timedelta(hours=rng.randint(1, 14))
        try:
            book(database, clock, rng.choice(lots), start, end)
            booked += 1
        except ParkshareError:
            continue  # full, closed or not servable: refused bookings are part of the data
    return booked


def random_query(rng: random.Random) -> SearchQuery:
    point = offset(rng.uniform(-1_000, 1_000), rng.uniform(-1_000, 1_000))
    coords = rng.choice(list(CoordSystem))
    if coords is CoordSystem.GCJ02:
        point = wgs84_to_gcj02(*point)
    start = at(2022, 6, 24, 10) + timedelta(minutes=30 * rng.randint(0, 140))
    return SearchQuery(
        lon=point[0],
        lat=point[1],
        start=start,
        end=start + timedelta(minutes=30 * rng.randint(1, 60)),
        min_free=rng.randint(1, 3),
        radius_m=rng.randint(300, 4_500),
        kind=rng.choice([None, None, *LotKind]),
        max_price_fen=rng.choice([None, None, rng.randint(0, 3_000)]),
        limit=rng.randint(1, 30),
        coords=coords,
        category=rng.choices(list(BerthCategory), weights=[8, 1, 1])[0],
    )


def brute_force(session: Session, query: SearchQuery) -> list[tuple[object, ...]]:
    """Every car park measured and asked ``availability_at`` directly; nearest ``limit``."""
    lon, lat = to_wgs84(query.lon, query.lat, query.coords)
    found = []
    for lot in LotRepository(session).all_with_rules():
        distance = haversine_m(lon, lat, lot.lon, lot.lat)
        tariff = tariff_of(lot)
        price = tariff.fee(query.start, query.end) if tariff else 0
        if distance > query.radius_m or query.kind not in (None, lot.kind):
            continue
        if query.max_price_fen is not None and price > query.max_price_fen:
            continue
        answer = availability_at(
            session,
            lot,
            query.start,
            query.end,
            category=query.category,
            horizon_days=POLICY.window_horizon_days,
        )
        if answer.servable and answer.free >= query.min_free:
            found.append((distance, lot.code, answer.free, price, answer.must_leave_by))
    return sorted(found)[: query.limit]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_search_equals_brute_force_over_all_car_parks(
    database: Database, clock: FixedClock, seed: int
) -> None:
    rng = random.Random(seed)
    lots = random_lots(database, clock, rng)
    assert random_bookings(database, clock, rng, lots) >= 10
    answered = 0
    for _ in range(25):
        query = random_query(rng)
        with database.session() as session:
            hits = search(session, query, clock=clock, policy=POLICY).hits
            expected = brute_force(session, query)
        got = [(h.distance_m, h.code, h.free, h.price_fen, h.must_leave_by) for h in hits]
        assert got == expected, query
        answered += bool(hits)
    assert answered >= 5  # the random data is not so sparse that every answer is empty
