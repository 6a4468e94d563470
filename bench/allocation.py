"""Monthly pass allocation: the optimum against first-come-first-served, and the solver's speed.

Run as ``.venv/bin/python bench/allocation.py``. Instances are generated from fixed seeds, so
every run sees the same applicants. Results are printed and written to
``bench/results/allocation.json``.

How the instances are made (Huangdao, WGS-84, lon 119.9-120.3, lat 35.85-36.05):

- car parks sit around town centres (approximate centres of Huangdao's built-up areas);
- demand is uneven: each applicant picks a "home" car park with a log-normal popularity weight
  and lives a normally distributed few hundred metres from it;
- walking limits are 500-2000 m; one applicant in ten lists 1-3 of their nearest car parks as
  the only ones they accept; application order is random, independent of where people live;
- quotas vary per car park and add up to about 60 % of the applicants (tight supply).

Each scenario is also re-generated with other seeds to show the spread of the comparison.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import time
from dataclasses import dataclass, replace
from importlib.metadata import version
from pathlib import Path
from typing import Any

import numpy as np

from parkshare.geo import EARTH_RADIUS_M
from parkshare.passes.allocation import (
    WALK_DETOUR,
    Allocation,
    Applicant,
    Supply,
    allocate_fcfs,
    allocate_optimal,
    reachable,
)

RESULTS = Path(__file__).parent / "results" / "allocation.json"
REPEATS = 3
LON_RANGE, LAT_RANGE = (119.9, 120.3), (35.85, 36.05)
TOWN_CENTRES = [  # (lon, lat), approximate
    (120.195, 35.965),  # 黄岛 old town, 长江路
    (120.125, 35.975),  # 辛安
    (120.170, 35.890),  # 灵山卫, district government
    (120.245, 36.000),  # 薛家岛
    (120.030, 35.930),  # 王台 / 红石崖 side
    (120.080, 35.880),  # 隐珠
    (120.000, 36.010),  # 胶河 side
    (120.270, 35.950),  # 金沙滩
]
WALK_LIMITS_M = (500, 800, 1000, 1500, 2000)
WALK_LIMIT_WEIGHTS = (0.15, 0.3, 0.3, 0.15, 0.1)
SPREAD_SEEDS = 10  # extra seeds per scenario, to show how much one seed's figures can vary


@dataclass(frozen=True)
class Scenario:
    name: str
    applicants: int
    car_parks: int
    town_centres: int
    lot_spread_m: float
    home_spread_m: float
    supply_ratio: float
    seed: int
    walk_limits_m: tuple[int, ...] = WALK_LIMITS_M
    walk_limit_weights: tuple[float, ...] = WALK_LIMIT_WEIGHTS


SCENARIOS = [
    Scenario("institutional, tight", 5_000, 32, 4, 1_200, 600, 0.6, 20261101),
    Scenario("district-wide", 10_000, 1_000, 8, 2_500, 500, 0.6, 20261102),
    # Not a target: everyone walks up to 2 km to 1,000 car parks packed around two centres,
    # to show how the time grows with the number of reachable pairs.
    Scenario("dense (stress)", 10_000, 1_000, 2, 1_500, 500, 0.6, 20261103, (2000,), (1.0,)),
]


def _offset(
    rng: np.random.Generator, lon: np.ndarray, lat: np.ndarray, spread_m: float
) -> tuple[np.ndarray, np.ndarray]:
    """Move points by a normal offset of ``spread_m`` metres per axis, kept in the box."""
    north = rng.normal(0, spread_m, lon.size)
    east = rng.normal(0, spread_m, lon.size)
    new_lat = lat + np.degrees(north / EARTH_RADIUS_M)
    new_lon = lon + np.degrees(east / (EARTH_RADIUS_M * np.cos(np.radians(lat))))
    return np.clip(new_lon, *LON_RANGE), np.clip(new_lat, *LAT_RANGE)


def make_instance(scenario: Scenario) -> tuple[list[Applicant], list[Supply]]:
    rng = np.random.default_rng(scenario.seed)
    centres = np.array(TOWN_CENTRES[: scenario.town_centres])
    town = rng.integers(0, len(centres), scenario.car_parks)
    lot_lon, lot_lat = _offset(rng, centres[town, 0], centres[town, 1], scenario.lot_spread_m)
    weights = rng.uniform(0.5, 1.5, scenario.car_parks)
    quota = np.maximum(
        1, np.round(weights / weights.sum() * scenario.supply_ratio * scenario.applicants)
    ).astype(int)
    supply = [
        Supply(f"P{j:04d}", float(lot_lon[j]), float(lot_lat[j]), int(quota[j]))
        for j in range(scenario.car_parks)
    ]

    popularity = rng.lognormal(0.0, 0.8, scenario.car_parks)
    home = rng.choice(scenario.car_parks, scenario.applicants, p=popularity / popularity.sum())
    lon, lat = _offset(rng, lot_lon[home], lot_lat[home], scenario.home_spread_m)
    limits = rng.choice(scenario.walk_limits_m, scenario.applicants, p=scenario.walk_limit_weights)
    order = rng.permutation(scenario.applicants)
    picky = rng.random(scenario.applicants) < 0.1
    applicants = []
    for i in range(scenario.applicants):
        eligible = None
        if picky[i]:
            nearest = np.argsort(np.hypot(lot_lon - lon[i], lot_lat - lat[i]))[:3]
            eligible = frozenset(supply[j].lot for j in nearest[: rng.integers(1, 4)])
        applicants.append(
            Applicant(
                f"A{i:05d}", float(lon[i]), float(lat[i]), float(limits[i]), int(order[i]), eligible
            )
        )
    return applicants, supply


def _timed(
    allocate: Any, applicants: list[Applicant], supply: list[Supply]
) -> tuple[Allocation, list[float]]:
    runs = [allocate(applicants, supply) for _ in range(REPEATS)]
    assert all(run == runs[0] for run in runs), "allocation is not deterministic"
    return runs[0], [run.solver_seconds for run in runs]


def _pct(new: float, old: float) -> float | None:
    return None if old == 0 else round(100.0 * (new - old) / old, 2)


def _seed_spread(scenario: Scenario) -> dict[str, Any]:
    """% more served and % more walk per served over other seeds: min, median, max."""
    served, walk = [], []
    for k in range(1, SPREAD_SEEDS + 1):
        applicants, supply = make_instance(replace(scenario, seed=scenario.seed + 1000 * k))
        fcfs, optimal = allocate_fcfs(applicants, supply), allocate_optimal(applicants, supply)
        served.append(_pct(optimal.served, fcfs.served) or 0.0)
        walk.append(
            _pct(optimal.total_walk_m / optimal.served, fcfs.total_walk_m / fcfs.served) or 0.0
        )
    return {
        "seeds": SPREAD_SEEDS,
        "more_served_pct": [min(served), statistics.median(served), max(served)],
        "more_walk_per_served_pct": [min(walk), statistics.median(walk), max(walk)],
    }


def run(scenario: Scenario) -> dict[str, Any]:
    applicants, supply = make_instance(scenario)
    started = time.perf_counter()
    reach = reachable(applicants, supply)
    reach_seconds = time.perf_counter() - started
    fcfs, fcfs_seconds = _timed(allocate_fcfs, applicants, supply)
    optimal, optimal_seconds = _timed(allocate_optimal, applicants, supply)
    fcfs_per = fcfs.total_walk_m / fcfs.served if fcfs.served else 0.0
    optimal_per = optimal.total_walk_m / optimal.served if optimal.served else 0.0
    return {
        "scenario": scenario.name,
        "applicants": len(applicants),
        "car_parks": len(supply),
        "total_quota": sum(s.quota for s in supply),
        "reachable_pairs": int(reach.applicant.size),
        "applicants_with_a_reachable_car_park": int(np.unique(reach.applicant).size),
        "fcfs_served": fcfs.served,
        "fcfs_total_walk_m": round(fcfs.total_walk_m, 1),
        "fcfs_walk_per_served_m": round(fcfs_per, 1),
        "optimal_served": optimal.served,
        "optimal_total_walk_m": round(optimal.total_walk_m, 1),
        "optimal_walk_per_served_m": round(optimal_per, 1),
        "more_served_pct": _pct(optimal.served, fcfs.served),
        "more_walk_per_served_pct": _pct(optimal_per, fcfs_per),
        "more_walk_total_pct": _pct(optimal.total_walk_m, fcfs.total_walk_m),
        "prefilter_seconds": round(reach_seconds, 4),
        "fcfs_seconds_median": round(statistics.median(fcfs_seconds), 4),
        "optimal_seconds_median": round(statistics.median(optimal_seconds), 4),
        "optimal_seconds_max": round(max(optimal_seconds), 4),
        "seed_spread": _seed_spread(scenario),
    }


ROWS = [
    ("applicants", "applicants", "{:,}"),
    ("car parks", "car_parks", "{:,}"),
    ("total quota", "total_quota", "{:,}"),
    ("reachable pairs", "reachable_pairs", "{:,}"),
    ("applicants with any reachable car park", "applicants_with_a_reachable_car_park", "{:,}"),
    ("FCFS served", "fcfs_served", "{:,}"),
    ("FCFS total walk (m)", "fcfs_total_walk_m", "{:,.0f}"),
    ("FCFS walk per served (m)", "fcfs_walk_per_served_m", "{:.1f}"),
    ("optimal served", "optimal_served", "{:,}"),
    ("optimal total walk (m)", "optimal_total_walk_m", "{:,.0f}"),
    ("optimal walk per served (m)", "optimal_walk_per_served_m", "{:.1f}"),
    ("% more served", "more_served_pct", "{:+.2f}"),
    ("% more walk per served", "more_walk_per_served_pct", "{:+.2f}"),
    ("% more walk in total", "more_walk_total_pct", "{:+.2f}"),
    ("prefilter seconds", "prefilter_seconds", "{:.3f}"),
    (f"FCFS seconds (median of {REPEATS})", "fcfs_seconds_median", "{:.3f}"),
    (f"optimal seconds (median of {REPEATS})", "optimal_seconds_median", "{:.3f}"),
    (f"optimal seconds (max of {REPEATS})", "optimal_seconds_max", "{:.3f}"),
]
SPREAD_ROWS = [
    (f"% more served, {SPREAD_SEEDS} other seeds", "more_served_pct"),
    (f"% more walk/served, {SPREAD_SEEDS} other seeds", "more_walk_per_served_pct"),
]


def print_table(results: list[dict[str, Any]]) -> None:
    width = max(len(label) for label, *_ in [*ROWS, *SPREAD_ROWS])
    columns = [max(len(r["scenario"]), 18) for r in results]
    header = " | ".join(r["scenario"].rjust(c) for r, c in zip(results, columns, strict=True))
    print(f"{'':<{width}} | {header}")
    print("-" * (width + 3 + len(header)))
    for label, key, fmt in ROWS:
        cells = []
        for r, c in zip(results, columns, strict=True):
            value = r[key]
            cells.append(("n/a" if value is None else fmt.format(value)).rjust(c))
        print(f"{label:<{width}} | {' | '.join(cells)}")
    for label, key in SPREAD_ROWS:
        cells = [
            "{:+.1f}/{:+.1f}/{:+.1f}".format(*r["seed_spread"][key]).rjust(c)
            for r, c in zip(results, columns, strict=True)
        ]
        print(f"{label:<{width}} | {' | '.join(cells)}")
    print(f"{'':<{width}}   (min/median/max)")


def main() -> None:
    results = [run(scenario) for scenario in SCENARIOS]
    print_table(results)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    report = {
        "walk_detour": WALK_DETOUR,
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "ortools": version("ortools"),
            "numpy": version("numpy"),
        },
        "scenarios": results,
    }
    RESULTS.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"\nwritten to {RESULTS}")


if __name__ == "__main__":
    main()
