"""Search at city and province scale: the index against the straightforward SQL path, in
process and over HTTP, at 117 (the West Coast demo), 2,000 and 20,000 car parks.

Run as ``.venv/bin/python bench/search.py [--quick]``; results are printed and written to
``bench/results/search.json`` (``search-quick.json`` for ``--quick``: 117 and 2,000 car parks,
fewer searches, short HTTP runs, about 3 minutes once the databases exist). The databases are
SQLite files under ``/tmp/parkshare-bench-search`` (``bench/search_data.py``), built on first
use (20,000 car parks: a few minutes) and reused while the generator is unchanged. The clock is
frozen at Friday 2022-06-24 09:00 Asia/Shanghai, in this process and in the server.

Per scale:

1. **Index build** in a fresh process (``--index-child``): seconds, ``SearchIndex.nbytes`` and
   the process's resident memory (``VmRSS``, ``VmHWM`` in ``/proc/self/status``) before and
   after, so the Python values per car park count too.
2. **In process**: the searches of ``bench/search_queries.py`` (near a car park; tonight, now
   or the weekend; min_free 1-3; 1-5 km; limit 10), each through
   ``search(session, query, index=index)`` and ``search(session, query, index=None)`` (the
   bounding-box SQL and per car park availability from SQL: the baseline), alternately first,
   each in its own session as an API request has it (opening and closing it is timed). Every
   pair of answers must be equal (``mismatches`` must be 0). SQL statements sent by the indexed
   searches are counted (the car parks it hands to the database).
3. **HTTP** (``bench/search_http.py``): one ``parkshare serve``; spawn → first answered search
   (start-up), one client at a time, 500 requests/s offered open-loop for 20 s (latency from the
   scheduled time), and saturation with ``wrk`` (Debian's ``apt-get install wrk``; without it a
   Python closed loop), each generator in its own process.
4. At the largest scale, a **cProfile** of the indexed searches: cumulative time per step and
   the functions with the most own time.

The machine is shared: each phase records the CPU used by other people's processes and the
load average; read the figures with them.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import json
import pstats
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from common import (
    CpuTimes,
    foreign_cpu_seconds,
    foreign_cpu_since,
    git_state,
    machine,
    percentile,
    top_functions,
    tottime_shares,
    write_results,
)
from search_data import CLOCK, NOW, counts, ensure, url_of
from search_http import loadavg, measure_http
from search_http_profile import profile_http
from search_queries import draw_queries, online_places, path_of
from search_report import against_targets, print_report, profile_steps
from sqlalchemy import event, text

from parkshare.config import Settings
from parkshare.db import Database
from parkshare.search.index import SearchIndex
from parkshare.search.rules import SearchQuery
from parkshare.search.service import SearchResult, search

POLICY = Settings().policy()
SEED = 20221
SCALES = (117, 2_000, 20_000)
SIZES: dict[str, dict[str, Any]] = {
    "full": {
        "scales": SCALES,
        "queries": 2_000,
        "warm_up": 50,
        "profile": 1_000,
        "warm_up_s": 3,
        "one_s": 8,
        "rate": 500,
        "rate_s": 20,
        "saturation_connections": [8, 32],
        "sat_s": 10,
        "http_profile_s": 15,
    },
    "quick": {
        "scales": SCALES[:2],
        "queries": 300,
        "warm_up": 20,
        "profile": 200,
        "warm_up_s": 1,
        "one_s": 2,
        "rate": 500,
        "rate_s": 5,
        "saturation_connections": [16],
        "sat_s": 3,
        "http_profile_s": 5,
    },
}


# --- 1. the index build, in a clean process ------------------------------------------------


def _status_mb() -> dict[str, float]:
    found = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            found[name] = round(int(value.split()[0]) / 1024, 1)
    return found


def index_child(url: str) -> None:
    """Build the index once in this (fresh) process; print what it took as JSON."""
    database = Database(url)
    with database.session() as session:  # connect, and load the mappers, before measuring
        session.execute(text("SELECT 1"))
    gc.collect()
    before = _status_mb()
    began, cpu = time.perf_counter(), time.process_time()
    with database.session() as session:
        index = SearchIndex.build(session, clock=CLOCK, policy=POLICY)
    seconds, cpu = time.perf_counter() - began, time.process_time() - cpu
    gc.collect()
    after = _status_mb()
    report = {
        "seconds": round(seconds, 2),
        "cpu_seconds": round(cpu, 2),
        "nbytes_mb": round(index.nbytes / 2**20, 1),
        "car_parks": len(index.lots),
        "slots": index.slots,
        "regular_car_parks": int(index.regular.sum()),
        "rss_before_mb": before["VmRSS"],
        "rss_after_mb": after["VmRSS"],
        "rss_growth_mb": round(after["VmRSS"] - before["VmRSS"], 1),
        "peak_growth_mb": round(after["VmHWM"] - before["VmRSS"], 1),
    }
    database.dispose()
    print(json.dumps(report))


def measure_build(url: str) -> dict[str, Any]:
    command = [sys.executable, __file__, "--index-child", url]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


# --- 2. in process: index against baseline -------------------------------------------------


def timed_search(
    database: Database, query: SearchQuery, index: SearchIndex | None
) -> tuple[SearchResult, float, float]:
    """One search in its own session, as an API request runs it: the answer, the wall seconds
    and this thread's CPU seconds (which other processes on the machine do not stretch)."""
    began, cpu = time.perf_counter(), time.thread_time()
    with database.session() as session:
        result = search(session, query, clock=CLOCK, policy=POLICY, index=index)
    return result, time.perf_counter() - began, time.thread_time() - cpu


def _latency(seconds: list[float]) -> dict[str, float]:
    ms = [1000 * s for s in seconds]
    return {
        "p50_ms": round(percentile(ms, 50), 3),
        "p90_ms": round(percentile(ms, 90), 3),
        "p99_ms": round(percentile(ms, 99), 3),
        "p999_ms": round(percentile(ms, 99.9), 3),
        "max_ms": round(max(ms), 3),
        "mean_ms": round(sum(ms) / len(ms), 3),
    }


def _describe(result: SearchResult) -> list[tuple[str, int, int, str | None]]:
    return [
        (h.code, h.free, h.price_fen, h.must_leave_by.isoformat() if h.must_leave_by else None)
        for h in result.hits
    ]


def in_process(
    database: Database, index: SearchIndex, drawn: list[tuple[str, SearchQuery]], warm_up: int
) -> dict[str, Any]:
    sent = [0]

    def count(*_args: Any) -> None:
        sent[0] += 1

    for _name, query in drawn[:warm_up]:
        timed_search(database, query, index)
        timed_search(database, query, None)
    event.listen(database.engine, "before_cursor_execute", count)
    times: dict[bool, list[float]] = {True: [], False: []}
    cpu: dict[bool, list[float]] = {True: [], False: []}
    by_window: dict[str, list[float]] = defaultdict(list)
    statements, hits, mismatches = [], Counter[int](), []
    others, machine_before = foreign_cpu_seconds(set()), CpuTimes.now()
    load, began = loadavg(), time.perf_counter()
    for k, (name, query) in enumerate(drawn):
        answers = {}
        for indexed in (True, False) if k % 2 == 0 else (False, True):
            before = sent[0]
            answers[indexed], seconds, used = timed_search(
                database, query, index if indexed else None
            )
            times[indexed].append(seconds)
            cpu[indexed].append(used)
            if indexed:
                statements.append(sent[0] - before)
                by_window[name].append(seconds)
        hits[len(answers[True].hits)] += 1
        if answers[True] != answers[False]:
            mismatches.append(
                {
                    "query": path_of(query),
                    "indexed": _describe(answers[True]),
                    "database": _describe(answers[False]),
                }
            )
    wall = time.perf_counter() - began
    event.remove(database.engine, "before_cursor_execute", count)
    indexed, baseline = _latency(times[True]), _latency(times[False])
    return {
        "queries": len(drawn),
        "compared": len(drawn),
        "mismatches": len(mismatches),
        "first_mismatches": mismatches[:3],
        "indexed": indexed,
        "baseline": baseline,
        "ratio_p50": round(baseline["p50_ms"] / indexed["p50_ms"], 1),
        "ratio_p99": round(baseline["p99_ms"] / indexed["p99_ms"], 1),
        "ratio_mean": round(baseline["mean_ms"] / indexed["mean_ms"], 1),
        "indexed_cpu": _latency(cpu[True]),
        "baseline_cpu": _latency(cpu[False]),
        "indexed_by_window": {name: _latency(t) for name, t in sorted(by_window.items())},
        "indexed_sql": {
            "searches_sending_sql_pct": round(
                100 * sum(1 for n in statements if n) / len(statements), 1
            ),
            "statements_per_search": round(sum(statements) / len(statements), 2),
        },
        "hits": {
            "mean": round(sum(n * c for n, c in hits.items()) / len(drawn), 2),
            "full_page_pct": round(100 * hits[10] / len(drawn), 1),
            "none_pct": round(100 * hits[0] / len(drawn), 1),
        },
        "window_mix": dict(Counter(name for name, _ in drawn)),
        "machine_busy_pct": CpuTimes.now().busy_pct_since(machine_before),
        "other_processes_cpu_cores": round(foreign_cpu_since(others, set()) / wall, 2),
        "loadavg_before": load,
        "wall_s": round(wall, 1),
    }


def catch_up_cost(database: Database, index: SearchIndex, rounds: int = 50) -> float:
    """Median ms of ``catch_up`` with nothing changed (an API request pays it at most every
    ``POLL`` seconds)."""
    seconds = []
    for _ in range(rounds):
        began = time.perf_counter()
        with database.session() as session:
            index.catch_up(session, clock=CLOCK, force=True)
        seconds.append(time.perf_counter() - began)
    return round(1000 * percentile(seconds, 50), 3)


# --- 4. where the time goes --------------------------------------------------------------


def profile(
    database: Database, index: SearchIndex, drawn: list[tuple[str, SearchQuery]]
) -> dict[str, Any]:
    queries = [query for _, query in drawn]
    began = time.perf_counter()
    for query in queries:
        timed_search(database, query, index)
    plain_ms = 1000 * (time.perf_counter() - began) / len(queries)
    profiler = cProfile.Profile()
    profiler.enable()
    for query in queries:
        timed_search(database, query, index)
    profiler.disable()
    stats = pstats.Stats(profiler)
    return {
        "searches": len(queries),
        "mean_ms_without_profiler": round(plain_ms, 3),
        "cumulative_us_per_search": profile_steps(stats, len(queries)),
        "tottime_pct": tottime_shares(stats, _bucket),
        "top_functions_by_tottime": top_functions(stats, 15, len(queries)),
    }


def _bucket(path: str, name: str) -> str:
    if "sqlalchemy" in path or (path == "~" and "sqlite3" in name):
        return "SQLAlchemy and SQLite (session, statements)"
    if "numpy" in path or (path == "~" and "numpy" in name):
        return "NumPy (calls and array operations)"
    if path.endswith("fees/tariff.py"):
        return "tariff (fee for the interval)"
    if path.endswith(("search/index.py", "search/service.py", "search/rules.py")):
        return "search index and service (Python)"
    if "parkshare" in path:
        return "other parkshare code (geo, schedules, availability)"
    return "Python runtime and stdlib (datetime, zoneinfo, math, dataclasses)"


# --- a scale ----------------------------------------------------------------------------


def run_scale(lots: int, size: dict[str, Any], scratch: Path, profiled: bool) -> dict[str, Any]:
    print(f"\n{lots} car parks", flush=True)
    data = ensure(lots)
    url = url_of(lots)
    report: dict[str, Any] = {"car_parks": lots, "database": data, "counts": counts(url)}
    report["index_build"] = measure_build(url)
    build = report["index_build"]
    print(
        f"  index: {build['seconds']} s ({build['cpu_seconds']} s CPU), {build['nbytes_mb']} MB "
        f"of arrays, RSS +"
        f"{build['rss_growth_mb']} MB (peak +{build['peak_growth_mb']} MB)",
        flush=True,
    )
    database = Database(url)
    began = time.perf_counter()
    with database.session() as session:
        index = SearchIndex.build(session, clock=CLOCK, policy=POLICY)
    report["index_build"]["seconds_again_in_benchmark"] = round(time.perf_counter() - began, 2)
    drawn = draw_queries(online_places(database), NOW, size["queries"], seed=SEED + lots)
    report["in_process"] = in_process(database, index, drawn, size["warm_up"])
    report["in_process"]["catch_up_ms"] = catch_up_cost(database, index)
    mine = report["in_process"]
    print(
        f"  in process, {mine['queries']} searches: index p50 {mine['indexed']['p50_ms']} ms "
        f"p99 {mine['indexed']['p99_ms']} ms (CPU p99 {mine['indexed_cpu']['p99_ms']} ms); "
        f"SQL p50 {mine['baseline']['p50_ms']} ms p99 "
        f"{mine['baseline']['p99_ms']} ms; ×{mine['ratio_p50']} at p50; "
        f"mismatches {mine['mismatches']}",
        flush=True,
    )
    if profiled:
        report["profile"] = profile(database, index, drawn[: size["profile"]])
    del index
    database.dispose()
    paths = scratch / f"paths-{lots}.txt"
    paths.write_text("\n".join(path_of(query) for _, query in drawn) + "\n")
    report["http"] = measure_http(url, paths, size, scratch / f"serve-{lots}.log")
    if profiled:
        report["http_profile"] = profile_http(url, paths, size["http_profile_s"], scratch)
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="117 and 2,000 car parks, short")
    parser.add_argument("--scales", type=int, nargs="+", help="car parks per run (default: all)")
    parser.add_argument("--index-child", metavar="URL", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.index_child:
        index_child(args.index_child)
        return
    size = dict(SIZES["quick" if args.quick else "full"])
    if args.scales:
        size["scales"] = tuple(args.scales)
    began = time.perf_counter()
    source = git_state(Path(__file__).parent.parent)
    report: dict[str, Any] = {"run": "quick" if args.quick else "full", "size": size}
    report.update(machine=machine(), source=source, clock=NOW.isoformat())
    report["loadavg_at_start"] = loadavg()
    with tempfile.TemporaryDirectory(prefix="parkshare-bench-search-") as scratch:
        largest = max(size["scales"])
        scales = [run_scale(n, size, Path(scratch), n == largest) for n in size["scales"]]
    report["scales"] = scales
    report["targets"] = against_targets(scales)
    report["loadavg_at_end"] = loadavg()
    if git_state(Path(__file__).parent.parent) != source:
        report["source"]["changed_during_run"] = True
    report["seconds"] = round(time.perf_counter() - began, 1)
    print_report(report)
    path = write_results("search-quick" if args.quick else "search", report)
    print(f"\nwritten to {path} in {report['seconds']} s")
    if any(scale["in_process"]["mismatches"] for scale in scales):
        sys.exit("FAILED: the index and the database answered differently")


if __name__ == "__main__":
    main()
