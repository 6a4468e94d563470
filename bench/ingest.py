"""Ingest throughput: gate events per second through ``ingest_events`` (the service layer) and
``POST /api/v1/ingest/events`` (a uvicorn server), in batches of 1, 50 and 500, on SQLite (WAL,
in a temporary directory) and PostgreSQL, against a plain INSERT of the same rows.

Run as ``.venv/bin/python bench/ingest.py [--quick]``; results are printed and written to
``bench/results/ingest.json`` (``ingest-quick.json`` for ``--quick``, a smoke run under a
minute). PostgreSQL is reached at ``--postgres`` (default ``$PARKSHARE_BENCH_POSTGRES_URL`` or
the local test server); the benchmark drops and creates its own database
``parkshare_bench_ingest`` there, and drops it at the end.

The load is the simulator's 2022-06-28 (seed 1) for the West Coast demo: the day's unique
events from 06:00 on, in time order. Every client is the gate system of its own car parks (the
car parks are dealt out round-robin), pushing its events in batches; the tables of events,
sessions and counts are emptied before every run. An events/s figure counts stored events.

- ``plain``: one ``INSERT … VALUES`` of the batch's rows into ``gate_events`` per transaction
  (``BEGIN IMMEDIATE`` on SQLite, as the service): the floor that any ingest pays.
- ``service``: ``ingest_events`` in one write unit of work per batch (insert-if-new, then the
  touched plates' sessions re-paired from all their events, reservations followed).
- ``http``: the same over HTTP with ``Authorization: Bearer``, two concurrent clients, one
  uvicorn worker on the real clock (the events of 2022 are in its past).

Where the time goes: SQL statements per stored event, by statement and table, counted with a
``before_cursor_execute`` listener (in this process for plain and service; for HTTP with the
app in-process through a ``TestClient``, not timed), and a cProfile of the service layer.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import re
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import httpx
from common import (
    Answer,
    CpuTimes,
    Opener,
    count_statements,
    drop_postgres,
    filesystem_of,
    foreign_cpu_seconds,
    foreign_cpu_since,
    free_port,
    git_state,
    machine,
    percentile,
    print_table,
    process_cpu_seconds,
    recreate_postgres,
    run_clients,
    serve,
    tottime_shares,
    write_results,
)
from fastapi.testclient import TestClient
from sqlalchemy import event, insert, select, text

from parkshare.app import create_app
from parkshare.clock import FixedClock, SystemClock
from parkshare.config import Settings
from parkshare.db import Database
from parkshare.demo.simulator import Send, demo_lots, simulate_day
from parkshare.demo.westcoast import build
from parkshare.ingest import keys
from parkshare.ingest.events import ingest_events
from parkshare.ingest.keys import AuthorisedKey
from parkshare.ingest.model import GateEvent
from parkshare.lots.model import Lot
from parkshare.plates import mask_plate
from parkshare.schedules.rules import SHANGHAI

DAY = date(2022, 6, 28)
FROM = datetime(2022, 6, 28, 6, tzinfo=SHANGHAI)
CLOCK = FixedClock(datetime(2022, 6, 29, tzinfo=SHANGHAI))  # after the day: nothing in future
POLICY = Settings().policy()
BATCHES = (1, 50, 500)
SIZES: dict[str, dict[str, Any]] = {  # events per run by batch size; clients of plain, service
    "full": {
        "events": {1: 400, 50: 2_000, 500: 3_000},
        "clients": (1, 2),
        "http_clients": 2,
        "statements": 300,
        "profile": 500,
    },
    "quick": {
        "events": {1: 60, 50: 300, 500: 500},
        "clients": (1,),
        "http_clients": 2,
        "statements": 100,
        "profile": 150,
    },
}
DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
BENCH_DATABASE = "parkshare_bench_ingest"
INSERT_EVENT = insert(GateEvent.__table__)  # type: ignore[arg-type]


def day_events() -> list[dict[str, Any]]:
    """The day's unique gate events from 06:00 on, in the order they happened."""
    seen: set[str] = set()
    events: list[Send] = []
    for send in simulate_day(demo_lots(), DAY, seed=1).sends:
        if send.kind == "events" and send.item["event_id"] not in seen:
            seen.add(send.item["event_id"])
            events.append(send)
    events.sort(key=lambda s: s.item["at"])
    return [s.item for s in events if datetime.fromisoformat(s.item["at"]) >= FROM]


def client_batches(
    events: Sequence[dict[str, Any]], count: int, size: int, clients: int
) -> list[list[list[dict[str, Any]]]]:
    """The first ``count`` events, car parks dealt out round-robin to ``clients``, each
    client's events (in time order) cut into batches of ``size``."""
    lots = sorted({e["lot"] for e in events})
    owner = {lot: k % clients for k, lot in enumerate(lots)}
    streams: list[list[dict[str, Any]]] = [[] for _ in range(clients)]
    for item in events[:count]:
        streams[owner[item["lot"]]].append(item)
    return [[s[i : i + size] for i in range(0, len(s), size)] for s in streams]


@dataclass(frozen=True)
class Target:
    backend: str
    url: str
    key: AuthorisedKey
    secret: str
    lot_ids: dict[str, int]
    base: str = ""  # the API server's
    server_pid: int | None = None


def reset(database: Database) -> None:
    with database.engine.begin() as connection:
        if database.dialect == "postgresql":
            connection.execute(text("TRUNCATE parking_sessions, gate_events, count_reports"))
        else:
            for table in ("parking_sessions", "gate_events", "count_reports"):
                connection.execute(text(f"DELETE FROM {table}"))
    with database.engine.connect() as connection:
        if database.dialect == "postgresql":
            connection = connection.execution_options(isolation_level="AUTOCOMMIT")
            connection.execute(text("VACUUM ANALYZE parking_sessions, gate_events"))
        else:
            connection.connection.dbapi_connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # type: ignore[union-attr]


def rows(batch: list[dict[str, Any]], target: Target) -> list[dict[str, Any]]:
    """The columns ``ingest_events`` writes for these events."""
    now = CLOCK.now()
    return [
        {
            "lot_id": target.lot_ids[item["lot"]],
            "event_id": item["event_id"],
            "plate": item["plate"],
            "plate_masked": mask_plate(item["plate"]),
            "direction": item["direction"],
            "at": datetime.fromisoformat(item["at"]),
            "gate": item["gate"],
            "received_at": now,
            "key_id": target.key.id,
        }
        for item in batch
    ]


def opener(layer: str, target: Target, database: Database) -> Opener:
    @contextmanager
    def opened() -> Iterator[tuple[Answer, list[str]]]:
        if layer == "http":
            headers = {"Authorization": f"Bearer {target.secret}"}
            with httpx.Client(base_url=target.base, timeout=300.0, headers=headers) as client:
                yield (lambda batch: post(client, batch)), []
            return
        writer = database.engine.execution_options(sqlite_begin="IMMEDIATE")

        def plain(batch: list[dict[str, Any]]) -> str:
            if batch:
                with writer.begin() as connection:
                    connection.execute(INSERT_EVENT, rows(batch, target))
            return "accepted"

        yield (plain if layer == "plain" else service_answer(target, database)), []

    return opened


def service_answer(target: Target, database: Database) -> Answer:
    """The service layer: one batch in one write unit of work."""

    def service(batch: list[dict[str, Any]]) -> str:
        with database.session(write=True) as session:
            result = ingest_events(session, target.key, batch, policy=POLICY, clock=CLOCK)
        return "accepted" if len(result.accepted) == len(batch) else "not all accepted"

    return service


def post(client: httpx.Client, batch: list[dict[str, Any]]) -> str:
    response = client.post("/api/v1/ingest/events", json=batch)
    if response.status_code != 200:
        return f"http_{response.status_code}"
    body = response.json()
    return "accepted" if len(body["accepted"]) == len(batch) else "not all accepted"


def measure(
    target: Target, database: Database, layer: str, size: int, count: int, clients: int
) -> dict[str, Any]:
    events = EVENTS
    reset(database)
    jobs = client_batches(events, count, size, clients)
    statements: list[str] = []
    listener = count_statements(database.engine, statements)
    ours = {target.server_pid} if target.server_pid else set()
    cpu_before, foreign_before = CpuTimes.now(), foreign_cpu_seconds(ours)
    server_before = process_cpu_seconds(target.server_pid) if target.server_pid else 0.0
    results, client_cpu = run_clients(
        opener(layer, target, database), jobs, [[] for _ in jobs], "threads"
    )
    event.remove(database.engine, "before_cursor_execute", listener)
    wall = max(r.finished for r in results) - min(r.started for r in results)
    stored = stored_events(database)
    latencies = [t for r in results for t in r.latencies]
    outcomes = sum((r.outcomes for r in results), Counter[str]())
    run: dict[str, Any] = {
        "backend": target.backend,
        "layer": layer,
        "batch": size,
        "clients": clients,
        "events": stored,
        "expected": sum(len(b) for client in jobs for b in client),
        "events_per_s": round(stored / wall, 1),
        "wall_s": round(wall, 2),
        "batch_p50_ms": round(1000 * percentile(latencies, 50), 2),
        "batch_p99_ms": round(1000 * percentile(latencies, 99), 2),
        "outcomes": dict(outcomes),
        "cpu_busy_pct": CpuTimes.now().busy_pct_since(cpu_before),
        "client_cpu_cores": round(client_cpu / wall, 2),
        "other_processes_cpu_cores": round(foreign_cpu_since(foreign_before, ours) / wall, 2),
    }
    if target.server_pid:
        server_cpu = process_cpu_seconds(target.server_pid) - server_before
        run["server_cpu_cores"] = round(server_cpu / wall, 2)
    if statements:
        run["statements_per_event"] = round(len(statements) / max(stored, 1), 2)
    print(
        f"  {target.backend:<10} {layer:<7} batch {size:>3} × {clients} clients:"
        f" {run['events_per_s']:>8.1f} events/s  ({stored} stored, {run['wall_s']} s)",
        flush=True,
    )
    return run


def stored_events(database: Database) -> int:
    with database.session() as session:
        return len(session.scalars(select(GateEvent.id)).all())


# --- where the time goes -------------------------------------------------------------------

_TABLE = re.compile(r"\b(?:FROM|INTO|UPDATE)\s+\"?(\w+)", re.IGNORECASE)


def statement_label(statement: str) -> str:
    verb = statement.split(None, 1)[0].upper()
    table = _TABLE.search(statement)
    return f"{verb} {table.group(1)}" if table and verb != "BEGIN" else verb


def statements_per_event(
    target: Target, database: Database, size: int, count: int, *, over_http: bool
) -> dict[str, float]:
    """SQL statements per stored event, by statement and table (one client, not timed)."""
    reset(database)
    seen: Counter[str] = Counter()

    def listener(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen[statement_label(statement)] += 1

    (batches,) = client_batches(EVENTS, count, size, 1)
    event.listen(database.engine, "before_cursor_execute", listener)
    if over_http:
        app = create_app(Settings(database_url=target.url), database, SystemClock())
        with TestClient(app) as client:
            seen.clear()  # not the start-up's migration check
            headers = {"Authorization": f"Bearer {target.secret}"}
            for batch in batches:
                client.post("/api/v1/ingest/events", json=batch, headers=headers)
    else:
        answer = service_answer(target, database)
        for batch in batches:
            answer(batch)
    event.remove(database.engine, "before_cursor_execute", listener)
    stored = stored_events(database)
    return {label: round(n / stored, 3) for label, n in seen.most_common()}


def _bucket(path: str, name: str) -> str:
    if "psycopg" in path or (path == "~" and ("sqlite3" in name or "psycopg" in name)):
        return "driver and database (execute, fetch, commit)"
    if "sqlalchemy" in path:
        return "SQLAlchemy (statements, ORM loading, flush)"
    if "pydantic" in path:
        return "pydantic (validation)"
    if "parkshare" in path:
        return "parkshare (ingest, pairing, plates, fees)"
    return "Python runtime and stdlib"


def profile_service(target: Target, database: Database, count: int) -> dict[str, Any]:
    reset(database)
    (batches,) = client_batches(EVENTS, count, 50, 1)
    answer = service_answer(target, database)
    profiler = cProfile.Profile()
    profiler.enable()
    for batch in batches:
        answer(batch)
    profiler.disable()
    stats = pstats.Stats(profiler)
    total = sum(v[2] for v in stats.stats.values())  # type: ignore[attr-defined]
    stored = stored_events(database)
    steps = {}
    for (path, _line, name), value in stats.stats.items():  # type: ignore[attr-defined]
        label = _STEPS.get((path.rsplit("parkshare/", 1)[-1], name))
        if label and "parkshare/" in path:
            steps[label] = round(1e6 * value[3] / stored, 1)
    steps = dict(sorted(steps.items(), key=lambda kv: kv[1], reverse=True))
    return {
        "events": stored,
        "us_per_event": round(1e6 * total / stored, 1),
        "tottime_pct": tottime_shares(stats, _bucket),
        "cumulative_us_per_event": steps,
    }


_STEPS = {  # (file under parkshare/, function): what it does for an event
    ("ingest/events.py", "ingest_events"): "ingest_events (all)",
    ("ingest/schemas.py", "parse_event"): "parse and validate the item",
    ("db.py", "insert_if_new"): "insert-if-new into the inbox",
    ("ingest/events.py", "rebuild_sessions"): "re-pair the plate's sessions",
    ("lots/repository.py", "get"): "load the car park (schedule, tariff) per plate",
    ("ingest/repository.py", "events_of"): "the plate's events",
    ("ingest/repository.py", "replace_sessions"): "delete and re-add its sessions",
    ("ingest/events.py", "_follow_reservation"): "follow its reservation",
}


# --- runs and report -----------------------------------------------------------------------


def prepare(backend: str, url: str) -> tuple[Database, Target]:
    database = Database(url, pool_size=8, max_overflow=4)
    database.migrate()
    with database.session(write=True) as session:
        build(session, clock=CLOCK)
        ids = {code: lot_id for code, lot_id in session.execute(select(Lot.code, Lot.id))}
        _, secret = keys.create_key(session, name="bench", lot_codes=list(ids), clock=CLOCK)
    with database.session(write=True) as session:
        key = keys.authenticate(session, secret, clock=CLOCK)
    return database, Target(backend, url, key, secret, ids)


@contextmanager
def api_server(url: str) -> Iterator[tuple[str, int]]:
    port = free_port()
    command = [sys.executable, "-m", "uvicorn", "parkshare.app:create_app", "--factory"]
    command += ["--host", "127.0.0.1", "--port", str(port), "--workers", "1"]
    command += ["--log-level", "warning", "--no-access-log"]
    env = {**os.environ, "PARKSHARE_DATABASE_URL": url}
    env.pop("PARKSHARE_NOW", None)  # the real clock: 2022 is in the past
    base = f"http://127.0.0.1:{port}"
    with serve(command, env, f"{base}/api/v1/lots?limit=1") as pid:
        yield base, pid


def run_backend(backend: str, url: str, size: dict[str, Any]) -> dict[str, Any]:
    database, target = prepare(backend, url)
    runs = []
    for batch in BATCHES:
        count = size["events"][batch]
        for clients in size["clients"]:
            runs.append(measure(target, database, "plain", batch, count, clients))
            runs.append(measure(target, database, "service", batch, count, clients))
    with api_server(url) as (base, pid):
        served = Target(**{**target.__dict__, "base": base, "server_pid": pid})
        for batch in BATCHES:
            count, clients = size["events"][batch], size["http_clients"]
            runs.append(measure(served, database, "http", batch, count, clients))
    count = size["statements"]
    statements = {
        f"service, batch {b}": statements_per_event(target, database, b, count, over_http=False)
        for b in (1, 50)
    }
    statements["http, batch 50"] = statements_per_event(target, database, 50, count, over_http=True)
    profile = profile_service(target, database, size["profile"])
    reset(database)
    database.dispose()
    return {"runs": runs, "statements_per_event": statements, "profile": profile}


HEADERS = ("backend", "layer", "batch", "clients", "events/s", "batch p50 ms", "batch p99 ms",
           "stmts/event", "plain/s", "ratio", "cpu %")  # fmt: skip


def table_rows(runs: list[dict[str, Any]]) -> list[list[str]]:
    plain = {(r["backend"], r["batch"], r["clients"]): r for r in runs if r["layer"] == "plain"}
    rows = []
    for run in runs:
        base = plain.get((run["backend"], run["batch"], run["clients"]))
        rows.append(
            [
                run["backend"],
                run["layer"],
                str(run["batch"]),
                str(run["clients"]),
                f"{run['events_per_s']:,.0f}",
                f"{run['batch_p50_ms']:.1f}",
                f"{run['batch_p99_ms']:.1f}",
                str(run.get("statements_per_event", "")),
                f"{base['events_per_s']:,.0f}" if base else "",
                f"{run['events_per_s'] / base['events_per_s']:.3f}" if base else "",
                f"{run['cpu_busy_pct']:.0f}",
            ]
        )
    return rows


def print_report(report: dict[str, Any]) -> None:
    runs = [run for backend in report["backends"].values() for run in backend["runs"]]
    print()
    print_table(HEADERS, table_rows(runs))
    print("ratio = events/s ÷ plain INSERTs/s of the same rows, batch size and clients")
    for run in runs:
        if run["events"] != run["expected"]:
            stored = f"stored {run['events']} of {run['expected']}"
            print(f"WARNING: {run['backend']} {run['layer']} batch {run['batch']} {stored}")
        if run["other_processes_cpu_cores"] > 0.1:
            print(
                f"WARNING: other processes used {run['other_processes_cpu_cores']} cores during "
                f"{run['backend']} {run['layer']} batch {run['batch']} × {run['clients']}"
            )
    for name, backend in report["backends"].items():
        print(f"\n{name}: SQL statements per stored event")
        for label, per in backend["statements_per_event"].items():
            total = sum(per.values())
            listing = ", ".join(f"{k} {v:g}" for k, v in per.items())
            print(f"  {label}: {total:.2f} ({listing})")
        profile = backend["profile"]
        print(f"  service profile, batch 50: {profile['us_per_event']} us per event (cProfile)")
        for label, us in profile["cumulative_us_per_event"].items():
            print(f"    {label:<50} {us:>9.1f} us")
        for label, pct in profile["tottime_pct"].items():
            print(f"    {label:<50} {pct:>8.1f} %")


EVENTS: list[dict[str, Any]] = []


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run (< 60 s)")
    default_pg = os.environ.get("PARKSHARE_BENCH_POSTGRES_URL", DEFAULT_POSTGRES)
    parser.add_argument("--postgres", default=default_pg, help="PostgreSQL server URL")
    args = parser.parse_args()
    size = SIZES["quick" if args.quick else "full"]
    began = time.perf_counter()
    EVENTS.extend(day_events())
    report: dict[str, Any] = {"run": "quick" if args.quick else "full", "sizes": size}
    report["machine"] = machine(args.postgres)
    report["source"] = git_state(Path(__file__).parent.parent)
    report["load"] = {"day": DAY.isoformat(), "seed": 1, "events_from_06_00": len(EVENTS)}
    backends: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="parkshare-bench-ingest-") as scratch:
        report["sqlite_filesystem"] = filesystem_of(scratch)
        print(f"SQLite {report['machine']['sqlite']} (WAL, synchronous=FULL) in {scratch}")
        backends["sqlite"] = run_backend("sqlite", f"sqlite:///{scratch}/b.db", size)
    if str(report["machine"]["postgresql"]).startswith("unreachable"):
        print(f"PostgreSQL skipped: {report['machine']['postgresql']}")
    else:
        print(f"PostgreSQL {report['machine']['postgresql']}", flush=True)
        url = recreate_postgres(args.postgres, BENCH_DATABASE)
        try:
            backends["postgresql"] = run_backend("postgresql", url, size)
        finally:
            drop_postgres(args.postgres, BENCH_DATABASE)
    report["backends"] = backends
    if git_state(Path(__file__).parent.parent) != report["source"]:
        report["source"]["changed_during_run"] = True
    report["seconds"] = round(time.perf_counter() - began, 1)
    print_report(report)
    path = write_results("ingest-quick" if args.quick else "ingest", report)
    print(f"\nwritten to {path} in {report['seconds']} s")


if __name__ == "__main__":
    main()
