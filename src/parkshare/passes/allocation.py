"""Who gets a monthly pass (包月) when applications exceed the car parks' quotas.

Two policies over the same inputs, both pure (no database, no I/O):

- `allocate_optimal` serves as many applicants as possible and, among all allocations that
  serve that many, walks the least in total. It is a min-cost maximum flow (applicant →
  car park → quota), solved exactly by OR-Tools' `SimpleMinCostFlow.solve_max_flow_with_min_cost`:
  the flow value is maximised first and the cost minimised only among maximum flows, so the
  lexicographic objective needs no big-M weight.
- `allocate_fcfs` is first-come-first-served: in application order, each applicant takes the
  nearest eligible car park that still has quota. It is the baseline the optimum is compared with.

An applicant can be served only by a car park within their `max_walk_m` (walking distance, see
`WALK_DETOUR`) and, when they listed preferred car parks (`eligible`), only by one of those;
a listed code that is not in the supply is simply unavailable. Candidate pairs come from a grid
over the car parks, so the work grows with the number of reachable pairs, not with
applicants × car parks. Coordinates are WGS-84; the grid assumes no input spans the
antimeridian (true anywhere in China).
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import numpy.typing as npt
from ortools.graph.python import min_cost_flow  # type: ignore[import-untyped]

from parkshare.errors import InvalidInput
from parkshare.geo import EARTH_RADIUS_M

__all__ = [
    "WALK_COST_UNITS_PER_M",
    "WALK_DETOUR",
    "Allocation",
    "Applicant",
    "Reach",
    "Supply",
    "allocate_fcfs",
    "allocate_optimal",
    "haversine_m_array",
    "reachable",
]

WALK_DETOUR = 1.3
"""Walking distance ≈ straight-line (haversine) distance × 1.3.

People walk along streets, not as the crow flies; route-to-straight-line ("circuity") ratios
for walking in city grids are typically 1.2-1.4, and 1.3 is the usual planning rule of thumb.
Without a street network this factor is the whole walking model: change it here only.
"""

WALK_COST_UNITS_PER_M = 1000
"""The solver works in integer costs: walking metres are rounded to millimetres.

The optimum is therefore exact for the rounded distances; against the unrounded ones its total
is within one millimetre per served applicant of the true minimum.
"""

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Applicant:
    """A driver's application: home location, walking limit, when they applied.

    ``applied_at`` orders first-come-first-served (ties keep input order); use one type,
    datetimes or integers, throughout a round. ``eligible``, when given, lists the only car park
    codes the applicant accepts.
    """

    id: str
    lon: float
    lat: float
    max_walk_m: float
    applied_at: datetime | int
    eligible: frozenset[str] | None = None

    def __post_init__(self) -> None:
        if not self.max_walk_m >= 0:  # also refuses NaN
            raise InvalidInput("The maximum walking distance cannot be negative.", id=self.id)


@dataclass(frozen=True)
class Supply:
    """A car park's pass quota for the round, at its location."""

    lot: str
    lon: float
    lat: float
    quota: int

    def __post_init__(self) -> None:
        if self.quota < 0:
            raise InvalidInput("A pass quota cannot be negative.", lot=self.lot)


@dataclass(frozen=True)
class Allocation:
    """The outcome of a round: who parks where, and who is left waiting.

    ``unserved`` is in application order (a waiting list). ``solver_seconds`` is the wall-clock
    time of the whole call (candidate search, solve, read-out) and is left out of equality.
    """

    assignments: dict[str, str]
    served: int
    total_walk_m: float
    unserved: list[str]
    solver_seconds: float = field(compare=False)


@dataclass(frozen=True)
class Reach:
    """Every allowed (applicant, car park) pair with its walking distance.

    Indices point into the ``applicants`` and ``supply`` sequences; rows are in no particular
    (but deterministic) order.
    """

    applicant: IntArray
    lot: IntArray
    walk_m: FloatArray


def haversine_m_array(
    lon1: FloatArray, lat1: FloatArray, lon2: FloatArray, lat2: FloatArray
) -> FloatArray:
    """`parkshare.geo.haversine_m`, element-wise over arrays (same formula, same radius)."""
    phi1, phi2 = np.radians(lat1), np.radians(lat2)
    h = _haversine_h(phi1, np.cos(phi1), np.radians(lon1), phi2, np.cos(phi2), np.radians(lon2))
    return _metres(h)


def reachable(applicants: Sequence[Applicant], supply: Sequence[Supply]) -> Reach:
    """The pairs an allocation may use: within walking limit, in the eligible list if any."""
    _check_unique(applicants, supply)
    a_lon, a_lat = _coordinates(applicants)
    l_lon, l_lat = _coordinates(supply)
    max_walk = np.array([a.max_walk_m for a in applicants], dtype=np.float64)
    # A hair wider than the limit, so rounding cannot drop a pair that lies right on it.
    radius = max_walk / WALK_DETOUR * (1.0 + 1e-9) + 1e-3
    app, lot = _grid_candidates(a_lon, a_lat, radius, l_lon, l_lat)
    # Compare in haversine space first (cheap), then measure exactly what is left.
    a_phi, l_phi = np.radians(a_lat), np.radians(l_lat)
    a_cos, l_cos = np.cos(a_phi), np.cos(l_phi)
    a_lam, l_lam = np.radians(a_lon), np.radians(l_lon)
    h = _haversine_h(a_phi[app], a_cos[app], a_lam[app], l_phi[lot], l_cos[lot], l_lam[lot])
    h_limit = np.sin(np.minimum(radius / (2.0 * EARTH_RADIUS_M), np.pi / 2)) ** 2
    near = h <= h_limit[app]
    app, lot = app[near], lot[near]
    walk = _metres(h[near]) * WALK_DETOUR
    keep = (walk <= max_walk[app]) & _eligible_mask(applicants, supply, app, lot)
    return Reach(applicant=app[keep], lot=lot[keep], walk_m=walk[keep])


def allocate_optimal(applicants: Sequence[Applicant], supply: Sequence[Supply]) -> Allocation:
    """Serve the most applicants; among those allocations, minimise the total walking."""
    started = time.perf_counter()
    reach = reachable(applicants, supply)
    quota = np.array([s.quota for s in supply], dtype=np.int64)
    usable = quota[reach.lot] > 0
    app, lot, walk = reach.applicant[usable], reach.lot[usable], reach.walk_m[usable]
    chosen: dict[int, tuple[int, float]] = {}
    if app.size:
        # Number only the applicants and car parks that have an arc, so every node is in use.
        app_nodes, app_of_arc = np.unique(app, return_inverse=True)
        lot_nodes, lot_of_arc = np.unique(lot, return_inverse=True)
        flow = min_cost_flow.SimpleMinCostFlow()
        flow.add_arcs_with_capacity_and_unit_cost(
            app_of_arc.astype(np.int32),
            (lot_of_arc + app_nodes.size).astype(np.int32),
            np.ones(app.size, dtype=np.int64),
            np.rint(walk * WALK_COST_UNITS_PER_M).astype(np.int64),
        )
        flow.set_nodes_supplies(
            np.arange(app_nodes.size + lot_nodes.size, dtype=np.int32),
            np.concatenate([np.ones(app_nodes.size, dtype=np.int64), -quota[lot_nodes]]),
        )
        status = flow.solve_max_flow_with_min_cost()
        if status != flow.OPTIMAL:
            raise RuntimeError(f"min-cost flow did not solve: {status}")
        used = np.asarray(flow.flows(np.arange(app.size, dtype=np.int32))) > 0
        for i, j, w in zip(
            app[used].tolist(), lot[used].tolist(), walk[used].tolist(), strict=True
        ):
            chosen[i] = (j, w)
    return _allocation(applicants, supply, chosen, started)


def allocate_fcfs(applicants: Sequence[Applicant], supply: Sequence[Supply]) -> Allocation:
    """In application order, each applicant takes the nearest allowed car park with quota left.

    Equal distances go to the car park listed first in ``supply``.
    """
    started = time.perf_counter()
    reach = reachable(applicants, supply)
    by_distance = np.lexsort((reach.lot, reach.walk_m, reach.applicant))
    app, lots_sorted = reach.applicant[by_distance], reach.lot[by_distance]
    remaining = [s.quota for s in supply]
    bounds = np.searchsorted(app, np.arange(len(applicants) + 1)).tolist()
    lots, walks = lots_sorted.tolist(), reach.walk_m[by_distance].tolist()
    chosen: dict[int, tuple[int, float]] = {}
    for i in _application_order(applicants):
        for k in range(bounds[i], bounds[i + 1]):
            if remaining[lots[k]] > 0:
                remaining[lots[k]] -= 1
                chosen[i] = (lots[k], walks[k])
                break
    return _allocation(applicants, supply, chosen, started)


def _allocation(
    applicants: Sequence[Applicant],
    supply: Sequence[Supply],
    chosen: dict[int, tuple[int, float]],
    started: float,
) -> Allocation:
    """Read out an allocation given as applicant index → (car park index, walking metres)."""
    order = _application_order(applicants)
    return Allocation(
        assignments={applicants[i].id: supply[chosen[i][0]].lot for i in order if i in chosen},
        served=len(chosen),
        total_walk_m=math.fsum(walk for _, walk in chosen.values()),
        unserved=[applicants[i].id for i in order if i not in chosen],
        solver_seconds=time.perf_counter() - started,
    )


def _application_order(applicants: Sequence[Applicant]) -> list[int]:
    return sorted(range(len(applicants)), key=lambda i: applicants[i].applied_at)


def _check_unique(applicants: Sequence[Applicant], supply: Sequence[Supply]) -> None:
    if len({a.id for a in applicants}) != len(applicants):
        raise InvalidInput("Applicant ids must be unique within a round.")
    if len({s.lot for s in supply}) != len(supply):
        raise InvalidInput("Each car park may appear only once in the supply.")


def _eligible_mask(
    applicants: Sequence[Applicant], supply: Sequence[Supply], app: IntArray, lot: IntArray
) -> npt.NDArray[np.bool_]:
    """True for pairs allowed by the applicant's preferred list (or who listed none)."""
    index = {s.lot: j for j, s in enumerate(supply)}
    restricted = np.array([a.eligible is not None for a in applicants], dtype=np.bool_)
    allowed = [
        i * len(supply) + index[code]
        for i, a in enumerate(applicants)
        if a.eligible is not None
        for code in a.eligible
        if code in index
    ]
    pair = app * len(supply) + lot
    mask: npt.NDArray[np.bool_] = ~restricted[app] | np.isin(pair, np.array(allowed, np.int64))
    return mask


def _haversine_h(
    phi1: FloatArray,
    cos_phi1: FloatArray,
    lam1: FloatArray,
    phi2: FloatArray,
    cos_phi2: FloatArray,
    lam2: FloatArray,
) -> FloatArray:
    """The haversine of the central angle, from latitudes/longitudes in radians."""
    h: FloatArray = (
        np.sin((phi2 - phi1) / 2.0) ** 2 + cos_phi1 * cos_phi2 * np.sin((lam2 - lam1) / 2.0) ** 2
    )
    return h


def _metres(h: FloatArray) -> FloatArray:
    result: FloatArray = 2.0 * EARTH_RADIUS_M * np.arcsin(np.minimum(1.0, np.sqrt(h)))
    return result


def _coordinates(points: Sequence[Applicant] | Sequence[Supply]) -> tuple[FloatArray, FloatArray]:
    lon = np.array([p.lon for p in points], dtype=np.float64)
    lat = np.array([p.lat for p in points], dtype=np.float64)
    return lon, lat


def _grid_candidates(
    a_lon: FloatArray, a_lat: FloatArray, radius_m: FloatArray, l_lon: FloatArray, l_lat: FloatArray
) -> tuple[IntArray, IntArray]:
    """(applicant, car park) index pairs that may lie within ``radius_m`` (straight line).

    A superset: the caller filters by exact distance. Car parks are bucketed into cells of
    half the median radius; each applicant scans the columns of cells its bounding box
    touches, and within a column the cells are contiguous in sorted order, so one
    `searchsorted` per column finds them. Bounding boxes are conservative: a great-circle
    distance d bounds |Δlat| by d/R and sin(|Δlon|/2) by sin(d/2R)/cos(φ) at the highest
    latitude φ in the input.
    """
    empty = np.empty(0, dtype=np.int64)
    if a_lon.size == 0 or l_lon.size == 0:
        return empty, empty
    highest = float(max(np.abs(a_lat).max(), np.abs(l_lat).max()))
    cos_min = max(math.cos(math.radians(highest)), 1e-6)
    positive = radius_m[radius_m > 0]
    # Half the median radius: smaller cells scan less empty area but loop over more columns.
    cell_m = max(float(np.median(positive)) / 2.0 if positive.size else 1.0, 1.0)
    cell_lat, cell_lon = cell_m / EARTH_RADIUS_M, _lon_reach(np.array([cell_m]), cos_min)[0]

    l_ix = np.floor(np.radians(l_lon) / cell_lon).astype(np.int64)
    l_iy = np.floor(np.radians(l_lat) / cell_lat).astype(np.int64)
    x0, x1, y0, y1 = l_ix.min(), l_ix.max(), l_iy.min(), l_iy.max()
    height = y1 - y0 + 1
    keys = (l_ix - x0) * height + (l_iy - y0)
    lot_order = np.argsort(keys, kind="stable")
    keys = keys[lot_order]

    reach_lat, reach_lon = radius_m / EARTH_RADIUS_M, _lon_reach(radius_m, cos_min)
    lon_r, lat_r = np.radians(a_lon), np.radians(a_lat)
    ix_lo = np.maximum(np.floor((lon_r - reach_lon) / cell_lon).astype(np.int64), x0)
    ix_hi = np.minimum(np.floor((lon_r + reach_lon) / cell_lon).astype(np.int64), x1)
    iy_lo = np.maximum(np.floor((lat_r - reach_lat) / cell_lat).astype(np.int64), y0) - y0
    iy_hi = np.minimum(np.floor((lat_r + reach_lat) / cell_lat).astype(np.int64), y1) - y0
    active = np.flatnonzero((ix_lo <= ix_hi) & (iy_lo <= iy_hi))

    apps: list[IntArray] = []
    lots: list[IntArray] = []
    column = ix_lo[active]
    while active.size:
        base = (column - x0) * height
        starts = np.searchsorted(keys, base + iy_lo[active], side="left")
        counts = np.searchsorted(keys, base + iy_hi[active], side="right") - starts
        total = int(counts.sum())
        offsets = np.arange(total) - np.repeat(np.cumsum(counts) - counts, counts)
        apps.append(np.repeat(active, counts))
        lots.append(lot_order[np.repeat(starts, counts) + offsets])
        column = column + 1
        more = column <= ix_hi[active]
        active, column = active[more], column[more]
    if not apps:
        return empty, empty
    return np.concatenate(apps).astype(np.int64), np.concatenate(lots).astype(np.int64)


def _lon_reach(radius_m: FloatArray, cos_min: float) -> FloatArray:
    """The largest |Δlon| (radians) of a point within ``radius_m`` at latitudes ≤ the highest."""
    ratio = np.minimum(1.0, np.sin(radius_m / (2.0 * EARTH_RADIUS_M)) / cos_min)
    result: FloatArray = 2.0 * np.arcsin(ratio)
    return result
