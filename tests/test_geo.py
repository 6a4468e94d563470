import json
import math
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from parkshare.geo import (
    CoordSystem,
    from_wgs84,
    gcj02_to_wgs84,
    haversine_m,
    out_of_china,
    to_wgs84,
    wgs84_to_gcj02,
)

GCJ02_BOUNDARY = Path(__file__).parent / "demo" / "huangdao-boundary.gcj02.geojson"

china_lon = st.floats(min_value=72.004, max_value=137.8347)
china_lat = st.floats(min_value=0.8293, max_value=55.8271)


def _rings(geojson: dict[str, Any]) -> list[list[list[float]]]:
    """Every ring of the collection's (multi)polygons, in file order."""
    rings = []
    for feature in geojson["features"]:
        for polygon in feature["geometry"]["coordinates"]:
            rings.extend(polygon)
    return rings


@settings(max_examples=500, database=None, derandomize=True)
@given(lon=china_lon, lat=china_lat)
def test_gcj02_to_wgs84_inverts_wgs84_to_gcj02_exactly(lon: float, lat: float) -> None:
    gcj_lon, gcj_lat = wgs84_to_gcj02(lon, lat)
    # Near the east and north edges the shift can leave the rectangle: such points are
    # ambiguous (identity or shifted) and are read back as outside China.
    assume(not out_of_china(gcj_lon, gcj_lat))

    back_lon, back_lat = gcj02_to_wgs84(gcj_lon, gcj_lat)

    assert back_lon == pytest.approx(lon, abs=1e-8)
    assert back_lat == pytest.approx(lat, abs=1e-8)


@settings(max_examples=200, database=None, derandomize=True)
@given(lon=china_lon, lat=china_lat)
def test_wgs84_to_gcj02_shifts_by_at_most_a_kilometre_or_so(lon: float, lat: float) -> None:
    gcj_lon, gcj_lat = wgs84_to_gcj02(lon, lat)

    assert haversine_m(lon, lat, gcj_lon, gcj_lat) < 1_500


def test_wgs84_to_gcj02_matches_the_published_reference_value() -> None:
    # The value printed by the widely used coordtransform library for the same input.
    assert wgs84_to_gcj02(116.404, 39.915) == pytest.approx(
        (116.41024449916938, 39.91640428150164), abs=1e-12
    )


def test_gcj02_to_wgs84_is_exact_where_the_one_step_approximation_is_not() -> None:
    one_step = (116.39775550083061, 39.91359571849836)  # coordtransform's approximate inverse

    exact = gcj02_to_wgs84(116.404, 39.915)

    forward = wgs84_to_gcj02(*exact)
    assert forward == pytest.approx((116.404, 39.915), abs=1e-9)
    assert haversine_m(*exact, *one_step) > 0.01  # the approximation is centimetres off here


def test_beijing_shift_is_a_few_hundred_metres_to_the_north_east() -> None:
    lon, lat = 116.397128, 39.916527  # WGS-84, Tiananmen

    gcj_lon, gcj_lat = wgs84_to_gcj02(lon, lat)

    assert 100 < haversine_m(lon, lat, gcj_lon, gcj_lat) < 700
    assert gcj_lon > lon
    assert gcj_lat > lat
    assert gcj02_to_wgs84(gcj_lon, gcj_lat) == pytest.approx((lon, lat), abs=1e-9)


def test_gcj02_to_wgs84_converges_at_the_rectangle_west_edge() -> None:
    assert gcj02_to_wgs84(*wgs84_to_gcj02(72.004, 1.0)) == pytest.approx((72.004, 1.0), abs=1e-9)


@pytest.mark.parametrize(
    ("lon", "lat"),
    [(2.3522, 48.8566), (-74.006, 40.7128), (139.6917, 35.6895), (151.2093, -33.8688), (0, 0)],
)
def test_points_outside_china_are_not_shifted(lon: float, lat: float) -> None:
    assert out_of_china(lon, lat)
    assert wgs84_to_gcj02(lon, lat) == (lon, lat)
    assert gcj02_to_wgs84(lon, lat) == (lon, lat)


def test_out_of_china_is_false_inside_the_rectangle() -> None:
    assert not out_of_china(120.2, 35.96)  # Huangdao
    assert not out_of_china(72.004, 0.8293)  # rectangle corners are inside
    assert not out_of_china(137.8347, 55.8271)


def test_to_and_from_wgs84_dispatch_on_coord_system() -> None:
    lon, lat = 120.195, 35.962

    assert to_wgs84(lon, lat, CoordSystem.WGS84) == (lon, lat)
    assert from_wgs84(lon, lat, CoordSystem.WGS84) == (lon, lat)
    assert from_wgs84(lon, lat, CoordSystem.GCJ02) == wgs84_to_gcj02(lon, lat)
    assert to_wgs84(lon, lat, CoordSystem.GCJ02) == gcj02_to_wgs84(lon, lat)
    assert CoordSystem("gcj02") is CoordSystem.GCJ02


def test_haversine_one_degree_of_latitude_is_about_111_km() -> None:
    assert haversine_m(120.0, 35.0, 120.0, 36.0) == pytest.approx(111_195.08, abs=0.01)


def test_haversine_quarter_of_the_equator() -> None:
    assert haversine_m(0, 0, 90, 0) == pytest.approx(math.pi / 2 * 6_371_008.8)
    assert haversine_m(10, 20, 10, 20) == 0


def test_haversine_is_symmetric() -> None:
    there = haversine_m(120.195, 35.962, 119.951, 35.902)

    assert there == haversine_m(119.951, 35.902, 120.195, 35.962)
    assert 22_000 < there < 24_000


def test_huangdao_boundary_converted_to_wgs84_matches_its_gcj02_source() -> None:
    # The WGS-84 demo boundary was converted from the GCJ-02 original by someone else; the
    # exact inverse reproduces every vertex to the 7 decimals it was rounded to (≤ 5.1e-8°).
    gcj02 = json.loads(GCJ02_BOUNDARY.read_text(encoding="utf-8"))
    wgs84_file = resources.files("parkshare.demo").joinpath("data/huangdao-boundary.geojson")
    wgs84 = json.loads(wgs84_file.read_text(encoding="utf-8"))
    gcj02_rings, wgs84_rings = _rings(gcj02), _rings(wgs84)

    assert [len(r) for r in gcj02_rings] == [len(r) for r in wgs84_rings]
    worst = 0.0
    for gcj02_ring, wgs84_ring in zip(gcj02_rings, wgs84_rings, strict=True):
        for (gcj_lon, gcj_lat), (lon, lat) in zip(gcj02_ring, wgs84_ring, strict=True):
            got_lon, got_lat = gcj02_to_wgs84(gcj_lon, gcj_lat)
            worst = max(worst, abs(got_lon - lon), abs(got_lat - lat))
    assert worst < 1e-6
    assert sum(len(r) for r in wgs84_rings) == 1_884
