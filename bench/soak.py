"""Soak: one ``parkshare serve`` on PostgreSQL under steady mixed traffic for minutes.

Run as ``.venv/bin/python bench/soak.py`` (``make soak``); ``SOAK_SECONDS`` (default 180) and
``SOAK_RATE`` (requests a second, default 20) or ``--seconds`` / ``--rate`` set the load. It
drops and creates the database ``parkshare_soak`` on the server of ``--postgres`` (default
``$PARKSHARE_BENCH_POSTGRES_URL`` or the local test server), builds the West Coast demo in it
with ``parkshare demo`` (with its replayed gate traffic; ``--quick`` skips that), starts one
``parkshare serve`` on the benchmarks' frozen clock (2022-06-24 09:00, Asia/Shanghai) and
offers, at a fixed rate from a few threads (``bench/soak_load.py``): 60 % searches, 15 %
bookings (each with its Idempotency-Key, 5 % of them retried; 30 % of them for the same
night at one small car park, which fills up), 5 % cancellations, 15 % gate event batches
(walk-ins, and booked cars arriving and leaving), 5 % counts.

It prints and writes to ``bench/results/soak.json``: throughput, p50/p99 per kind, errors
(5xx, unexpected 4xx, transport failures, rejected items; expected refusals such as
``no_capacity`` are counted apart), the server's RSS every few seconds with whether it levels
off, and the invariant check (``parkshare.ops.invariants``) of the database at the end. It
exits non-zero when there were errors, the server stopped answering, or an invariant fails.
``--database sqlite`` soaks the embedded database instead (in a temporary directory).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from common import (
    drop_postgres,
    git_state,
    machine,
    print_table,
    recreate_postgres,
    write_results,
)
from search_data import NOW
from search_http import BIN, parkshare_serve, rss_mb
from soak_load import MIX, Lot, Traffic, offer

from parkshare.db import Database
from parkshare.ops.invariants import check

DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
ADMIN = {"login": "admin", "password": "admin-demo-2022"}  # the demo's, printed by it
PROBE = (
    "/api/v1/search?lat=35.955&lon=120.19&from=2022-06-24T19:00%2B08:00&to=2022-06-25T07:00%2B08:00"
)
LEVEL_WARM_UP = 0.1  # the first tenth of the run is start-up, not a trend
LEVEL_THRESHOLD = (5.0, 0.03)  # growth over the last half: at most 5 MB or 3 %, the larger


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=float(os.environ.get("SOAK_SECONDS", 180)))
    parser.add_argument("--rate", type=float, default=float(os.environ.get("SOAK_RATE", 20)))
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--database", choices=("postgresql", "sqlite"), default="postgresql")
    parser.add_argument(
        "--postgres", default=os.environ.get("PARKSHARE_BENCH_POSTGRES_URL", DEFAULT_POSTGRES)
    )
    parser.add_argument("--name", default="parkshare_soak", help="PostgreSQL database name")
    parser.add_argument("--quick", action="store_true", help="demo without its gate traffic")
    parser.add_argument("--sample-seconds", type=float, default=None)
    parser.add_argument("--output", type=Path, default=None)
    parser.add_argument("--seed", type=int, default=20220624)
    return parser.parse_args()


def main() -> int:
    args = arguments()
    sample = args.sample_seconds or (1.0 if args.quick or args.seconds < 60 else 5.0)
    scratch = Path(tempfile.mkdtemp(prefix="parkshare-soak-"))
    url, drop = database_for(args, scratch)
    report: dict[str, Any] = {
        "config": {
            "seconds": args.seconds,
            "rate_per_s": args.rate,
            "workers": args.workers,
            "database": args.database,
            "mix": MIX,
            "clock": NOW.isoformat(),
            "rss_sample_s": sample,
        },
        "machine": machine(url if args.database == "postgresql" else None),
        "source": git_state(Path(__file__).parent.parent),
    }
    try:
        report["demo"] = build_demo(url, quick=args.quick)
        print(f"demo built in {report['demo']['seconds']} s", flush=True)
        report |= soak(url, args, sample, scratch / "serve.log")
        report["invariants"] = invariants(url)
    finally:
        drop()
    passed = verdict(report)
    if args.output is None:
        path = write_results(name_of(args), report)
    else:
        path = args.output
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print_report(report)
    if passed:
        shutil.rmtree(scratch, ignore_errors=True)  # the server's log (and SQLite file)
    else:
        print(f"the server's log (and a SQLite database) are kept in {scratch}")
    print(f"wrote {path}; {'PASS' if passed else 'FAIL'}", flush=True)
    return 0 if passed else 1


def name_of(args: argparse.Namespace) -> str:
    return "soak-quick" if args.quick else "soak"


def database_for(args: argparse.Namespace, scratch: Path) -> tuple[str, Callable[[], None]]:
    """A fresh, empty database and how to drop it."""
    if args.database == "sqlite":
        return f"sqlite:///{scratch / 'parkshare.db'}", lambda: None
    url = recreate_postgres(args.postgres, args.name)
    return url, lambda: drop_postgres(args.postgres, args.name)


def build_demo(url: str, *, quick: bool) -> dict[str, Any]:
    """``parkshare demo`` on the frozen clock (it migrates the empty database first)."""
    env = {**os.environ, "PARKSHARE_DATABASE_URL": url, "PARKSHARE_NOW": NOW.isoformat()}
    command = [str(BIN / "parkshare"), "demo", *(["--no-traffic"] if quick else [])]
    began = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
    lines = [line for line in done.stdout.splitlines() if line.startswith(("Built", "Replayed"))]
    return {"seconds": round(time.perf_counter() - began, 1), "output": " ".join(lines)}


def soak(url: str, args: argparse.Namespace, sample: float, log: Path) -> dict[str, Any]:
    with parkshare_serve(url, PROBE, log) as server:
        print(f"serve ready in {server.startup_s} s, RSS {server.rss_mb_ready} MB", flush=True)
        base = server.base
        headers, lots = sign_in(base)
        traffic = Traffic(lots, NOW, seed=args.seed)
        sampler = Sampler(server.pid, sample)
        sampler.start()
        print(f"offering {args.rate:g} requests/s for {args.seconds:g} s …", flush=True)
        run = offer(
            traffic, base, headers, rate=args.rate, seconds=args.seconds, workers=args.workers
        )
        sampler.stop()
        answering = answers(base)
        rss = sampler.samples
    kinds = {kind: outcome.summary() for kind, outcome in traffic.outcomes.items()}
    requests = sum(kind["requests"] for kind in kinds.values())
    return {
        "server": {
            "startup_s": server.startup_s,
            "rss_mb_ready": server.rss_mb_ready,
            "answering_after": answering,
            "log": str(log),
        },
        "run": run | {"requests": requests, "per_s": round(requests / run["wall_s"], 1)},
        "errors": sum(kind["errors"] for kind in kinds.values()),
        "refused": sum(sum(kind["refused"].values()) for kind in kinds.values()),
        "hot": {"lot": traffic.hot[0], "from": traffic.hot[1], "to": traffic.hot[2]}
        if traffic.hot
        else None,
        "kinds": kinds,
        "rss": {"samples": rss, **levels_off(rss)},
    }


def sign_in(base: str) -> tuple[dict[str, dict[str, str]], list[Lot]]:
    """An administrator's token (bookings anywhere, for any plate), an ingest key for every
    car park, and the car parks."""
    with httpx.Client(base_url=base, timeout=30.0) as client:
        token = client.post("/api/v1/auth/token", json=ADMIN).raise_for_status().json()["token"]
        admin = {"Authorization": f"Bearer {token}"}
        page = client.get("/api/v1/lots", params={"limit": 500}).raise_for_status().json()
        lots = [
            Lot(
                code=item["code"],
                lon=item["location"]["lon"],
                lat=item["location"]["lat"],
                berths=item["total_berths"],
                shared=item["shared_berths"],
                kind=item["kind"],
            )
            for item in page["items"]
            if item["status"] == "online"
        ]
        body = {"name": "soak", "lots": [lot.code for lot in lots]}
        created = client.post("/api/v1/ingest/keys", json=body, headers=admin)
        key = {"Authorization": f"Bearer {created.raise_for_status().json()['key']}"}
    return {"book": admin, "cancel": admin, "events": key, "counts": key}, lots


def answers(base: str) -> bool:
    try:
        return httpx.get(base + PROBE, timeout=10.0).status_code == 200
    except httpx.HTTPError:
        return False


class Sampler:
    """The server's resident memory (VmRSS) and threads every ``every`` seconds."""

    def __init__(self, pid: int, every: float) -> None:
        self.pid, self.every = pid, every
        self.samples: list[dict[str, float]] = []
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> None:
        self.began = time.perf_counter()
        self.thread.start()

    def stop(self) -> None:
        self.done.set()
        self.thread.join()

    def _run(self) -> None:
        while True:
            status = Path(f"/proc/{self.pid}/status").read_text()
            threads = next(
                int(line.split()[1]) for line in status.splitlines() if line.startswith("Threads:")
            )
            at = round(time.perf_counter() - self.began, 1)
            self.samples.append({"t_s": at, "rss_mb": rss_mb(self.pid), "threads": threads})
            if self.done.wait(self.every):
                return


def levels_off(samples: list[dict[str, float]]) -> dict[str, Any]:
    """Whether memory levels off: the least-squares growth over the last half of the run
    (after the warm-up) stays under the threshold."""
    if len(samples) < 4:
        return {"verdict": "too few samples", "levels_off": None}
    end = samples[-1]["t_s"]
    half = [s for s in samples if s["t_s"] >= max(end / 2, LEVEL_WARM_UP * end)]
    if len(half) < 2:
        half = samples[-2:]
    times = [s["t_s"] for s in half]
    values = [s["rss_mb"] for s in half]
    mean_t, mean_v = sum(times) / len(times), sum(values) / len(values)
    spread = sum((t - mean_t) ** 2 for t in times) or 1.0
    slope = sum((t - mean_t) * (v - mean_v) for t, v in zip(times, values, strict=True)) / spread
    growth = slope * (times[-1] - times[0])
    limit = max(LEVEL_THRESHOLD[0], LEVEL_THRESHOLD[1] * mean_v)
    return {
        "start_mb": samples[0]["rss_mb"],
        "end_mb": samples[-1]["rss_mb"],
        "max_mb": max(s["rss_mb"] for s in samples),
        "growth_last_half_mb": round(growth, 1),
        "threshold_mb": round(limit, 1),
        "levels_off": growth <= limit,
        "verdict": "levels off" if growth <= limit else "still growing",
    }


def invariants(url: str) -> dict[str, Any]:
    database = Database(url)
    try:
        began = time.perf_counter()
        with database.session() as session:
            report = check(session, now=NOW)
        seconds = round(time.perf_counter() - began, 2)
    finally:
        database.dispose()
    return {
        "ok": report.ok,
        "seconds": seconds,
        "counts": report.counts,
        "problems": list(report.problems[:50]),
        "problem_count": len(report.problems),
    }


def verdict(report: dict[str, Any]) -> bool:
    return (
        report.get("errors", 1) == 0
        and report.get("server", {}).get("answering_after", False)
        and report.get("invariants", {}).get("ok", False)
    )


def print_report(report: dict[str, Any]) -> None:
    run, kinds = report["run"], report["kinds"]
    print(
        f"\n{run['requests']:,} requests in {run['wall_s']} s: {run['per_s']} req/s "
        f"(offered {report['config']['rate_per_s']:g}/s; queue at most {run['max_queue_s']:.2f} s)"
    )
    rows = [
        [
            kind,
            f"{k['requests']:,}",
            f"{k['ok']:,}",
            f"{sum(k['refused'].values()):,}",
            f"{k['errors']:,}",
            f"{k['p50_ms']}",
            f"{k['p99_ms']}",
            f"{k['p99_from_schedule_ms']}",
        ]
        for kind, k in kinds.items()
    ]
    print_table(
        ["kind", "requests", "ok", "refused", "errors", "p50 ms", "p99 ms", "p99 from due ms"],
        rows,
    )
    for kind, k in kinds.items():
        for example in k["error_examples"][:3]:
            print(f"  {kind} error: {example}")
        if k["refused"]:
            print(f"  {kind} refused: {k['refused']}")
    rss = report["rss"]
    print(
        f"server RSS {rss.get('start_mb')} → {rss.get('end_mb')} MB (max {rss.get('max_mb')}); "
        f"last half {rss.get('growth_last_half_mb')} MB (limit {rss.get('threshold_mb')}): "
        f"{rss['verdict']}"
    )
    check_ = report["invariants"]
    held = "hold" if check_["ok"] else "BROKEN"
    print(f"invariants: {held} ({check_['seconds']} s) {check_['counts']}")
    for problem in check_["problems"][:10]:
        print(f"  problem: {problem}")
    print(f"server answering after the run: {report['server']['answering_after']}")


if __name__ == "__main__":
    sys.exit(main())
