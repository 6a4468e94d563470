"""The two campaigns: private servers, traffic, and a planned sequence of faults.

PostgreSQL + Mosquitto: the API server and the MQTT ingest worker run as subprocesses against
a private PostgreSQL cluster and a private broker; the faults cycle through an immediate stop
and a SIGKILL of PostgreSQL, SIGKILL of the API server and of the worker, and SIGTERM and
SIGKILL of the broker. SQLite: the API server on a database file, a writer process SIGKILLed
in the middle of its transaction (holding the write lock, its pages spilling into the WAL),
and SIGKILL of the API server under booking load.

The worker's back-off: after a database error the MQTT worker waits 1, 2, 4, … up to 60 s
before it asks for the message again (``BrokerOptions.retry_max``), and asks the database every
second meanwhile whether it is back. Before it asked, an outage of 25 s left the MQTT path
stalled for 5.8 s after PostgreSQL was back (and up to ~30 s after a longer one); the "postgres
long stop" fault keeps PostgreSQL down ``DATABASE_LONG_DOWN`` seconds to hold that to 5 s."""

from __future__ import annotations

import random
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

from parkshare.db import Database
from tests.faults.harness import Harness, seed
from tests.faults.mqtt_stream import AUTOSAVE
from tests.faults.postgres import PrivatePostgres
from tests.faults.processes import ApiServer, WorkerProcess
from tests.faults.report import Campaign
from tests.faults.traffic import NOW
from tests.servers import PrivateBroker, until

ROOT = Path(__file__).resolve().parents[2]
GAP = 0.8  # seconds of undisturbed traffic between two faults
DATABASE_DOWN = 0.5  # seconds PostgreSQL stays down
DATABASE_LONG_DOWN = 20.0  # the long outage (see above: the worker's back-off)
API_DOWN = 0.3
WORKER_DOWN = 1.0

POSTGRES_PLAN = (
    "postgres stop", "api kill", "worker kill", "broker SIGTERM",
    "postgres kill", "api kill", "broker SIGKILL", "worker kill",
    "postgres stop", "api kill", "worker kill", "broker SIGTERM",
    "postgres kill", "api kill", "broker SIGKILL", "worker kill",
    "postgres stop", "api kill", "postgres long stop",
)  # fmt: skip
SQLITE_PLAN = (
    "sqlite writer kill", "sqlite api kill", "sqlite writer kill", "sqlite api kill",
    "sqlite writer kill",
)  # fmt: skip


def server_env(database_url: str) -> dict[str, str]:
    return {
        "PARKSHARE_DATABASE_URL": database_url,
        "PARKSHARE_NOW": NOW.isoformat(),
        "PARKSHARE_ENVIRONMENT": "test",
    }


def now() -> float:
    return time.monotonic()


class PostgresRig:
    def __init__(self, directory: Path, bindir: Path, mosquitto: str) -> None:
        self.directory = directory
        (directory / "broker").mkdir()
        self.postgres = PrivatePostgres(bindir)
        self.broker = PrivateBroker(mosquitto, directory / "broker", autosave=AUTOSAVE)
        self.api: ApiServer | None = None
        self.worker: WorkerProcess | None = None
        self.database: Database | None = None
        self.harness: Harness | None = None

    def run(self, campaign: Campaign) -> None:
        self.postgres.init()
        self.postgres.start()
        self.broker.start()
        url = self.postgres.create_database("parkshare")
        self.database = database = Database(url)
        database.migrate()
        seeded = seed(database, key_prefix="fi-pg")
        env = server_env(url)
        self.api = ApiServer(env, self.directory / "api.log")
        self.worker = WorkerProcess(
            env, self.directory / "worker.log", port=self.broker.port, client_id="fi-worker"
        )
        self.api.start()
        self.worker.start()
        self.harness = harness = Harness(
            campaign, database, self.api.base_url, seeded, self.directory / "faults.log"
        )
        harness.start_traffic(mqtt_port=self.broker.port)
        harness.pause(2 * GAP)
        for kind in POSTGRES_PLAN:
            harness.note(f"{kind} …")
            self.inject(kind)
            harness.pause(GAP)
        harness.finish()

    def inject(self, kind: str) -> None:
        assert self.harness is not None and self.api is not None and self.worker is not None
        harness = self.harness
        at = now()
        if kind.startswith("postgres"):
            if kind == "postgres kill":
                self.postgres.kill()
            else:
                self.postgres.stop_immediately()
            time.sleep(DATABASE_LONG_DOWN if kind == "postgres long stop" else DATABASE_DOWN)
            self.postgres.start()
            back = now()
            seen = harness.latest_mqtt_row()
            http = harness.probe_http(back)
            harness.record(kind, at, back, http=http, mqtt=harness.probe_mqtt(back, seen=seen))
        elif kind == "api kill":
            self.api.kill()
            time.sleep(API_DOWN)
            self.api.start()
            back = now()
            harness.record(kind, at, back, http=harness.probe_http(back))
        elif kind == "worker kill":
            self.worker.kill()
            time.sleep(WORKER_DOWN)
            self.worker.start()
            back = now()
            harness.record(kind, at, back, mqtt=harness.probe_mqtt(back))
        else:
            how = signal.SIGKILL if kind == "broker SIGKILL" else signal.SIGTERM
            self.broker.restart(how)
            back = now()
            stream = harness.stream
            assert stream is not None
            if how is signal.SIGKILL:  # the broker may have lost what it acknowledged lately
                assert until(stream.connected.is_set), "the publisher did not reconnect"
                stream.resend_recent()
            harness.record(kind, at, back, mqtt=harness.probe_mqtt(back, published_after=True))

    def close(self) -> None:
        if self.harness is not None:
            self.harness.close()
        for child in (self.api, self.worker):
            if child is not None:
                child.stop()
        self.broker.stop(signal.SIGKILL)
        if self.database is not None:
            self.database.dispose()
        self.postgres.stop()
        (self.directory / "postgres.log").write_text(self.postgres.tail(10_000))
        self.postgres.remove()

    def logs(self) -> str:
        parts = [("postgres", self.postgres.tail())]
        parts += [(c.name, c.tail()) for c in (self.api, self.worker) if c is not None]
        return "\n".join(f"--- {name}\n{text}" for name, text in parts)


class SqliteRig:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.url = f"sqlite:///{directory / 'parkshare.db'}"
        self.api: ApiServer | None = None
        self.database: Database | None = None
        self.harness: Harness | None = None
        self.random = random.Random(20220624)
        self.writers = 0

    def run(self, campaign: Campaign) -> None:
        self.database = database = Database(self.url)
        database.migrate()
        seeded = seed(database, key_prefix="fi-sqlite")
        self.api = ApiServer(server_env(self.url), self.directory / "api.log")
        self.api.start()
        self.harness = harness = Harness(
            campaign, database, self.api.base_url, seeded, self.directory / "faults.log"
        )
        harness.start_traffic()
        harness.pause(2 * GAP)
        for kind in SQLITE_PLAN:
            harness.note(f"{kind} …")
            self.inject(kind)
            harness.pause(GAP)
        harness.finish()
        verdict = integrity(self.url)
        if verdict != "ok":
            campaign.verdict.drift.append(f"PRAGMA integrity_check: {verdict}")

    def inject(self, kind: str) -> None:
        assert self.harness is not None and self.api is not None
        harness = self.harness
        if kind == "sqlite api kill":
            at = now()
            self.api.kill()
            time.sleep(API_DOWN)
            self.api.start()
        else:
            at = self.kill_writer()
        back = now()
        harness.record(kind, at, back, http=harness.probe_http(back))

    def kill_writer(self) -> float:
        """Start a writer, let it write for a moment inside its transaction, SIGKILL it;
        the moment of the kill."""
        self.writers += 1
        log = (self.directory / f"writer-{self.writers}.log").open("ab")
        command = [sys.executable, "-m", "tests.faults.writer", self.url, str(self.writers)]
        with log, subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=log) as child:
            assert child.stdout is not None
            ready, _, _ = select.select([child.stdout], [], [], 60)
            line = child.stdout.readline() if ready else b""
            if line != b"writing\n":
                child.kill()
                child.wait()
                raise AssertionError(f"the writer did not start writing: {line!r}")
            time.sleep(self.random.uniform(0.1, 0.4))  # still inserting, still uncommitted
            at = now()
            child.send_signal(signal.SIGKILL)
            child.wait(30)
        return at

    def close(self) -> None:
        if self.harness is not None:
            self.harness.close()
        if self.api is not None:
            self.api.stop()
        if self.database is not None:
            self.database.dispose()

    def logs(self) -> str:
        return f"--- parkshare serve\n{self.api.tail()}" if self.api is not None else ""


def integrity(url: str) -> str:
    """SQLite's own verdict on the file after the kills ("ok" when intact)."""
    database = Database(url)
    try:
        with database.engine.connect() as connection:
            rows = connection.exec_driver_sql("PRAGMA integrity_check").scalars().all()
    finally:
        database.dispose()
    return "; ".join(str(row) for row in rows)
