"""Where an HTTP search spends its time inside ``parkshare serve``: the server run under
cProfile in every thread (``search_serve_profiled.py``), driven by a few clients, then its
statistics per answered search. Waiting (the event loop's poll, idle pool threads, the GIL
behind a lock) is set apart; the shares are of the rest."""

from __future__ import annotations

import json
import os
import pstats
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
from common import cumulative_us, free_port
from search_data import NOW
from search_http import BENCH_DIR, START_TIMEOUT_S, Server, generator

WAITS = ("acquire", "poll", "select", "sleep", "wait")

STEPS = (  # label, file, function: cumulative microseconds per answered search
    ("uvicorn: one request, parse to send", "uvicorn/protocols/http/httptools_impl.py", "run_asgi"),
    ("FastAPI: dependencies solved", "fastapi/dependencies/utils.py", "solve_dependencies"),
    ("  authorize (the access table)", "accounts/deps.py", "authorize"),
    ("search_lots (the route, on the event loop)", "search/api.py", "search_lots"),
    ("answer (the route's one worker-thread call)", "search/api.py", "answer"),
    ("  current_index (catch_up)", "search/api.py", "current_index"),
    ("  search() (the service, as in process)", "search/service.py", "search"),
    ("  SearchRead.of (answer schema)", "search/schemas.py", "of"),
    ("FastAPI: response validated and serialised", "fastapi/routing.py", "serialize_response"),
    ("thread-pool hand-offs, event loop side (run_sync)", "anyio/to_thread.py", "run_sync"),
    ("access log (logging, plate filter)", "logging/__init__.py", "callHandlers"),
)


def _bucket(path: str, name: str) -> str:
    if path == "~" and any(word in name for word in WAITS):
        return "waiting"
    for words, label in (
        (("uvicorn", "httptools"), "uvicorn and httptools (HTTP/1.1)"),
        (("starlette", "fastapi", "anyio"), "Starlette, FastAPI, anyio (routing, deps, threads)"),
        (("pydantic",), "Pydantic (parameters, response model)"),
        (("sqlalchemy",), "SQLAlchemy (session per request)"),
        (("logging", "parkshare/logs.py"), "logging (access log, plate filter)"),
        (("parkshare/search",), "search (index, service, schema)"),
        (("asyncio", "selectors"), "asyncio event loop"),
        (("parkshare",), "other parkshare (access, deps, clock, errors)"),
    ):
        if any(word in path for word in words):
            return label
    return "Python runtime and stdlib"


def _calls(stats: pstats.Stats, path_suffix: str, function: str) -> int:
    table: dict[tuple[str, int, str], Any] = stats.stats  # type: ignore[attr-defined]
    return sum(
        value[1]
        for (path, _line, name), value in table.items()
        if name == function and path.endswith(path_suffix)
    )


def summarise(
    stats: pstats.Stats, pool_calls: int | None = None, answered: int | None = None
) -> dict[str, Any]:
    """Per answered search: ``answered`` as the clients counted them (cProfile counts every
    resumption of an ``async`` route as a call of it), else the route's calls."""
    table: dict[tuple[str, int, str], Any] = stats.stats  # type: ignore[attr-defined]
    answered = answered or _calls(stats, "search/api.py", "search_lots")
    buckets: Counter[str] = Counter()
    for (path, _line, name), value in table.items():
        buckets[_bucket(path, name)] += value[2]
    waiting = buckets.pop("waiting", 0.0)
    busy = sum(buckets.values()) or 1.0
    ranked = sorted(
        ((key, value) for key, value in table.items() if _bucket(key[0], key[2]) != "waiting"),
        key=lambda item: item[1][2],
        reverse=True,
    )[:15]
    return {
        "searches_answered": answered,
        "busy_us_per_search": round(1e6 * busy / max(answered, 1), 1),
        "waiting_us_per_search": round(1e6 * waiting / max(answered, 1), 1),
        "tottime_pct_of_busy": {k: round(100 * v / busy, 1) for k, v in buckets.most_common()},
        "cumulative_us_per_search": {
            label: cumulative_us(stats, path, name, max(answered, 1)) for label, path, name in STEPS
        },
        "thread_pool_hand_offs_per_search": (
            round(pool_calls / max(answered, 1), 2) if pool_calls is not None else None
        ),
        "top_functions_by_tottime": [
            f"{1e6 * value[2] / max(answered, 1):8.1f} us  {name}  "
            f"({path.split('site-packages/')[-1]}:{line})"
            for (path, line, name), value in ranked
        ],
    }


def profile_http(url: str, paths: Path, seconds: float, scratch: Path) -> dict[str, Any]:
    """Serve under cProfile, 4 clients for ``seconds``, stop, summarise."""
    port, out = free_port(), scratch / "serve.prof"
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "PARKSHARE_DATABASE_URL": url, "PARKSHARE_NOW": NOW.isoformat()}
    command = [sys.executable, str(BENCH_DIR / "search_serve_profiled.py"), str(port), str(out)]
    probe = paths.read_text().splitlines()[0]
    with (scratch / "serve-profiled.log").open("w") as log:
        server = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        began = time.perf_counter()
        while True:
            try:
                if httpx.get(base + probe, timeout=10).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if server.poll() is not None or time.perf_counter() - began > START_TIMEOUT_S:
                raise RuntimeError("the profiled server did not start")
            time.sleep(0.05)
        # Profile the index's answers, not the database's while the index is being built.
        while httpx.get(base + "/api/v1/health", timeout=10).json()["search_index"] == "building":
            if time.perf_counter() - began > START_TIMEOUT_S:
                raise RuntimeError("the profiled server did not build its index")
            time.sleep(0.05)
        load = generator(
            "closed", Server(base, server.pid, 0.0, 0.0), paths, connections=4, seconds=seconds
        )
    finally:
        server.terminate()
        server.wait(timeout=120)
    sidecar = json.loads(Path(f"{out}.json").read_text())
    found = summarise(pstats.Stats(str(out)), sidecar["pool_calls"], load["ok"])
    found["pool_threads"] = sidecar["pool_threads"]
    found["load"] = {k: load[k] for k in ("requests", "ok", "answered_per_s", "p50_ms")}
    return found
