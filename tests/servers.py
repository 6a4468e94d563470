"""Private servers for the tests that stop, kill and restart them: free ports, waiting, and a
Mosquitto of the test's own (never the system broker on 1883) with persistence on disk."""

from __future__ import annotations

import getpass
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

WAIT = 10.0  # seconds any single expectation may take


def until(condition: Callable[[], bool], timeout: float = WAIT, step: float = 0.02) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(step)
    return condition()


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def accepts(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
    except OSError:
        return False
    return True


def mosquitto_binary() -> str | None:
    search = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/usr/local/sbin"])
    return shutil.which("mosquitto", path=search)


class PrivateBroker:
    """A Mosquitto of one test alone: its port, its config, its persistence file (saved every
    ``autosave`` seconds, and on SIGTERM)."""

    def __init__(self, binary: str, directory: Path, *, autosave: int = 1) -> None:
        self.binary = binary
        self.port = free_port()
        self.directory = directory
        self.config = directory / "mosquitto.conf"
        self.log = directory / "mosquitto.log"
        self.config.write_text(
            f"listener {self.port} 127.0.0.1\n"
            "allow_anonymous true\n"
            "persistence true\n"
            f"persistence_location {directory}/\n"
            "persistence_file parkshare-test.db\n"
            f"autosave_interval {autosave}\n"
            "log_dest stdout\n"
            f"user {getpass.getuser()}\n"
        )
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def address(self) -> tuple[str, int]:
        return "127.0.0.1", self.port

    def start(self) -> None:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [self.binary, "-c", str(self.config)], stdout=log, stderr=subprocess.STDOUT
            )
        if not until(lambda: accepts(self.port) or self.process is None or self.process.poll() is not None):  # fmt: skip
            raise AssertionError(f"mosquitto did not listen:\n{self.log.read_text()}")
        assert self.process.poll() is None, f"mosquitto exited:\n{self.log.read_text()}"

    def stop(self, how: signal.Signals = signal.SIGTERM) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(how)
        try:
            process.wait(WAIT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(WAIT)

    def restart(self, how: signal.Signals) -> float:
        """Stop with ``how`` and start again; the seconds it was down."""
        began = time.monotonic()
        self.stop(how)
        self.start()
        return time.monotonic() - began
