"""HTTP load for the search benchmark, run as its own process so that it does not share an
interpreter (and its GIL) with the benchmark or the server.

- ``open``: requests at fixed scheduled times (``--rate`` per second for ``--seconds``), each
  on an idle keep-alive connection or a new one; latency runs from the *scheduled* time to the
  last byte of the answer, so a server (or a generator) that falls behind shows in the figures
  instead of slowing the offered rate (no coordinated omission). The lag between scheduled and
  actual send is reported separately: when it grows, the generator was the bottleneck.
  A request sent on an idle keep-alive connection that the server has just closed (uvicorn
  closes them after 5 s) is sent again on a new one, as HTTP clients do, its latency still
  counted from the schedule.
- ``closed``: ``--connections`` clients, each sending its next request when the last answer
  arrived (the fallback for saturation when ``wrk`` is not installed).

A small HTTP/1.1 client over asyncio streams (GET, Content-Length bodies): much cheaper per
request than a general client, which matters on a 2-core machine that also runs the server.
Paths are read from ``--paths`` (one per line) and used in turn. The result is JSON on stdout.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import sys
import time
from collections import Counter
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

MAX_CONNECTIONS = 1_000
TIMEOUT_S = 30.0


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(1, math.ceil(q / 100 * len(ordered))) - 1] if ordered else float("nan")


class Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, host: str, port: int) -> Connection:
        reader, writer = await asyncio.open_connection(host, port)
        return cls(reader, writer)

    async def get(self, request: bytes) -> int:
        """Send one prepared GET; the status once the whole body is read."""
        self.writer.write(request)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length = None
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        if length is None:
            raise RuntimeError("an answer without Content-Length")
        await self.reader.readexactly(length)
        return status

    def close(self) -> None:
        self.writer.close()


class Pool:
    """Idle keep-alive connections; a new one when none is idle."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.idle: list[Connection] = []
        self.opened = 0
        self.room = asyncio.Semaphore(MAX_CONNECTIONS)

    async def take(self) -> tuple[Connection, bool]:
        """A connection, and whether it was idle (the server may have closed it meanwhile)."""
        await self.room.acquire()
        if self.idle:
            return self.idle.pop(), True
        return await self.fresh(), False

    async def fresh(self) -> Connection:
        self.opened += 1
        return await Connection.open(self.host, self.port)

    def give(self, connection: Connection | None) -> None:
        if connection is not None:
            self.idle.append(connection)
        self.room.release()

    def close(self) -> None:
        for connection in self.idle:
            connection.close()


def prepared(base: str, paths: Sequence[str]) -> tuple[str, int, list[bytes]]:
    parts = urlsplit(base)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    head = f"Host: {host}:{port}\r\nAccept: application/json\r\n\r\n"
    return host, port, [f"GET {p} HTTP/1.1\r\n{head}".encode() for p in paths]


class Tally:
    def __init__(self) -> None:
        self.latencies: list[float] = []
        self.lags: list[float] = []
        self.statuses: Counter[str] = Counter()

    async def one(self, pool: Pool, request: bytes, scheduled: float | None) -> None:
        loop = asyncio.get_running_loop()
        began = loop.time()
        connection: Connection | None = None
        try:
            connection, reused = await pool.take()
            sent = loop.time()
            try:
                status = await asyncio.wait_for(connection.get(request), TIMEOUT_S)
            except (asyncio.IncompleteReadError, ConnectionError):
                if not reused:
                    raise
                # The server closed the idle keep-alive connection (uvicorn: after 5 s) as we
                # sent on it; send again on a new one, as HTTP clients do.
                connection.close()
                connection = await pool.fresh()
                status = await asyncio.wait_for(connection.get(request), TIMEOUT_S)
            self.statuses[str(status)] += 1
        except (OSError, asyncio.IncompleteReadError, TimeoutError, RuntimeError) as exc:
            self.statuses[type(exc).__name__] += 1
            if connection is not None:
                connection.close()
                connection = None
            sent = loop.time()
        finally:
            pool.give(connection)
        start = began if scheduled is None else scheduled
        self.latencies.append(loop.time() - start)
        self.lags.append(sent - start)

    def summary(self, wall: float, cpu: float, **extra: Any) -> dict[str, Any]:
        ms = [1000 * t for t in self.latencies]
        lags = [1000 * t for t in self.lags]
        ok = self.statuses.get("200", 0)
        return {
            "requests": len(ms),
            "ok": ok,
            "statuses": dict(self.statuses),
            "wall_s": round(wall, 2),
            "answered_per_s": round(ok / wall, 1) if wall else 0.0,
            "p50_ms": round(percentile(ms, 50), 2),
            "p90_ms": round(percentile(ms, 90), 2),
            "p99_ms": round(percentile(ms, 99), 2),
            "p999_ms": round(percentile(ms, 99.9), 2),
            "max_ms": round(max(ms), 2) if ms else None,
            "send_lag_p50_ms": round(percentile(lags, 50), 2),
            "send_lag_p99_ms": round(percentile(lags, 99), 2),
            "generator_cpu_cores": round(cpu / wall, 2) if wall else 0.0,
            **extra,
        }


async def open_loop(base: str, paths: Sequence[str], rate: float, seconds: float) -> dict[str, Any]:
    host, port, requests = prepared(base, paths)
    pool, tally = Pool(host, port), Tally()
    loop = asyncio.get_running_loop()
    count = int(rate * seconds)
    tasks: set[asyncio.Task[None]] = set()
    cpu, t0 = time.process_time(), loop.time() + 0.05
    late = 0.0
    for i in range(count):
        scheduled = t0 + i / rate
        delay = scheduled - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        else:
            late = max(late, -delay)
        task = asyncio.create_task(tally.one(pool, requests[i % len(requests)], scheduled))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    await asyncio.gather(*tasks)
    wall = loop.time() - t0
    pool.close()
    return tally.summary(
        wall,
        time.process_time() - cpu,
        mode="open",
        offered_per_s=rate,
        connections_opened=pool.opened,
        scheduler_late_max_ms=round(1000 * late, 2),
    )


async def closed_loop(
    base: str, paths: Sequence[str], connections: int, seconds: float
) -> dict[str, Any]:
    host, port, requests = prepared(base, paths)
    pool, tally = Pool(host, port), Tally()
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds

    async def client(k: int) -> None:
        i = k * 7919
        while loop.time() < deadline:
            await tally.one(pool, requests[i % len(requests)], None)
            i += 1

    cpu, began = time.process_time(), loop.time()
    await asyncio.gather(*(client(k) for k in range(connections)))
    wall = loop.time() - began
    pool.close()
    return tally.summary(wall, time.process_time() - cpu, mode="closed", connections=connections)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("mode", choices=("open", "closed"))
    parser.add_argument("--base", required=True, help="e.g. http://127.0.0.1:8000")
    parser.add_argument("--paths", required=True, help="a file of request paths, one a line")
    parser.add_argument("--rate", type=float, default=500.0, help="open: requests per second")
    parser.add_argument("--connections", type=int, default=32, help="closed: clients")
    parser.add_argument("--seconds", type=float, default=20.0)
    args = parser.parse_args()
    with open(args.paths, encoding="utf-8") as lines:
        paths = [line.strip() for line in lines if line.strip()]
    if args.mode == "open":
        result = asyncio.run(open_loop(args.base, paths, args.rate, args.seconds))
    else:
        result = asyncio.run(closed_loop(args.base, paths, args.connections, args.seconds))
    json.dump(result, sys.stdout)


if __name__ == "__main__":
    main()
