import re
from collections import Counter
from itertools import combinations

import pytest
from shapely.geometry import MultiPolygon, Point

from parkshare.demo.sites import (
    AREAS,
    BERTH_CATEGORIES,
    LANDMARKS,
    Site,
    SiteKind,
    Use,
    huangdao_boundary,
    west_coast_sites,
)
from parkshare.geo import haversine_m

INSTITUTIONAL_USES = {Use.GOVERNMENT, Use.PUBLIC_INSTITUTION, Use.STATE_ENTERPRISE}
SHARED_RANGE = {
    Use.MALL: (200, 600),
    Use.HOTEL: (60, 250),
    Use.OFFICE: (80, 350),
    **dict.fromkeys(INSTITUTIONAL_USES, (40, 200)),
}


@pytest.fixture(scope="module")
def sites() -> list[Site]:
    return west_coast_sites()


def _shared(site: Site) -> int:
    return sum(site.shared_berths.values())


def _of_kind(sites: list[Site], kind: SiteKind) -> list[Site]:
    return [s for s in sites if s.kind is kind]


def test_institutional_sites_share_exactly_2940_berths(sites: list[Site]) -> None:
    institutional = _of_kind(sites, SiteKind.INSTITUTIONAL)

    assert len(institutional) == 32
    assert sum(_shared(s) for s in institutional) == 2_940
    assert {s.use for s in institutional} <= INSTITUTIONAL_USES


def test_commercial_sites_share_exactly_14623_berths(sites: list[Site]) -> None:
    commercial = _of_kind(sites, SiteKind.COMMERCIAL)

    assert len(commercial) == 85
    assert sum(_shared(s) for s in commercial) == 14_623
    assert {s.use for s in commercial} == {Use.MALL, Use.HOTEL, Use.OFFICE}


def test_codes_are_numbered_per_kind(sites: list[Site]) -> None:
    codes = [s.code for s in sites]

    assert codes == [f"HD-I-{n:03d}" for n in range(1, 33)] + [
        f"HD-C-{n:03d}" for n in range(1, 86)
    ]
    assert all(s.code.startswith("HD-I-") == (s.kind is SiteKind.INSTITUTIONAL) for s in sites)


def test_names_are_unique_in_both_languages(sites: list[Site]) -> None:
    assert len({s.name_zh for s in sites}) == len(sites)
    assert len({s.name_en for s in sites}) == len(sites)


def test_two_calls_return_equal_sites() -> None:
    assert west_coast_sites() == west_coast_sites()


def test_shared_berths_fit_inside_the_car_park(sites: list[Site]) -> None:
    for site in sites:
        assert set(site.shared_berths) == set(BERTH_CATEGORIES), site.code
        assert all(count >= 0 for count in site.shared_berths.values()), site.code
        assert _shared(site) <= site.total_berths, site.code


def test_shared_berths_are_sized_by_use(sites: list[Site]) -> None:
    for site in sites:
        low, high = SHARED_RANGE[site.use]
        assert low <= _shared(site) <= high, site.code


def test_ev_charging_is_5_to_15_percent_and_accessible_about_2_percent(
    sites: list[Site],
) -> None:
    for site in sites:
        shared = _shared(site)
        ev_charging = site.shared_berths["ev_charging"]
        accessible = site.shared_berths["accessible"]
        assert round(0.05 * shared) <= ev_charging <= round(0.15 * shared), site.code
        assert accessible >= 1, site.code
        assert abs(accessible - 0.02 * shared) <= 1, site.code


def test_every_site_is_on_land_inside_huangdao(sites: list[Site]) -> None:
    boundary = huangdao_boundary()

    for site in sites:
        assert boundary.contains(Point(site.lon, site.lat)), site.code


def test_sites_cluster_around_their_area_centre(sites: list[Site]) -> None:
    areas = {a.name_zh: a for a in AREAS}

    for site in sites:
        area = areas[site.area_zh]
        assert site.area_en == area.name_en
        distance = haversine_m(site.lon, site.lat, area.lon, area.lat)
        assert distance <= 2.5 * area.spread_km * 1_000 * 1.01, site.code


def test_sites_are_at_least_150_m_apart(sites: list[Site]) -> None:
    for a, b in combinations(sites, 2):
        assert haversine_m(a.lon, a.lat, b.lon, b.lat) >= 150, (a.code, b.code)


def test_urban_areas_hold_most_commercial_sites(sites: list[Site]) -> None:
    urban = {a.name_zh for a in AREAS if a.urban}
    commercial = _of_kind(sites, SiteKind.COMMERCIAL)

    in_urban = sum(s.area_zh in urban for s in commercial)

    assert in_urban / len(commercial) >= 0.8


def test_several_commercial_sites_share_an_operator(sites: list[Site]) -> None:
    operators = Counter(s.operator_zh for s in _of_kind(sites, SiteKind.COMMERCIAL))

    assert 5 <= len(operators) < 20
    assert operators.most_common(1)[0][1] >= 5


def test_institutional_sites_are_operated_by_the_unit_itself(sites: list[Site]) -> None:
    for site in _of_kind(sites, SiteKind.INSTITUTIONAL):
        unit = site.operator_zh.removeprefix("青岛").removeprefix("市黄岛区")
        unit = unit.removesuffix("有限公司")
        assert site.name_zh.startswith(unit), site.code


def test_areas_are_real_subdistricts_and_towns(sites: list[Site]) -> None:
    for site in sites:
        assert site.area_zh.endswith(("街道", "镇")), site.code
        assert site.area_en.endswith((" Subdistrict", " Town")), site.code
        assert site.address_zh.startswith(f"青岛市黄岛区{site.area_zh}"), site.code


def test_contact_phones_are_unique_qingdao_landlines(sites: list[Site]) -> None:
    phones = [s.contact_phone for s in sites]

    assert all(re.fullmatch(r"0532-8\d{7}", p) for p in phones)
    assert len(set(phones)) == len(phones)


def test_area_centres_and_landmarks_are_inside_the_boundary() -> None:
    boundary = huangdao_boundary()

    assert len(LANDMARKS) >= 8
    for place in [*AREAS, *LANDMARKS]:
        assert boundary.contains(Point(place.lon, place.lat)), place.name_en


def test_boundary_is_the_cached_wgs84_multipolygon() -> None:
    boundary = huangdao_boundary()

    assert isinstance(boundary, MultiPolygon)
    assert len(boundary.geoms) == 14
    assert huangdao_boundary() is boundary
    min_lon, min_lat, max_lon, max_lat = boundary.bounds
    assert (min_lon, min_lat, max_lon, max_lat) == pytest.approx(
        (119.509297, 35.575714, 120.32834, 36.145445), abs=1e-6
    )
