"""The parkshare processes the suite kills: ``parkshare serve`` and ``parkshare ingest mqtt``,
each a subprocess with its own log, started, SIGKILLed and started again."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.servers import accepts, free_port, until

START_TIMEOUT = 60.0  # a loaded 2-core CI box can take seconds to import the app


class Child:
    """A parkshare command run as a subprocess; its output appended to ``log``."""

    def __init__(self, name: str, arguments: list[str], env: dict[str, str], log: Path) -> None:
        self.name = name
        self.command = [sys.executable, "-m", "parkshare", *arguments]
        self.env = {**os.environ, **env}
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def spawn(self) -> None:
        assert self.process is None, f"{self.name} is running"
        with self.log.open("ab") as output:
            self.process = subprocess.Popen(
                self.command, env=self.env, stdout=output, stderr=subprocess.STDOUT
            )
        self.starts += 1

    def kill(self) -> None:
        """SIGKILL: no shutdown handler runs, whatever it was doing is cut off."""
        process, self.process = self.process, None
        if process is not None:
            process.send_signal(signal.SIGKILL)
            process.wait(30)

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None:
            return
        process.terminate()
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(20)

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return ""


class ApiServer(Child):
    """``parkshare serve`` on a free loopback port. Uvicorn binds its socket only after the
    app's start-up (migrations, search index), so a listening port means a ready app."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.port = free_port()
        super().__init__(
            "parkshare serve", ["serve", "--host", "127.0.0.1", "--port", str(self.port)], env, log
        )

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> float:
        """Spawn and wait until it listens; the seconds that took."""
        began = time.monotonic()
        self.spawn()
        listening = until(lambda: accepts(self.port) or not self.alive(), START_TIMEOUT, 0.02)
        if not listening or not self.alive():
            raise AssertionError(f"{self.name} did not start:\n{self.tail()}")
        return time.monotonic() - began

    def answers(self) -> bool:
        try:
            return httpx.get(f"{self.base_url}/api/v1/lots?limit=1", timeout=2).status_code == 200
        except httpx.TransportError:
            return False


class WorkerProcess(Child):
    """``parkshare ingest mqtt`` with a stable client id (the broker keeps its session and
    queues its messages while it is down)."""

    def __init__(self, env: dict[str, str], log: Path, *, port: int, client_id: str) -> None:
        arguments = ["ingest", "mqtt", "--host", "127.0.0.1", "--port", str(port)]
        arguments += ["--group", "faults", "--client-id", client_id]
        super().__init__("parkshare ingest mqtt", arguments, env, log)

    def connections(self) -> int:
        """How many times it has connected to the broker so far (from its log)."""
        try:
            return self.log.read_text(errors="replace").count("connected to 127.0.0.1:")
        except FileNotFoundError:
            return 0

    def start(self) -> float:
        """Spawn and wait until it has connected to the broker; the seconds that took."""
        began = time.monotonic()
        before = self.connections()
        self.spawn()
        connected = until(lambda: self.connections() > before or not self.alive(), START_TIMEOUT)
        if not connected or not self.alive():
            raise AssertionError(f"{self.name} did not connect:\n{self.tail()}")
        return time.monotonic() - began
