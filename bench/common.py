"""Helpers shared by the benchmarks: the machine they ran on, a scratch PostgreSQL database,
CPU accounting, concurrent clients (threads or processes), a server subprocess, cProfile
summaries, percentiles and plain-text tables. Nothing here runs on import."""

from __future__ import annotations

import json
import math
import multiprocessing
import os
import platform
import pstats
import socket
import sqlite3
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import Engine, create_engine, event, make_url, text

RESULTS_DIR = Path(__file__).parent / "results"


def machine(postgres_url: str | None = None) -> dict[str, Any]:
    """What the figures were measured on."""
    info: dict[str, Any] = {
        "cpus": os.cpu_count(),
        "cpu_model": _cpu_model(),
        "ram_gib": _ram_gib(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "postgresql": None,
    }
    if postgres_url:
        try:
            engine = create_engine(postgres_url)
            with engine.connect() as connection:
                info["postgresql"] = connection.execute(text("SHOW server_version")).scalar()
            engine.dispose()
        except Exception as exc:  # no server: say so in the results instead of failing
            info["postgresql"] = f"unreachable: {type(exc).__name__}"
    return info


def _cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def _ram_gib() -> float:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return round(int(line.split()[1]) / 1024**2, 1)
    return 0.0


def filesystem_of(path: str | Path) -> str:
    """The filesystem type holding ``path`` (fsync costs differ between ext4 and tmpfs)."""
    target, best, kind = str(Path(path).resolve()), "", "unknown"
    for line in Path("/proc/mounts").read_text().splitlines():
        _device, mount, fstype, *_ = line.split()
        if (target == mount or target.startswith(mount.rstrip("/") + "/")) and len(mount) > len(
            best
        ):
            best, kind = mount, fstype
    return kind


def recreate_postgres(server_url: str, name: str) -> str:
    """Drop and create database ``name`` on the server of ``server_url``; return its URL."""
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(server_url).set(database=name).render_as_string(hide_password=False)


def drop_postgres(server_url: str, name: str) -> None:
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass(frozen=True)
class CpuTimes:
    """Whole-machine CPU ticks from /proc/stat."""

    busy: int
    total: int

    @classmethod
    def now(cls) -> CpuTimes:
        fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        idle = fields[3] + fields[4]  # idle + iowait
        return cls(busy=sum(fields) - idle, total=sum(fields))

    def busy_pct_since(self, earlier: CpuTimes) -> float:
        """Share of all cores busy since ``earlier`` (100 = every core busy)."""
        total = self.total - earlier.total
        return round(100.0 * (self.busy - earlier.busy) / total, 1) if total else 0.0


def _stat(pid: int | str) -> list[str]:
    """The fields of /proc/<pid>/stat after the command name (state, ppid, …)."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process and its live children (a server's workers)."""
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = _stat(entry.name)
        except OSError:  # the process ended meanwhile
            continue
        if int(entry.name) == pid or int(fields[1]) == pid:
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def foreign_cpu_seconds(exclude: set[int]) -> dict[int, float]:
    """CPU seconds so far of every process that is not ours (this process, its children,
    ``exclude``), not PostgreSQL's and not the kernel's: other work on a shared machine skews
    the figures."""
    ours = exclude | {os.getpid()}
    seconds = {}
    tick = os.sysconf("SC_CLK_TCK")
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) in ours:
            continue
        try:
            fields = _stat(entry.name)
            owner = entry.stat().st_uid
        except OSError:  # the process ended meanwhile
            continue
        if int(fields[1]) in ours | {2} or owner == _POSTGRES_UID:  # 2: kernel threads
            continue
        seconds[int(entry.name)] = (int(fields[11]) + int(fields[12])) / tick
    return seconds


def _postgres_uid() -> int | None:
    for line in Path("/etc/passwd").read_text().splitlines():
        name, _, uid, *_ = line.split(":")
        if name == "postgres":
            return int(uid)
    return None


_POSTGRES_UID = _postgres_uid()


def foreign_cpu_since(before: dict[int, float], exclude: set[int]) -> float:
    after = foreign_cpu_seconds(exclude)
    return sum(max(0.0, cpu - before.get(pid, 0.0)) for pid, cpu in after.items())


def git_state(path: Path) -> dict[str, Any]:
    """The commit measured, and whether the sources differed from it."""

    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=path, capture_output=True, text=True)
        return done.stdout.strip()

    return {
        "commit": git("rev-parse", "HEAD"),
        "src_modified": bool(git("status", "--short", "src")),
    }


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of a non-empty sequence."""
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def print_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    print(" | ".join(h.rjust(w) for h, w in zip(headers, widths, strict=True)))
    print("-+-".join("-" * w for w in widths))
    for row in rows:
        print(" | ".join(c.rjust(w) for c, w in zip(row, widths, strict=True)))


def write_results(name: str, report: dict[str, Any]) -> Path:
    path = RESULTS_DIR / f"{name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


# --- concurrent clients --------------------------------------------------------------------

TIMED = threading.local()  # set while a client is inside its timed loop
BARRIER_TIMEOUT = 300.0

Answer = Callable[[Any], str]  # answers one job with an outcome label ("accepted", a code…)
Opener = Callable[[], AbstractContextManager[tuple[Answer, list[str]]]]


def count_statements(engine: Engine, into: list[str]) -> Callable[..., None]:
    """Append every SQL statement the engine sends while the sending client is timed.
    Returns the listener (for ``event.remove``)."""

    def seen(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if getattr(TIMED, "on", False):
            into.append(statement)

    event.listen(engine, "before_cursor_execute", seen)
    return seen


def statement_kinds(statements: Sequence[str]) -> Counter[str]:
    return Counter(s.split(None, 1)[0].upper() for s in statements)


@dataclass
class ClientResult:
    latencies: list[float]
    outcomes: Counter[str]
    warm_up: str
    started: float
    finished: float
    cpu_seconds: float
    statements: Counter[str] = field(default_factory=Counter)


def client_loop(
    open_client: Opener, jobs: Sequence[Any], warm_up: Any, barrier: Any
) -> ClientResult:
    """Warm up (not timed), wait for the others, then answer ``jobs`` back to back."""
    with open_client() as (answer, statements):
        warmed = answer(warm_up)
        barrier.wait()
        TIMED.on = True
        started, cpu = time.perf_counter(), time.process_time()
        latencies, outcomes = [], Counter[str]()
        for job in jobs:
            began = time.perf_counter()
            outcomes[answer(job)] += 1
            latencies.append(time.perf_counter() - began)
        finished, cpu = time.perf_counter(), time.process_time() - cpu
        TIMED.on = False
        kinds = statement_kinds(statements)
        return ClientResult(latencies, outcomes, warmed, started, finished, cpu, kinds)


def _child(queue: Any, k: int, *args: Any) -> None:
    try:
        queue.put((k, client_loop(*args)))
    except BaseException as exc:
        queue.put((k, f"{type(exc).__name__}: {exc}"))
        raise


def run_clients(
    open_client: Opener, jobs: Sequence[Sequence[Any]], warm_ups: Sequence[Any], mode: str
) -> tuple[list[ClientResult], float]:
    """One client per entry of ``jobs``, as threads of this process or as forked processes,
    released together. Returns their results and the CPU seconds the clients used."""
    clients = len(jobs)
    if mode == "threads":
        barrier: Any = threading.Barrier(clients + 1, timeout=BARRIER_TIMEOUT)
        results: list[Any] = [None] * clients

        def work(k: int) -> None:
            results[k] = client_loop(open_client, jobs[k], warm_ups[k], barrier)

        threads = [threading.Thread(target=work, args=(k,)) for k in range(clients)]
        for thread in threads:
            thread.start()
        barrier.wait()
        cpu = time.process_time()
        for thread in threads:
            thread.join()
        cpu = time.process_time() - cpu
    else:
        context = multiprocessing.get_context("fork")  # the children share the parent's plan
        barrier = context.Barrier(clients + 1, timeout=BARRIER_TIMEOUT)
        queue = context.Queue()
        processes = [
            context.Process(
                target=_child, args=(queue, k, open_client, jobs[k], warm_ups[k], barrier)
            )
            for k in range(clients)
        ]
        for process in processes:
            process.start()
        barrier.wait()
        answers = dict(queue.get(timeout=BARRIER_TIMEOUT) for _ in processes)
        for process in processes:
            process.join()
        results = [answers[k] for k in range(clients)]
        cpu = sum(r.cpu_seconds for r in results if isinstance(r, ClientResult))
    failed = [r for r in results if not isinstance(r, ClientResult)]
    if failed:
        raise RuntimeError(f"{len(failed)} clients failed: {failed[:3]}")
    return results, cpu


@contextmanager
def serve(command: list[str], env: dict[str, str], ready_url: str) -> Iterator[int]:
    """Run a server process until the block ends; yields its pid once ``ready_url`` answers."""
    server = subprocess.Popen(command, env=env)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(ready_url, timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the server did not start: {command}")
            time.sleep(0.2)
        yield server.pid
    finally:
        server.terminate()
        server.wait(timeout=30)


# --- profiles ------------------------------------------------------------------------------


def _table(stats: pstats.Stats) -> dict[tuple[str, int, str], Any]:
    table: dict[tuple[str, int, str], Any] = stats.stats  # type: ignore[attr-defined]
    return table


def cumulative_us(stats: pstats.Stats, path_suffix: str, function: str, count: int) -> float:
    """Cumulative microseconds per job spent in ``function`` of a file ending in ``path_suffix``."""
    total = sum(
        value[3]
        for (path, _line, name), value in _table(stats).items()
        if name == function and path.endswith(path_suffix)
    )
    return round(1e6 * total / count, 1)


def tottime_shares(stats: pstats.Stats, bucket: Callable[[str, str], str]) -> dict[str, float]:
    """Percent of own time per bucket; ``bucket(path, function)`` names it."""
    buckets: Counter[str] = Counter()
    for (path, _line, name), value in _table(stats).items():
        buckets[bucket(path, name)] += value[2]
    total = sum(buckets.values()) or 1.0
    return {name: round(100 * seconds / total, 1) for name, seconds in buckets.most_common()}


def top_functions(stats: pstats.Stats, n: int, count: int) -> list[str]:
    ranked = sorted(_table(stats).items(), key=lambda item: item[1][2], reverse=True)[:n]
    return [
        f"{1e6 * value[2] / count:8.1f} us  {name}  ({path.split('site-packages/')[-1]}:{line})"
        for (path, line, name), value in ranked
    ]
