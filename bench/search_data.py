"""The databases of the search benchmark: one SQLite file per scale under
``/tmp/parkshare-bench-search``, built once and reused while the generator is unchanged.

- 117 car parks: the West Coast demo, built by ``parkshare demo`` (with its gate traffic);
- N car parks: ``parkshare demo --scale N``, a province (Shandong) with a week of reservations
  and the month's passes.

Both on the benchmark's frozen clock (``PARKSHARE_NOW``), so a file built yesterday is the same
file. A build writes ``scale-N.db.building`` and renames it when complete; ``scale-N.json``
beside it records the clock, a fingerprint of the generator's sources, the build time and the
counts. A file whose fingerprint differs from the sources is built again.

Run alone to build (or check) the files: ``.venv/bin/python bench/search_data.py 117 2000 20000``.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import text

from parkshare.clock import FixedClock
from parkshare.db import Database

SH = ZoneInfo("Asia/Shanghai")
NOW = datetime(2022, 6, 24, 9, tzinfo=SH)  # Friday morning, as bench/booking.py
CLOCK = FixedClock(NOW)
WEST_COAST = 117
DATA_DIR = Path(os.environ.get("PARKSHARE_BENCH_SEARCH_DIR", "/tmp/parkshare-bench-search"))
SRC = Path(__file__).resolve().parent.parent / "src" / "parkshare"
BIN = Path(sys.executable).parent


def path_of(lots: int) -> Path:
    return DATA_DIR / f"scale-{lots}.db"


def url_of(lots: int) -> str:
    return f"sqlite:///{path_of(lots)}"


def fingerprint(lots: int) -> str:
    """The sources that decide what the database holds (the migrations included)."""
    demo = SRC / "demo"
    names = ["westcoast.py", "sites.py", "activity.py", "simulator.py"]
    files = [demo / n for n in names] if lots == WEST_COAST else sorted(demo.glob("scaled*.py"))
    files += sorted((SRC / "migrations").rglob("*.py"))
    digest = hashlib.sha256()
    for file in files:
        digest.update(file.name.encode() + file.read_bytes())
    return digest.hexdigest()[:16]


def ensure(lots: int) -> dict[str, Any]:
    """The scale's database, built when missing or stale; returns what ``scale-N.json`` says."""
    path = path_of(lots)
    meta_path = path.with_suffix(".json")
    wanted = fingerprint(lots)
    if path.exists() and meta_path.exists():
        meta: dict[str, Any] = json.loads(meta_path.read_text())
        if meta.get("fingerprint") == wanted and meta.get("clock") == NOW.isoformat():
            meta["reused"] = True
            return meta
        print(f"  {path}: the generator changed since it was built; building again", flush=True)
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    building = path.with_name(path.name + ".building")
    for stale in (building, *(building.with_name(building.name + s) for s in ("-wal", "-shm"))):
        stale.unlink(missing_ok=True)
    print(f"  building {path} ({lots} car parks) …", flush=True)
    began = time.perf_counter()
    summary = _build_west_coast(building) if lots == WEST_COAST else _build_scaled(building, lots)
    seconds = round(time.perf_counter() - began, 1)
    meta = {
        "lots": lots,
        "clock": NOW.isoformat(),
        "fingerprint": wanted,
        "build_seconds": seconds,
        "generator": summary,
        "counts": counts(f"sqlite:///{building}"),
        "file_mb": round(building.stat().st_size / 2**20, 1),
    }
    building.rename(path)
    meta_path.write_text(json.dumps(meta, indent=2, ensure_ascii=False) + "\n")
    print(f"  built {path} in {seconds} s: {meta['counts']}", flush=True)
    meta["reused"] = False
    return meta


def _build_west_coast(path: Path) -> dict[str, Any]:
    return _parkshare_demo(path, [])


def _build_scaled(path: Path, lots: int) -> dict[str, Any]:
    return _parkshare_demo(path, ["--scale", str(lots)])


def _parkshare_demo(path: Path, options: list[str]) -> dict[str, Any]:
    """``parkshare demo [options]`` on the file ``path`` at the benchmark's clock."""
    env = {**os.environ, "PARKSHARE_DATABASE_URL": f"sqlite:///{path}"}
    env["PARKSHARE_NOW"] = NOW.isoformat()
    command = [str(BIN / "parkshare"), "demo", *options]
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
    return {"command": " ".join(["parkshare", "demo", *options]), "output": done.stdout.strip()}


def counts(url: str) -> dict[str, int]:
    """What the search has to look through: car parks, berths, commitments in the grid."""
    database = Database(url)
    queries = {
        "car_parks": "SELECT count(*) FROM lots",
        "online_car_parks": "SELECT count(*) FROM lots WHERE status = 'online'",
        "berths": "SELECT coalesce(sum(total), 0) FROM lot_berths",
        "reservations": "SELECT count(*) FROM reservations",
        "passes": "SELECT count(*) FROM passes WHERE revoked_at IS NULL",
    }
    try:
        with database.engine.connect() as connection:
            found = {k: int(connection.execute(text(q)).scalar() or 0) for k, q in queries.items()}
    finally:
        database.dispose()
    found["commitments"] = found["reservations"] + found["passes"]
    return found


if __name__ == "__main__":
    for argument in sys.argv[1:] or ["117"]:
        print(json.dumps(ensure(int(argument)), ensure_ascii=False))
