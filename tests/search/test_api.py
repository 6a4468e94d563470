"""GET /api/v1/search on both databases: the answer's shape, GCJ-02, the filters, and every
refusal with its code."""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import datetime

import pytest
from fastapi.testclient import TestClient

from parkshare.app import create_app
from parkshare.clock import FixedClock
from parkshare.db import Database
from parkshare.geo import EARTH_RADIUS_M, wgs84_to_gcj02
from parkshare.lots.model import LotKind
from parkshare.schedules.rules import SHANGHAI
from parkshare.search.rules import WALK_DETOUR_FACTOR, WALK_SPEED_M_PER_MIN, walk_minutes
from tests.factories import API_SETTINGS as SETTINGS
from tests.factories import DAY_NIGHT_TARIFF, make_lot

URL = "/api/v1/search"
CENTRE = (120.18, 35.96)  # lon, lat (WGS-84)
# Friday 2022-06-24: its 18:00 window runs through the weekend to Monday 07:30.
FRIDAY_NIGHT = {"from": "2022-06-24T19:00:00+08:00", "to": "2022-06-25T10:00:00+08:00"}
HERE = {"lon": CENTRE[0], "lat": CENTRE[1], **FRIDAY_NIGHT}


def at(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=SHANGHAI)  # type: ignore[misc]


def east_of_centre(metres: float) -> tuple[float, float]:
    lon, lat = CENTRE
    return lon + math.degrees(metres / (EARTH_RADIUS_M * math.cos(math.radians(lat)))), lat


def serve(database: Database, clock: FixedClock) -> TestClient:
    """Three car parks east of the centre: GOV (300 m, with a tariff), HOME (600 m,
    residential, free) and FAR (2.5 km). Now is Friday 09:00."""
    clock.set(at(2022, 6, 24, 9))
    with database.session(write=True) as session:
        for code, metres, kind, tariff in [
            ("GOV", 300, LotKind.INSTITUTIONAL, DAY_NIGHT_TARIFF),
            ("HOME", 600, LotKind.RESIDENTIAL, None),
            ("FAR", 2_500, LotKind.INSTITUTIONAL, None),
        ]:
            lot = make_lot(session, clock=clock, code=code, kind=kind, tariff=tariff)
            lot.lon, lot.lat = east_of_centre(metres)
    return TestClient(create_app(SETTINGS, database, clock))


@pytest.fixture
def client(database: Database, clock: FixedClock) -> Iterator[TestClient]:
    with serve(database, clock) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def idle(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """One SQLite database for the refusals, which are decided before any car park is read."""
    database = Database(f"sqlite:///{tmp_path_factory.mktemp('idle')}/parkshare.db")
    database.migrate()
    with serve(database, FixedClock(at(2022, 6, 24, 9))) as test_client:
        yield test_client
    database.dispose()


def test_search_answers_the_nearest_car_parks_with_free_berths(client: TestClient) -> None:
    response = client.get(URL, params=HERE)
    assert response.status_code == 200
    body = response.json()
    assert {k: v for k, v in body.items() if k != "items"} == {
        "distance": "straight_line",
        "coords": "wgs84",
        "start": "2022-06-24T19:00:00+08:00",
        "end": "2022-06-25T10:00:00+08:00",
        "category": "ordinary",
        "min_free": 1,
        "radius_m": 2_000,
        "walk": {"detour_factor": WALK_DETOUR_FACTOR, "speed_m_per_min": WALK_SPEED_M_PER_MIN},
    }
    gov, home = body["items"]
    assert gov == {
        "code": "GOV",
        "name": "测试停车场 GOV",
        "name_en": "Test car park GOV",
        "kind": "institutional",
        "area": "长江路街道",
        "lon": round(east_of_centre(300)[0], 7),
        "lat": CENTRE[1],
        "distance_m": 300,
        "walk_minutes": walk_minutes(300),
        "free": 10,
        "price_fen": DAY_NIGHT_TARIFF.fee(at(2022, 6, 24, 19), at(2022, 6, 25, 10)),
        "must_leave_by": "2022-06-27T07:30:00+08:00",
    }
    assert (home["code"], home["distance_m"], home["price_fen"]) == ("HOME", 600, 0)


def test_search_takes_and_answers_gcj02(client: TestClient) -> None:
    lon, lat = wgs84_to_gcj02(*east_of_centre(300))
    body = client.get(URL, params={**HERE, "lon": lon, "lat": lat, "coords": "gcj02"}).json()
    assert body["coords"] == "gcj02"
    first = body["items"][0]
    assert (first["code"], first["distance_m"]) == ("GOV", 0)
    assert (first["lon"], first["lat"]) == pytest.approx((lon, lat), abs=1e-6)


def test_search_filters_by_kind_price_radius_and_limit(client: TestClient) -> None:
    def found(**params: object) -> list[str]:
        response = client.get(URL, params={**HERE, **params})
        assert response.status_code == 200, response.json()
        return [item["code"] for item in response.json()["items"]]

    assert found() == ["GOV", "HOME"]
    assert found(kind="residential") == ["HOME"]
    assert found(max_price=0) == ["HOME"]
    assert found(radius=3_000) == ["GOV", "HOME", "FAR"]
    assert found(radius=3_000, limit=1) == ["GOV"]
    assert found(min_free=11) == []
    assert found(category="ev_charging") == []


def test_search_leaves_out_windows_a_booking_could_not_take(client: TestClient) -> None:
    """Entry at 23:00 falls in Qingdao's quiet hours (22:00–06:00): no car park qualifies."""
    params = {**HERE, "from": "2022-06-24T23:00:00+08:00"}
    assert client.get(URL, params=params).json()["items"] == []


REFUSALS = [
    ("to_not_after_from", {"to": FRIDAY_NIGHT["from"]}, "invalid_interval"),
    ("window_too_long", {"to": "2022-07-05T10:00:00+08:00"}, "invalid_interval"),
    ("from_without_offset", {"from": "2022-06-24T19:00:00"}, "invalid_timestamp"),
    ("from_not_a_timestamp", {"from": "tonight"}, "invalid_timestamp"),
    ("starts_in_the_past", {"from": "2022-06-24T08:00:00+08:00"}, "starts_in_past"),
    (
        "beyond_the_booking_horizon",
        {"from": "2022-07-09T19:00:00+08:00", "to": "2022-07-10T07:00:00+08:00"},
        "too_far_ahead",
    ),
    ("lat_above_90", {"lat": 90.5}, "invalid_input"),
    ("lat_not_a_number", {"lat": "nan"}, "invalid_input"),
    ("lon_below_minus_180", {"lon": -180.5}, "invalid_input"),
    ("radius_too_large", {"radius": 50_001}, "invalid_input"),
    ("radius_zero", {"radius": 0}, "invalid_input"),
    ("min_free_zero", {"min_free": 0}, "invalid_input"),
    ("limit_too_large", {"limit": 51}, "invalid_input"),
    ("max_price_negative", {"max_price": -1}, "invalid_input"),
    ("unknown_kind", {"kind": "airport"}, "invalid_input"),
    ("unknown_coords", {"coords": "bd09"}, "invalid_input"),
    ("unknown_category", {"category": "truck"}, "invalid_input"),
]


@pytest.mark.parametrize(
    ("change", "code"), [r[1:] for r in REFUSALS], ids=[r[0] for r in REFUSALS]
)
def test_search_refuses_bad_input_with_its_code(
    idle: TestClient, change: dict[str, object], code: str
) -> None:
    response = idle.get(URL, params={**HERE, **change})
    assert response.status_code == 422
    assert response.json()["code"] == code


@pytest.mark.parametrize("missing", ["lat", "lon", "from", "to"])
def test_search_refuses_a_request_missing_a_required_parameter(
    idle: TestClient, missing: str
) -> None:
    response = idle.get(URL, params={k: v for k, v in HERE.items() if k != missing})
    assert response.status_code == 422
    assert response.json()["code"] == "invalid_input"
    assert missing in response.json()["message"]


def test_search_beyond_the_official_calendar_is_refused(database: Database) -> None:
    clock = FixedClock(at(2027, 1, 4, 9))
    with database.session(write=True) as session:
        make_lot(session, clock=clock, code="L")  # at the centre
    params = {**HERE, "from": "2027-01-04T19:00:00+08:00", "to": "2027-01-05T07:00:00+08:00"}
    with TestClient(create_app(SETTINGS, database, clock)) as client:
        response = client.get(URL, params=params)
    assert response.status_code == 422
    assert response.json()["code"] == "calendar_not_covered"
