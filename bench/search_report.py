"""The search benchmark's report: the issue's targets, the per-scale table and the profile's
steps."""

from __future__ import annotations

import pstats
from typing import Any

from common import cumulative_us, print_table

# figure, goal, "max" (measured must be ≤ goal) or "min" (≥ goal), unit
TARGETS = (
    ("in-process search p99 (index), exact", 1.0, "max", "ms"),
    ("HTTP search p99 at 500 req/s offered, 1 process", 15.0, "max", "ms"),
    ("HTTP search saturation, 1 process", 2_000.0, "min", "req/s"),
    ("index memory (RSS growth of the build)", 500.0, "max", "MB"),
    ("parkshare serve ready (spawn → first search answered)", 10.0, "max", "s"),
    ("parkshare serve's index built (spawn → /health says ready)", 10.0, "max", "s"),
)

STEPS = (  # label, file, function: cumulative microseconds per indexed search
    ("search in its own session (as a request)", "bench/search.py", "timed_search"),
    ("search()", "search/service.py", "search"),
    ("check_query, check_times", "search/rules.py", ("check_query", "check_times")),
    ("index.candidates", "search/index.py", "candidates"),
    ("  _within: box, NumPy filters, exact distances, sort", "search/index.py", "_within"),
    ("    haversine_m per car park in the box (Python loop)", "parkshare/geo.py", "haversine_m"),
    ("    _haversine over the box (NumPy)", "search/index.py", "_haversine"),
    ("_answered, per car park until 10 hits", "search/service.py", "_answered"),
    ("  _fee (lru_cache misses only)", "search/service.py", "_fee"),
    ("  quiet hours", "schedules/rules.py", ("forbids_entry_at", "forbids_exit_at")),
    ("_hit: car parks the index hands to the database", "search/service.py", "_hit"),
)


def profile_steps(stats: pstats.Stats, count: int) -> dict[str, float]:
    steps = {}
    for label, path, functions in STEPS:
        names = (functions,) if isinstance(functions, str) else functions
        steps[label] = round(sum(cumulative_us(stats, path, name, count) for name in names), 1)
    session = steps[STEPS[0][0]] - steps["search()"]
    steps["opening and closing the session"] = round(session, 1)
    return {label: us for label, us in steps.items() if us}  # 0: not called (or renamed)


def against_targets(scales: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The issue's targets, at the largest scale measured (20,000 car parks in a full run)."""
    scale = max(scales, key=lambda s: s["car_parks"])
    http = scale["http"]
    measured = (
        scale["in_process"]["indexed"]["p99_ms"],
        http["fixed_rate"]["p99_ms"],
        http["saturation"]["best_per_s"],
        max(scale["index_build"]["rss_growth_mb"], scale["index_build"]["nbytes_mb"]),
        http["startup_s"],
        http["index_ready_s"],
    )
    rows = []
    for (figure, goal, sense, unit), value in zip(TARGETS, measured, strict=True):
        met = value <= goal if sense == "max" else value >= goal
        if figure.startswith("in-process"):
            met = met and scale["in_process"]["mismatches"] == 0
        rows.append(
            {
                "figure": figure,
                "car_parks": scale["car_parks"],
                "target": f"{'≤' if sense == 'max' else '≥'} {goal:,g} {unit}",
                "measured": value,
                "unit": unit,
                "ratio": round(value / goal, 2),
                "met": met,
            }
        )
    return rows


HEADERS = (
    "car parks",
    "commitments",
    "build s",
    "arrays MB",
    "RSS +MB",
    "idx p50",
    "idx p99",
    "idx CPU p99",
    "SQL p50",
    "SQL p99",
    "×p50",
    "×p99",
    "mism.",
    "HTTP 1 p50",
    "sat. /s",
    "½sat /s",
    "½sat p99",
    "500/s p99",
    "500/s ok %",
    "ready s",
)


def scale_row(scale: dict[str, Any]) -> list[str]:
    build, mine, http = scale["index_build"], scale["in_process"], scale["http"]
    return [
        f"{scale['car_parks']:,}",
        f"{scale['counts']['commitments']:,}",
        f"{build['seconds']}",
        f"{build['nbytes_mb']}",
        f"{build['rss_growth_mb']}",
        f"{mine['indexed']['p50_ms']}",
        f"{mine['indexed']['p99_ms']}",
        f"{mine['indexed_cpu']['p99_ms']}",
        f"{mine['baseline']['p50_ms']}",
        f"{mine['baseline']['p99_ms']}",
        f"{mine['ratio_p50']}",
        f"{mine['ratio_p99']}",
        f"{mine['mismatches']}",
        f"{http['one_client']['p50_ms']}",
        f"{http['saturation']['best_per_s']:,.0f}",
        f"{http['half_saturation_rate']['offered_per_s']:,.0f}",
        f"{http['half_saturation_rate']['p99_ms']}",
        f"{http['fixed_rate']['p99_ms']}",
        f"{100 * http['fixed_rate']['ok'] / http['fixed_rate']['requests']:.0f}",
        f"{http['startup_s']}",
    ]


def print_report(report: dict[str, Any]) -> None:
    scales = report["scales"]
    print()
    print_table(HEADERS, [scale_row(s) for s in scales])
    print(
        "milliseconds unless said; idx = with the index, SQL = index=None (the baseline); "
        "½sat = open loop at half the saturation rate; 500/s ok % = answered 200"
    )
    for scale in scales:
        http = scale["http"]
        phases = [("in process", scale["in_process"]), ("500/s", http["fixed_rate"])]
        phases += [("half saturation", http["half_saturation_rate"])]
        phases += [(f"saturation {r['connections']}", r) for r in http["saturation"]["runs"]]
        for wedge in http.get("wedged", []):
            print(
                f"WEDGED: {scale['car_parks']} car parks, the server stopped answering after "
                f"{wedge['after']} (not within {wedge['waited_s']} s); a fresh one took over"
            )
        for name, run in phases:
            if (cores := run["other_processes_cpu_cores"]) > 0.1:
                print(f"WARNING: {scale['car_parks']} car parks, {name}: others used {cores} cores")
    print()
    for row in report["targets"]:
        verdict = "met" if row["met"] else "MISSED"
        print(
            f"target {row['figure']} {row['target']} at {row['car_parks']:,} car parks: "
            f"{row['measured']:,} {row['unit']} (×{row['ratio']}) {verdict}"
        )
    for scale in scales:
        if "profile" not in scale:
            continue
        found = scale["profile"]
        print(
            f"\ncProfile, {scale['car_parks']:,} car parks, {found['searches']} indexed searches "
            f"({found['mean_ms_without_profiler']} ms each without the profiler); "
            "cumulative us per search:"
        )
        print_breakdown(found, "own time (%)", found["tottime_pct"])
    for scale in scales:
        if "http_profile" in scale:
            print_http_profile(scale["car_parks"], scale["http_profile"])
    if report["source"].get("changed_during_run"):
        print(f"WARNING: the sources changed during the run: {report['source']}")


def print_http_profile(lots: int, found: dict[str, Any]) -> None:
    print(
        f"\nparkshare serve under cProfile, {lots:,} car parks, {found['searches_answered']} "
        f"searches: {found['busy_us_per_search']} us busy per search, "
        f"{found['thread_pool_hand_offs_per_search']} thread-pool hand-offs; cumulative us:"
    )
    print_breakdown(found, "own time, % of busy", found["tottime_pct_of_busy"])


def print_breakdown(found: dict[str, Any], shares_title: str, shares: dict[str, float]) -> None:
    """A profile's cumulative time per step, its own-time shares and its top functions."""
    for label, us in found["cumulative_us_per_search"].items():
        print(f"  {label:<60} {us:>9.1f}")
    print(f"  {shares_title}:")
    for label, pct in shares.items():
        print(f"    {label:<66} {pct:>5.1f}")
    print("  functions with the most own time (us per search):")
    for line in found["top_functions_by_tottime"]:
        print(f"    {line}")
