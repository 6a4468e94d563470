"""Search over HTTP: one ``parkshare serve`` process on a scale's database, its start-up time,
one client at a time, a fixed offered rate (open loop) and the saturation throughput (closed
loop, ``wrk`` when installed). Every load generator runs as its own process; while each run
lasts the CPU of the server, of the generator, of the whole machine and of other people's
processes is recorded, which says what limited the figure."""

from __future__ import annotations

import json
import os
import re
import resource
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from common import CpuTimes, foreign_cpu_seconds, foreign_cpu_since, free_port, process_cpu_seconds
from search_data import NOW

BENCH_DIR = Path(__file__).parent
BIN = Path(sys.executable).parent
START_TIMEOUT_S = 300.0
STOP_WAIT_S = 30.0
KILLED: list[int] = []  # servers that ignored SIGTERM for STOP_WAIT_S
WRK_SCRIPT = """
local paths = {}
local next_one = 1
init = function(args)
  for line in io.lines(args[1]) do paths[#paths + 1] = line end
  next_one = math.random(#paths)
end
request = function()
  next_one = next_one % #paths + 1
  return wrk.format("GET", paths[next_one])
end
"""


@dataclass(frozen=True)
class Server:
    base: str
    pid: int
    startup_s: float
    rss_mb_ready: float
    startup_cpu_s: float = 0.0
    index_ready_s: float | None = None  # None: served without the index


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def loadavg() -> list[float]:
    return [float(v) for v in Path("/proc/loadavg").read_text().split()[:3]]


@contextmanager
def parkshare_serve(
    url: str, probe: str, log: Path, extra_env: dict[str, str] | None = None
) -> Iterator[Server]:
    """``parkshare serve`` (one uvicorn process, its own logging) on the database ``url`` with
    the benchmark's clock; ready once ``probe`` (a search) answers 200. ``startup_s`` runs from
    the spawn to that answer: imports, migrations, the first search (answered from the database
    while the index is being built). ``index_ready_s`` runs to when ``/api/v1/health`` says the
    index is ready; the server is handed over only then, so phases measure the index."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "PARKSHARE_DATABASE_URL": url, "PARKSHARE_NOW": NOW.isoformat()}
    env.update(extra_env or {})
    command = [str(BIN / "parkshare"), "serve", "--host", "127.0.0.1", "--port", str(port)]
    with log.open("w") as output:
        began = time.perf_counter()
        server = subprocess.Popen(command, env=env, stdout=output, stderr=subprocess.STDOUT)
    try:
        with httpx.Client(base_url=base, timeout=10.0) as client:
            while True:
                try:
                    if client.get(probe).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if server.poll() is not None or time.perf_counter() - began > START_TIMEOUT_S:
                    raise RuntimeError(f"parkshare serve did not start; see {log}")
                time.sleep(0.02)
            startup = time.perf_counter() - began
            index_ready = None
            while client.get("/api/v1/health").json()["search_index"] == "building":
                if time.perf_counter() - began > START_TIMEOUT_S:
                    raise RuntimeError(f"the search index was not built in time; see {log}")
                time.sleep(0.02)
            if client.get("/api/v1/health").json()["search_index"] == "ready":
                index_ready = round(time.perf_counter() - began, 2)
        cpu = process_cpu_seconds(server.pid)
        yield Server(
            base, server.pid, round(startup, 2), rss_mb(server.pid), round(cpu, 2), index_ready
        )
    finally:
        stop(server)


def stop(server: subprocess.Popen[bytes]) -> bool:
    """SIGTERM, and SIGKILL after ``STOP_WAIT_S`` (a server whose pool threads are all stuck
    does not finish its graceful shutdown). True when it had to be killed."""
    server.terminate()
    try:
        server.wait(timeout=STOP_WAIT_S)
        return False
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait(timeout=30)
        KILLED.append(server.pid)
        return True


def accounted(server: Server, run: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """``run()`` with the CPU used meanwhile by the server, the generator (our other children),
    the whole machine and everybody else."""
    ours = {server.pid}
    machine, others = CpuTimes.now(), foreign_cpu_seconds(ours)
    served, children = process_cpu_seconds(server.pid), _children_cpu()
    load, began = loadavg(), time.perf_counter()
    result = run()
    wall = time.perf_counter() - began
    result["server_cpu_cores"] = round((process_cpu_seconds(server.pid) - served) / wall, 2)
    if "generator_cpu_cores" not in result:
        result["generator_cpu_cores"] = round((_children_cpu() - children) / wall, 2)
    result["machine_busy_pct"] = CpuTimes.now().busy_pct_since(machine)
    result["other_processes_cpu_cores"] = round(foreign_cpu_since(others, ours) / wall, 2)
    result["loadavg_before"] = load
    result["server_rss_mb"] = rss_mb(server.pid)
    return result


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def generator(mode: str, server: Server, paths: Path, **options: float) -> dict[str, Any]:
    """``bench/search_load.py`` in its own process."""
    command = [sys.executable, str(BENCH_DIR / "search_load.py"), mode, "--base", server.base]
    command += ["--paths", str(paths)]
    for name, value in options.items():
        command += [f"--{name}", str(value)]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def wrk(server: Server, paths: Path, connections: int, seconds: float) -> dict[str, Any]:
    """Debian's ``wrk`` (one thread, keep-alive connections) through the same paths."""
    script = paths.with_suffix(".lua")
    script.write_text(WRK_SCRIPT)
    command = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", "--timeout", "30s"]
    command += ["-s", str(script), server.base, "--", str(paths)]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    return {"tool": "wrk", "connections": connections, **parse_wrk(done.stdout)}


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def parse_wrk(output: str) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for q, value, unit in re.findall(r"^\s+(50|90|99)%\s+([\d.]+)(us|ms|s|m)\s*$", output, re.M):
        found[f"p{q}_ms"] = round(float(value) * _UNITS[unit], 2)
    if match := re.search(r"(\d+) requests in ([\d.]+)(ms|s|m)", output):
        found["requests"] = int(match[1])
        found["wall_s"] = round(float(match[2]) * _UNITS[match[3]] / 1000, 2)
    if match := re.search(r"Requests/sec:\s+([\d.]+)", output):
        found["per_s"] = float(match[1])
    match = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    found["non_2xx"] = int(match[1]) if match else 0
    match = re.search(r"Socket errors: (.*)", output)
    found["socket_errors"] = match[1].strip() if match else "none"
    answered = found.get("requests", 0) - found["non_2xx"]
    found["answered_per_s"] = round(answered / found["wall_s"], 1) if found.get("wall_s") else 0.0
    return found


class Serving:
    """One ``parkshare serve`` at a time. After a phase that left it not answering (see the
    pool deadlock in docs/performance.md) it is killed and a fresh one started, so that the
    next phase measures a working server; every such phase is recorded in ``wedged``."""

    def __init__(self, url: str, probe: str, log: Path) -> None:
        self.url, self.probe, self.log = url, probe, log
        self.wedged: list[dict[str, Any]] = []
        self.stack = ExitStack()
        self.server = self._start()

    def _start(self) -> Server:
        return self.stack.enter_context(parkshare_serve(self.url, self.probe, self.log))

    def close(self) -> None:
        self.stack.close()

    def check(self, phase: str, patience_s: float = 30.0) -> dict[str, Any]:
        """Whether the server answers one search again (within ``patience_s``) after
        ``phase``; a fresh server when it does not."""
        answer = recovery(self.server, self.probe, patience_s)
        if not answer["answering"]:
            self.wedged.append({"after": phase, **answer})
            self.stack.close()
            self.stack = ExitStack()
            self.server = self._start()
            print(f"    fresh server after {phase} ({self.server.startup_s} s)", flush=True)
        return answer


def measure_http(url: str, paths: Path, size: dict[str, Any], log: Path) -> dict[str, Any]:
    """Start-up, one client, saturation, a sustainable fixed rate and the issue's fixed rate,
    each phase against a working server."""
    probe = paths.read_text().splitlines()[0]
    report: dict[str, Any] = {}
    off = {"PARKSHARE_SEARCH_INDEX": "false"}
    with parkshare_serve(url, probe, log.with_suffix(".no-index.log"), off) as server:
        report["startup_without_index_s"] = server.startup_s
        report["startup_without_index_cpu_s"] = server.startup_cpu_s
    serving = Serving(url, probe, log)
    try:
        server = serving.server
        print(
            f"    serve answering in {server.startup_s} s, its index ready in "
            f"{server.index_ready_s} s ({server.startup_cpu_s} s CPU; "
            f"{report['startup_without_index_s']} s without the index), RSS "
            f"{server.rss_mb_ready} MB",
            flush=True,
        )
        report.update(
            startup_s=server.startup_s,
            index_ready_s=server.index_ready_s,
            startup_cpu_s=server.startup_cpu_s,
            rss_mb_ready=server.rss_mb_ready,
        )
        generator("closed", server, paths, connections=4, seconds=size["warm_up_s"])  # warm-up
        report["one_client"] = accounted(
            server,
            lambda: generator("closed", server, paths, connections=1, seconds=size["one_s"]),
        )
        one = report["one_client"]
        print(f"    one client: p50 {one['p50_ms']} ms, p99 {one['p99_ms']} ms", flush=True)
        report["saturation"] = saturation(serving, paths, size)
        # A rate the server can keep up with (half its saturation), then the rate.
        sustainable = max(10, 5 * round(report["saturation"]["best_per_s"] / 10))
        report["half_saturation_rate"] = fixed_rate(
            serving.server, paths, sustainable, size["rate_s"]
        )
        serving.check(f"{sustainable}/s")
        report["fixed_rate"] = fixed_rate(serving.server, paths, size["rate"], size["rate_s"])
        report["after_fixed_rate"] = serving.check(f"{size['rate']}/s", patience_s=60.0)
    finally:
        serving.close()
    report["wedged"] = serving.wedged
    report["servers_killed"] = len(KILLED)
    return report


def fixed_rate(server: Server, paths: Path, rate: float, seconds: float) -> dict[str, Any]:
    run = accounted(server, lambda: generator("open", server, paths, rate=rate, seconds=seconds))
    print(
        f"    {rate}/s offered for {seconds} s: p50 {run['p50_ms']} ms, p99 {run['p99_ms']} ms, "
        f"{run['answered_per_s']}/s answered {run['statuses']}, server "
        f"{run['server_cpu_cores']} cores, send lag p99 {run['send_lag_p99_ms']} ms",
        flush=True,
    )
    return run


def recovery(server: Server, probe: str, patience_s: float) -> dict[str, Any]:
    """Does the server answer one search (within 5 s) after a phase, and when?"""
    began = time.perf_counter()
    with httpx.Client(base_url=server.base, timeout=5.0) as client:
        while time.perf_counter() - began < patience_s:
            try:
                if client.get(probe).status_code == 200:
                    return {"answering": True, "after_s": round(time.perf_counter() - began, 2)}
            except httpx.TransportError:
                pass
            time.sleep(1.0)
    print(f"    NOT answering {patience_s} s after the phase", flush=True)
    return {"answering": False, "after_s": None, "waited_s": patience_s}


def saturation(serving: Serving, paths: Path, size: dict[str, Any]) -> dict[str, Any]:
    runs = []
    tool = "wrk" if shutil.which("wrk") else "python closed loop (wrk not installed)"
    for connections in size["saturation_connections"]:
        server = serving.server
        if shutil.which("wrk"):
            run = accounted(server, lambda s=server, c=connections: wrk(s, paths, c, size["sat_s"]))
        else:
            run = accounted(
                server,
                lambda s=server, c=connections: generator(
                    "closed", s, paths, connections=c, seconds=size["sat_s"]
                ),
            )
        print(
            f"    saturation, {connections} connections ({tool.split()[0]}): "
            f"{run['answered_per_s']}/s, p99 {run.get('p99_ms')} ms, server "
            f"{run['server_cpu_cores']} cores, generator {run['generator_cpu_cores']} cores",
            flush=True,
        )
        run["answering_after"] = serving.check(f"saturation, {connections} connections")
        runs.append(run)
    best = max(runs, key=lambda r: r["answered_per_s"])
    return {"tool": tool, "runs": runs, "best_per_s": best["answered_per_s"], "best": best}
