"""A PostgreSQL cluster of the fault-injection suite alone (never the system server on 5432):
``initdb`` into a temporary directory, ``pg_ctl`` to start it on a free port, and two ways to
crash it — ``pg_ctl stop -m immediate`` (no shutdown checkpoint: crash recovery on the next
start) and SIGKILL of the postmaster and every backend.

PostgreSQL refuses to run as root; as root (CI) the cluster belongs to the ``postgres`` user
and every command runs as that user."""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

from sqlalchemy import create_engine, text

from tests.servers import free_port, until

START_TIMEOUT = 30.0


def postgres_bindir() -> Path | None:
    """The directory of ``initdb`` and ``pg_ctl``: Debian's newest version, else the PATH."""
    for candidate in sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=_version, reverse=True):
        if (Path(candidate) / "initdb").exists() and (Path(candidate) / "pg_ctl").exists():
            return Path(candidate)
    initdb, pg_ctl = shutil.which("initdb"), shutil.which("pg_ctl")
    if initdb and pg_ctl and Path(initdb).parent == Path(pg_ctl).parent:
        return Path(initdb).parent
    return None


def _version(path: str) -> float:
    try:
        return float(Path(path).parent.name)
    except ValueError:
        return 0.0


class PrivatePostgres:
    """One cluster in a temporary directory of its own (pytest's are closed to other users),
    its socket there too, listening on 127.0.0.1 only; ``remove`` deletes it all."""

    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir
        self.directory = directory = Path(tempfile.mkdtemp(prefix="parkshare-faults-pg-"))
        self.data = directory / "data"
        self.log = directory / "postgres.log"
        self.port = free_port()
        self.as_owner: list[str] = []
        if os.geteuid() == 0:
            owner = pwd.getpwnam("postgres")
            os.chown(directory, owner.pw_uid, owner.pw_gid)
            self.as_owner = ["runuser", "-u", "postgres", "--"]

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def _run(self, *command: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*self.as_owner, *command],
            check=check,
            capture_output=True,
            text=True,
            timeout=START_TIMEOUT + 10,
        )

    def init(self) -> None:
        self._run(
            str(self.bindir / "initdb"),
            "-D",
            str(self.data),
            "-A",
            "trust",
            "-U",
            "postgres",
            "-E",
            "UTF8",
            "--no-sync",  # the files initdb writes; the server itself runs with fsync=on
        )

    def start(self) -> None:
        """Start and wait until it accepts connections. After a SIGKILL the old backends may
        still hold the shared memory for a moment: the start is tried again until it works."""
        options = (
            f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1 -c fsync=on"
            " -c max_connections=60 -c shared_buffers=32MB"
            # after a crash: one syncfs() of the data directory's file system, instead of an
            # fsync() per file (seconds on a busy disk) before recovery starts
            " -c recovery_init_sync_method=syncfs"
        )
        pg_ctl = str(self.bindir / "pg_ctl")
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            done = self._run(
                pg_ctl, "-D", str(self.data), "-o", options, "-l", str(self.log), "-w", "start",
                check=False,
            )  # fmt: skip
            if done.returncode == 0:
                return
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"PostgreSQL did not start: {done.stdout}{done.stderr}\n{self.tail()}"
                )
            time.sleep(0.1)

    def stop_immediately(self) -> None:
        """``pg_ctl stop -m immediate``: every process quits at once, nothing is flushed."""
        self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop")

    def kill(self) -> None:
        """SIGKILL the postmaster and all its children, as the kernel's OOM killer would."""
        postmaster = self.postmaster_pid()
        if postmaster is None:
            return
        victims = [postmaster, *children_of(postmaster)]
        for pid in victims:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        until(lambda: not any(_alive(pid) for pid in victims), timeout=10)

    def postmaster_pid(self) -> int | None:
        try:
            return int((self.data / "postmaster.pid").read_text().split()[0])
        except (FileNotFoundError, IndexError, ValueError):
            return None

    def stop(self) -> None:
        """The end of the suite: a fast, clean shutdown (or a kill if that hangs)."""
        done = self._run(
            str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-t", "20", "stop",
            check=False,
        )  # fmt: skip
        if done.returncode != 0:
            self.kill()

    def create_database(self, name: str) -> str:
        admin = create_engine(self.url(), isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as connection:
                connection.execute(text(f'CREATE DATABASE "{name}"'))
        finally:
            admin.dispose()
        return self.url(name)

    def remove(self) -> None:
        shutil.rmtree(self.directory, ignore_errors=True)

    def tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return ""


def children_of(parent: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if fields[1] == str(parent):
            found.append(int(stat.parent.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"
