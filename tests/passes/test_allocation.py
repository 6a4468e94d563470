import itertools
import math
import random
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from parkshare.errors import InvalidInput
from parkshare.geo import EARTH_RADIUS_M, haversine_m
from parkshare.passes.allocation import (
    WALK_DETOUR,
    Allocation,
    Applicant,
    Supply,
    allocate_fcfs,
    allocate_optimal,
    haversine_m_array,
    reachable,
)

Allocate = Callable[[Sequence[Applicant], Sequence[Supply]], Allocation]
BOTH = pytest.mark.parametrize("allocate", [allocate_optimal, allocate_fcfs])

# A point in Huangdao; the factories place things by metres east and north of it.
ORIGIN_LON, ORIGIN_LAT = 120.18, 35.96


def _lon_lat(east_m: float, north_m: float) -> tuple[float, float]:
    lat = ORIGIN_LAT + math.degrees(north_m / EARTH_RADIUS_M)
    lon = ORIGIN_LON + math.degrees(east_m / (EARTH_RADIUS_M * math.cos(math.radians(lat))))
    return lon, lat


def make_applicant(
    id: str,
    *,
    east: float = 0.0,
    north: float = 0.0,
    max_walk_m: float = 2000.0,
    order: int = 0,
    eligible: frozenset[str] | None = None,
) -> Applicant:
    lon, lat = _lon_lat(east, north)
    return Applicant(
        id=id, lon=lon, lat=lat, max_walk_m=max_walk_m, applied_at=order, eligible=eligible
    )


def make_supply(lot: str, *, east: float = 0.0, north: float = 0.0, quota: int = 1) -> Supply:
    lon, lat = _lon_lat(east, north)
    return Supply(lot=lot, lon=lon, lat=lat, quota=quota)


def walk_m(applicant: Applicant, supply: Supply) -> float:
    return haversine_m(applicant.lon, applicant.lat, supply.lon, supply.lat) * WALK_DETOUR


def assert_feasible(
    allocation: Allocation, applicants: list[Applicant], supply: list[Supply]
) -> None:
    """Quotas, walking limits and preferred lists hold, and the totals add up."""
    by_id = {a.id: a for a in applicants}
    by_lot = {s.lot: s for s in supply}
    for lot, taken in itertools.groupby(sorted(allocation.assignments.values())):
        assert len(list(taken)) <= by_lot[lot].quota
    for applicant_id, lot in allocation.assignments.items():
        applicant = by_id[applicant_id]
        assert walk_m(applicant, by_lot[lot]) <= applicant.max_walk_m
        assert applicant.eligible is None or lot in applicant.eligible
    assert allocation.served == len(allocation.assignments)
    assert sorted([*allocation.assignments, *allocation.unserved]) == sorted(by_id)
    assert allocation.total_walk_m == pytest.approx(
        sum(walk_m(by_id[a], by_lot[lot]) for a, lot in allocation.assignments.items())
    )


def test_optimal_serves_more_when_the_first_applicant_takes_the_only_lot_the_second_can_reach() -> (
    None
):
    applicants = [
        make_applicant("early", east=0, max_walk_m=2000, order=1),
        make_applicant("late", east=300, max_walk_m=400, order=2),
    ]
    supply = [make_supply("near", east=200), make_supply("far", east=-800)]

    fcfs = allocate_fcfs(applicants, supply)
    optimal = allocate_optimal(applicants, supply)

    assert fcfs.assignments == {"early": "near"}
    assert fcfs.unserved == ["late"]
    assert optimal.assignments == {"early": "far", "late": "near"}
    assert optimal.served == 2


def test_optimal_prefers_the_allocation_with_less_walking_when_both_serve_everyone() -> None:
    # "first" is almost equidistant; "second" lives next to A and far from B.
    applicants = [
        make_applicant("first", east=0, order=1),
        make_applicant("second", east=-500, order=2),
    ]
    supply = [make_supply("A", east=-100), make_supply("B", east=110)]

    fcfs = allocate_fcfs(applicants, supply)
    optimal = allocate_optimal(applicants, supply)

    assert fcfs.assignments == {"first": "A", "second": "B"}
    assert optimal.assignments == {"first": "B", "second": "A"}
    assert optimal.served == fcfs.served == 2
    assert optimal.total_walk_m == pytest.approx((110 + 400) * WALK_DETOUR, rel=1e-3)
    assert fcfs.total_walk_m == pytest.approx((100 + 610) * WALK_DETOUR, rel=1e-3)


def test_optimal_gives_a_single_berth_to_the_applicant_who_walks_least() -> None:
    applicants = [
        make_applicant("early-far", east=900, order=1),
        make_applicant("late-near", east=100, order=2),
    ]
    supply = [make_supply("A")]

    assert allocate_optimal(applicants, supply).assignments == {"late-near": "A"}
    assert allocate_fcfs(applicants, supply).assignments == {"early-far": "A"}


@BOTH
def test_walking_distance_is_straight_line_times_the_detour_and_the_limit_holds(
    allocate: Allocate,
) -> None:
    supply = [make_supply("A", east=1000)]  # 1000 m straight, 1300 m on foot
    too_short = [make_applicant("d", max_walk_m=1250)]
    enough = [make_applicant("d", max_walk_m=1350)]

    assert allocate(too_short, supply).served == 0
    assert allocate(enough, supply).assignments == {"d": "A"}
    assert allocate(enough, supply).total_walk_m == pytest.approx(1300, rel=1e-3)


@BOTH
def test_quotas_are_respected_and_the_nearest_applicants_fill_them(allocate: Allocate) -> None:
    applicants = [
        make_applicant(f"d{k}", east=100 * k, order=k) for k in (5, 1, 4, 2, 3)
    ]  # application order equals distance order here
    supply = [make_supply("A", quota=2), make_supply("empty", east=10, quota=0)]

    allocation = allocate(applicants, supply)

    assert allocation.assignments == {"d1": "A", "d2": "A"}
    assert allocation.unserved == ["d3", "d4", "d5"]  # waiting list, in application order


def test_fcfs_follows_application_time_not_input_order() -> None:
    start = datetime(2026, 11, 1, 9, tzinfo=UTC)
    lon, lat = _lon_lat(0, 0)
    applicants = [
        Applicant("later", lon, lat, 1000, start + timedelta(minutes=5)),
        Applicant("sooner", lon, lat, 1000, start),
    ]

    allocation = allocate_fcfs(applicants, [make_supply("A")])

    assert allocation.assignments == {"sooner": "A"}
    assert allocation.unserved == ["later"]


@BOTH
def test_preferred_car_parks_are_the_only_eligible_ones(allocate: Allocate) -> None:
    supply = [make_supply("near", east=50, quota=5), make_supply("liked", east=600, quota=5)]
    applicants = [
        make_applicant("picky", eligible=frozenset({"liked"})),
        make_applicant("open"),
        make_applicant("nothing", eligible=frozenset()),
        make_applicant("unknown", eligible=frozenset({"elsewhere"})),
    ]

    allocation = allocate(applicants, supply)

    assert allocation.assignments == {"picky": "liked", "open": "near"}
    assert allocation.unserved == ["nothing", "unknown"]


@BOTH
def test_empty_inputs_give_an_empty_allocation(allocate: Allocate) -> None:
    applicants = [make_applicant("d1"), make_applicant("d2", order=1)]

    nobody = allocate([], [make_supply("A")])
    no_supply = allocate(applicants, [])

    assert (nobody.served, nobody.assignments, nobody.unserved) == (0, {}, [])
    assert nobody.total_walk_m == 0.0
    assert (no_supply.served, no_supply.unserved) == (0, ["d1", "d2"])


def test_invalid_rounds_are_refused() -> None:
    with pytest.raises(InvalidInput):
        allocate_optimal([make_applicant("d"), make_applicant("d")], [make_supply("A")])
    with pytest.raises(InvalidInput):
        allocate_fcfs([make_applicant("d")], [make_supply("A"), make_supply("A")])
    with pytest.raises(InvalidInput):
        make_supply("A", quota=-1)
    with pytest.raises(InvalidInput):
        make_applicant("d", max_walk_m=math.nan)


def test_array_haversine_equals_the_scalar_one() -> None:
    rng = random.Random(7)
    points = [
        (rng.uniform(73, 135), rng.uniform(4, 53), rng.uniform(73, 135), rng.uniform(4, 53))
        for _ in range(200)
    ] + [(120.1, 35.9, 120.1, 35.9), (120.1, 35.9, 120.1000001, 35.9)]
    lon1, lat1, lon2, lat2 = (np.array(column) for column in zip(*points, strict=True))

    got = haversine_m_array(lon1, lat1, lon2, lat2)

    assert got.tolist() == pytest.approx([haversine_m(*p) for p in points], rel=1e-12, abs=1e-6)


def test_grid_prefilter_finds_exactly_the_pairs_a_full_scan_finds() -> None:
    rng = random.Random(11)
    supply = [
        make_supply(f"L{k}", east=rng.uniform(-8000, 8000), north=rng.uniform(-6000, 6000))
        for k in range(60)
    ]
    applicants = [
        make_applicant(
            f"d{k}",
            east=rng.uniform(-9000, 9000),
            north=rng.uniform(-7000, 7000),
            max_walk_m=rng.choice([0, 300, 800, 1500, 5000, 40000]),
            eligible=frozenset(rng.sample([s.lot for s in supply], 3)) if k % 7 == 0 else None,
        )
        for k in range(400)
    ]

    reach = reachable(applicants, supply)

    expected = {
        (i, j)
        for i, a in enumerate(applicants)
        for j, s in enumerate(supply)
        if walk_m(a, s) <= a.max_walk_m and (a.eligible is None or s.lot in a.eligible)
    }
    assert set(zip(reach.applicant.tolist(), reach.lot.tolist(), strict=True)) == expected
    assert len(reach.applicant) == len(expected)
    for i, j, w in zip(reach.applicant, reach.lot, reach.walk_m, strict=True):
        assert w == pytest.approx(walk_m(applicants[i], supply[j]), abs=1e-6)


def _brute_force(applicants: list[Applicant], supply: list[Supply]) -> tuple[int, float]:
    """(most served, least total walk among those) by trying every assignment."""
    options = [
        [None]
        + [
            s
            for s in supply
            if walk_m(a, s) <= a.max_walk_m and (a.eligible is None or s.lot in a.eligible)
        ]
        for a in applicants
    ]
    best = (0, 0.0)
    for choice in itertools.product(*options):
        taken = [s.lot for s in choice if s is not None]
        if any(taken.count(s.lot) > s.quota for s in supply):
            continue
        walk = sum(walk_m(a, s) for a, s in zip(applicants, choice, strict=True) if s is not None)
        if (len(taken), -walk) > (best[0], -best[1]):
            best = (len(taken), walk)
    return best


@st.composite
def small_rounds(draw: st.DrawFn) -> tuple[list[Applicant], list[Supply]]:
    metres = st.floats(min_value=-1500, max_value=1500, allow_nan=False)
    codes = ["A", "B", "C"][: draw(st.integers(min_value=0, max_value=3))]
    supply = [
        make_supply(code, east=draw(metres), north=draw(metres), quota=draw(st.integers(0, 2)))
        for code in codes
    ]
    applicants = [
        make_applicant(
            f"d{k}",
            east=draw(metres),
            north=draw(metres),
            max_walk_m=draw(st.floats(min_value=0, max_value=4000)),
            order=draw(st.integers(0, 3)),
            eligible=draw(st.none() | st.frozensets(st.sampled_from(["A", "B", "C", "Z"]))),
        )
        for k in range(draw(st.integers(min_value=0, max_value=6)))
    ]
    return applicants, supply


@settings(max_examples=300, deadline=None, database=None, derandomize=True)
@given(small_rounds())
def test_optimal_matches_brute_force_and_never_serves_fewer_than_fcfs(
    round_: tuple[list[Applicant], list[Supply]],
) -> None:
    applicants, supply = round_

    optimal = allocate_optimal(applicants, supply)
    fcfs = allocate_fcfs(applicants, supply)
    best_served, best_walk = _brute_force(applicants, supply)

    assert_feasible(optimal, applicants, supply)
    assert_feasible(fcfs, applicants, supply)
    assert optimal.served == best_served
    # Exact for distances rounded to the millimetre: at most 1 mm per served applicant off.
    assert optimal.total_walk_m <= best_walk + 1e-3 * best_served + 1e-6
    assert optimal.total_walk_m >= best_walk - 1e-6
    assert optimal.served >= fcfs.served
    if optimal.served == fcfs.served:
        assert optimal.total_walk_m <= fcfs.total_walk_m + 1e-3 * best_served + 1e-6


def _max_served(applicants: list[Applicant], supply: list[Supply]) -> int:
    """Maximum matching size by plain augmenting paths over quota slots (Kuhn's algorithm)."""
    slots = [s for s in supply for _ in range(s.quota)]
    options = [
        [
            k
            for k, s in enumerate(slots)
            if walk_m(a, s) <= a.max_walk_m and (a.eligible is None or s.lot in a.eligible)
        ]
        for a in applicants
    ]
    holder: dict[int, int] = {}

    def augment(i: int, seen: set[int]) -> bool:
        for k in options[i]:
            if k not in seen:
                seen.add(k)
                if k not in holder or augment(holder[k], seen):
                    holder[k] = i
                    return True
        return False

    return sum(augment(i, set()) for i in range(len(applicants)))


def test_optimal_on_a_medium_round_is_a_maximum_matching_with_no_improving_swap() -> None:
    rng = random.Random(3)
    supply = [
        make_supply(
            f"L{k}",
            east=rng.uniform(-2500, 2500),
            north=rng.uniform(-2000, 2000),
            quota=rng.randint(0, 6),
        )
        for k in range(25)
    ]
    applicants = [
        make_applicant(
            f"d{k}",
            east=rng.uniform(-3000, 3000),
            north=rng.uniform(-2500, 2500),
            max_walk_m=rng.choice([400, 800, 1200, 2000]),
            order=rng.randint(0, 50),
        )
        for k in range(150)
    ]
    by_id = {a.id: a for a in applicants}
    by_lot = {s.lot: s for s in supply}

    optimal = allocate_optimal(applicants, supply)
    fcfs = allocate_fcfs(applicants, supply)

    assert_feasible(optimal, applicants, supply)
    assert optimal.served == _max_served(applicants, supply)
    assert optimal.served > fcfs.served  # this round is tight enough for FCFS to lose someone
    # No two served applicants could swap car parks and walk less in total (to the millimetre).
    served = list(optimal.assignments.items())
    for (a, lot_a), (b, lot_b) in itertools.combinations(served, 2):
        swapped = walk_m(by_id[a], by_lot[lot_b]) + walk_m(by_id[b], by_lot[lot_a])
        current = walk_m(by_id[a], by_lot[lot_a]) + walk_m(by_id[b], by_lot[lot_b])
        if (
            walk_m(by_id[a], by_lot[lot_b]) <= by_id[a].max_walk_m
            and walk_m(by_id[b], by_lot[lot_a]) <= by_id[b].max_walk_m
        ):
            assert current <= swapped + 2e-3
