"""Search as pure values: query checks, the bounding box, the walking estimate and the named
windows a driver picks. No database."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from parkshare.calendar import DayType, OfficialCalendar
from parkshare.errors import (
    CalendarNotCovered,
    InvalidInput,
    InvalidInterval,
    InvalidTimestamp,
    StartsInPast,
    TooFarAhead,
)
from parkshare.geo import EARTH_RADIUS_M, haversine_m
from parkshare.schedules.rules import SHANGHAI
from parkshare.search.rules import (
    MAX_LIMIT,
    MAX_RADIUS_M,
    MAX_WINDOW,
    WALK_DETOUR_FACTOR,
    WALK_SPEED_M_PER_MIN,
    NamedWindow,
    SearchQuery,
    bounding_box,
    check_query,
    check_times,
    named_window,
    walk_minutes,
)


def at(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


QUERY = SearchQuery(lon=120.18, lat=35.96, start=at(2022, 6, 24, 19), end=at(2022, 6, 25, 7))


def destination(lon: float, lat: float, bearing: float, distance_m: float) -> tuple[float, float]:
    """The point ``distance_m`` from (lon, lat) along ``bearing`` (radians) on the sphere."""
    angle = distance_m / EARTH_RADIUS_M
    phi, lam = math.radians(lat), math.radians(lon)
    phi2 = math.asin(
        math.sin(phi) * math.cos(angle) + math.cos(phi) * math.sin(angle) * math.cos(bearing)
    )
    lam2 = lam + math.atan2(
        math.sin(bearing) * math.sin(angle) * math.cos(phi),
        math.cos(angle) - math.sin(phi) * math.sin(phi2),
    )
    lon2 = (math.degrees(lam2) + 540.0) % 360.0 - 180.0
    return lon2, math.degrees(phi2)


# --- the query


def test_a_well_formed_query_passes() -> None:
    check_query(QUERY)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"lat": 90.5}, "lat"),
        ({"lat": -91.0}, "lat"),
        ({"lat": math.nan}, "lat"),
        ({"lon": 180.5}, "lon"),
        ({"lon": math.inf}, "lon"),
        ({"radius_m": 0}, "radius"),
        ({"radius_m": MAX_RADIUS_M + 1}, "radius"),
        ({"min_free": 0}, "min_free"),
        ({"limit": 0}, "limit"),
        ({"limit": MAX_LIMIT + 1}, "limit"),
        ({"max_price_fen": -1}, "max_price"),
    ],
    ids=[
        "lat_above_90",
        "lat_below_minus_90",
        "lat_not_a_number",
        "lon_above_180",
        "lon_infinite",
        "radius_zero",
        "radius_too_large",
        "min_free_zero",
        "limit_zero",
        "limit_too_large",
        "max_price_negative",
    ],
)
def test_a_query_out_of_range_is_refused_naming_the_field(
    change: dict[str, float], field: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        check_query(replace(QUERY, **change))  # type: ignore[arg-type]
    assert refused.value.code == "invalid_input"
    assert refused.value.details["field"] == field


def test_a_window_that_ends_before_it_starts_is_refused() -> None:
    with pytest.raises(InvalidInterval):
        check_query(replace(QUERY, end=QUERY.start))


def test_a_window_longer_than_any_sharing_window_is_refused() -> None:
    check_query(replace(QUERY, end=QUERY.start + MAX_WINDOW))
    with pytest.raises(InvalidInterval) as refused:
        check_query(replace(QUERY, end=QUERY.start + MAX_WINDOW + timedelta(minutes=1)))
    assert refused.value.details["max_hours"] == 240


def test_a_window_without_time_zone_is_refused() -> None:
    with pytest.raises(InvalidTimestamp):
        check_query(replace(QUERY, start=datetime(2022, 6, 24, 19)))


def test_a_window_may_start_a_little_before_now_but_not_in_the_past() -> None:
    now = at(2022, 6, 24, 19)
    rules = {"now": now, "skew": timedelta(minutes=5), "booking_horizon": timedelta(days=14)}
    check_times(now - timedelta(minutes=5), **rules)  # type: ignore[arg-type]
    with pytest.raises(StartsInPast):
        check_times(now - timedelta(minutes=6), **rules)  # type: ignore[arg-type]


def test_a_window_beyond_the_booking_horizon_is_refused() -> None:
    now = at(2022, 6, 24, 19)
    rules = {"now": now, "skew": timedelta(minutes=5), "booking_horizon": timedelta(days=14)}
    check_times(now + timedelta(days=14), **rules)  # type: ignore[arg-type]
    with pytest.raises(TooFarAhead) as refused:
        check_times(now + timedelta(days=14, minutes=1), **rules)  # type: ignore[arg-type]
    assert refused.value.details["horizon_days"] == 14


# --- the bounding box


@given(
    lon=st.floats(-179.0, 179.0),
    lat=st.floats(-85.0, 85.0),
    radius=st.floats(1.0, MAX_RADIUS_M),
    bearing=st.floats(0.0, 2 * math.pi),
    fraction=st.floats(0.0, 1.0),
)
def test_the_bounding_box_holds_every_point_within_the_radius(
    lon: float, lat: float, radius: float, bearing: float, fraction: float
) -> None:
    point = destination(lon, lat, bearing, radius * fraction)
    assert bounding_box(lon, lat, radius).contains(*point)


def test_the_bounding_box_holds_the_widest_point_of_the_circle() -> None:
    """At 60° the circle reaches furthest east north of the centre's parallel; the box's
    half-width asin(sin d / cos lat) is a little more than d / cos lat."""
    radius = 50_000.0
    box = bounding_box(0.0, 60.0, radius)
    widest = max(
        (destination(0.0, 60.0, math.radians(b / 10), radius) for b in range(0, 1800)),
        key=lambda p: p[0],
    )
    naive = math.degrees(radius / EARTH_RADIUS_M) / math.cos(math.radians(60.0))
    assert widest[0] > naive
    assert box.contains(*widest)


def test_the_bounding_box_is_tight() -> None:
    box = bounding_box(120.18, 35.96, 2_000)
    for bearing in (0.0, math.pi / 2, math.pi, 3 * math.pi / 2):
        assert not box.contains(*destination(120.18, 35.96, bearing, 2_010))


def test_the_bounding_box_spans_every_longitude_near_a_pole_or_across_the_antimeridian() -> None:
    assert bounding_box(10.0, 89.9, 50_000).min_lon == -180.0
    across = bounding_box(179.99, 0.0, 5_000)
    assert (across.min_lon, across.max_lon) == (-180.0, 180.0)


# --- walking


def test_walk_minutes_add_the_detour_at_walking_speed_rounded_up() -> None:
    assert (WALK_DETOUR_FACTOR, WALK_SPEED_M_PER_MIN) == (1.3, 75.0)
    assert walk_minutes(0.0) == 0
    assert walk_minutes(1_000.0) == math.ceil(1_300 / 75)  # 18
    assert walk_minutes(750.0 / 1.3) == 10


def test_straight_line_distance_is_the_haversine_of_geo() -> None:
    assert haversine_m(120.18, 35.96, 120.18, 35.97) == pytest.approx(1_111.95, abs=0.01)


# --- named windows


def test_now_is_the_next_two_hours() -> None:
    assert named_window("now", at(2022, 6, 24, 15, 20)) == (
        at(2022, 6, 24, 15, 20),
        at(2022, 6, 24, 17, 20),
    )


def test_named_windows_are_in_shanghai_time_whatever_the_clock_says() -> None:
    start, end = named_window(NamedWindow.NOW, datetime(2022, 6, 24, 7, 20, tzinfo=UTC))
    assert start == at(2022, 6, 24, 15, 20)
    assert start.tzinfo is SHANGHAI and end.tzinfo is SHANGHAI


def test_tonight_runs_from_seven_in_the_evening_to_half_past_seven_next_morning() -> None:
    assert named_window("tonight", at(2022, 6, 24, 15)) == (
        at(2022, 6, 24, 19),
        at(2022, 6, 25, 7, 30),
    )


def test_tonight_after_seven_starts_now() -> None:
    assert named_window("tonight", at(2022, 6, 24, 23, 10)) == (
        at(2022, 6, 24, 23, 10),
        at(2022, 6, 25, 7, 30),
    )


def test_tonight_in_the_small_hours_is_the_coming_evening() -> None:
    assert named_window("tonight", at(2022, 6, 25, 1)) == (
        at(2022, 6, 25, 19),
        at(2022, 6, 26, 7, 30),
    )


def test_weekend_is_saturday_morning_to_sunday_evening() -> None:
    assert named_window("weekend", at(2022, 6, 22, 12)) == (  # a Wednesday
        at(2022, 6, 25, 8),
        at(2022, 6, 26, 20),
    )


def test_weekend_under_way_starts_now() -> None:
    assert named_window("weekend", at(2022, 6, 25, 10)) == (
        at(2022, 6, 25, 10),
        at(2022, 6, 26, 20),
    )


def test_weekend_after_its_sunday_evening_is_the_next_one() -> None:
    assert named_window("weekend", at(2022, 6, 26, 20)) == (
        at(2022, 7, 2, 8),
        at(2022, 7, 3, 20),
    )


def test_weekend_before_national_day_is_the_whole_holiday_week() -> None:
    """2022: 1–7 October off, Saturday 8 and Sunday 9 October worked (调休)."""
    assert named_window("weekend", at(2022, 9, 29, 12)) == (
        at(2022, 10, 1, 8),
        at(2022, 10, 7, 20),
    )


def test_weekend_skips_make_up_working_days() -> None:
    assert named_window("weekend", at(2022, 10, 7, 21)) == (
        at(2022, 10, 15, 8),
        at(2022, 10, 16, 20),
    )


def test_weekend_is_a_lone_saturday_when_sunday_is_worked() -> None:
    """2023: Sunday 23 April was a make-up working day for the Labour Day holiday."""
    assert named_window("weekend", at(2023, 4, 21, 12)) == (
        at(2023, 4, 22, 8),
        at(2023, 4, 22, 20),
    )


def test_weekend_follows_the_administrators_overrides() -> None:
    calendar = OfficialCalendar({date(2022, 6, 27): DayType.HOLIDAY})
    assert named_window("weekend", at(2022, 6, 24, 12), calendar=calendar) == (
        at(2022, 6, 25, 8),
        at(2022, 6, 27, 20),
    )


def test_weekend_beyond_the_official_calendar_is_refused() -> None:
    with pytest.raises(CalendarNotCovered):
        named_window("weekend", at(2027, 1, 4, 12))


def test_an_unknown_window_name_is_refused() -> None:
    with pytest.raises(InvalidInput) as refused:
        named_window("lunchtime", at(2022, 6, 24, 12))
    assert refused.value.details["field"] == "window"
