"""``parkshare serve`` under cProfile, in every thread (the event loop's and the thread pool's
that runs FastAPI's sync dependencies and routes): the same app, logging and uvicorn as
``parkshare serve``, with the profilers started once the server is up (start-up is not in the
figures) and a profiler started in each pool thread as it begins. On SIGTERM uvicorn stops and
the merged statistics are written to the file given, and beside it (``OUT.prof.json``) how many
pool threads ran and how many calls they took from the event loop (``Context.run`` in anyio's
worker threads: one per sync dependency or route; cProfile counts every resumption of a
coroutine as a call, so the event loop's side cannot count them).

``.venv/bin/python bench/search_serve_profiled.py PORT OUT.prof`` with the server's
``PARKSHARE_*`` environment. cProfile slows Python-heavy code several times over, so the times
it reports are for ranking, not for reading as latency.
"""

from __future__ import annotations

import asyncio
import cProfile
import json
import pstats
import signal
import sys
import threading
from typing import Any

import uvicorn

from parkshare.app import create_app
from parkshare.config import get_settings
from parkshare.logs import log_config

PROFILES: list[cProfile.Profile] = []
RUN = "<method 'run' of '_contextvars.Context' objects>"  # anyio's worker runs each call so


def _profile_this_thread(*_args: Any) -> None:
    """The first event in a new thread: replace this hook with a profiler of its own."""
    profiler = cProfile.Profile()
    PROFILES.append(profiler)
    profiler.enable()


async def serve(port: int, main_thread: cProfile.Profile) -> None:
    config = uvicorn.Config(
        create_app(get_settings()), host="127.0.0.1", port=port, log_config=log_config()
    )
    server = uvicorn.Server(config)
    running = asyncio.create_task(server.serve())
    while not server.started and not running.done():
        await asyncio.sleep(0.01)
    threading.setprofile(_profile_this_thread)
    main_thread.enable()
    await running
    main_thread.disable()


def main() -> None:
    port, out = int(sys.argv[1]), sys.argv[2]
    # uvicorn stops on SIGTERM, then raises it again under the handler found before it ran:
    # a handler that returns lets the statistics be written.
    signal.signal(signal.SIGTERM, lambda *_: None)
    main_thread = cProfile.Profile()
    asyncio.run(serve(port, main_thread))
    stats = pstats.Stats(main_thread)
    hand_offs = 0
    for profiler in list(PROFILES):
        pool_thread = pstats.Stats(profiler)
        table: dict[tuple[str, int, str], Any] = pool_thread.stats  # type: ignore[attr-defined]
        hand_offs += sum(v[1] for k, v in table.items() if k[2] == RUN)
        stats.add(pool_thread)
    stats.dump_stats(out)
    with open(out + ".json", "w", encoding="utf-8") as sidecar:
        json.dump({"pool_threads": len(PROFILES), "pool_calls": hand_offs}, sidecar)


if __name__ == "__main__":
    main()
