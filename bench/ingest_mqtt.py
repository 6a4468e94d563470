"""Ingest throughput over MQTT: gate events per second from a paho publisher (MQTT 5, QoS 1)
through Mosquitto into ``IngestWorker`` (one worker, and two in one shared-subscription group),
on SQLite (WAL, in a temporary directory) and PostgreSQL, against a plain paho → Mosquitto →
INSERT loop for the same messages.

Run as ``.venv/bin/python bench/ingest_mqtt.py [--quick]``; results are printed and written to
``bench/results/ingest_mqtt.json`` (``ingest_mqtt-quick.json`` for ``--quick``). The broker is
``--host``/``--port`` (default 127.0.0.1:1883); PostgreSQL is reached at ``--postgres``, where
the benchmark drops and creates its own database ``parkshare_bench_mqtt``, and drops it at the
end.

The load is bench/ingest.py's: the West Coast demo, the simulator's 2022-06-28 (seed 1), the
day's unique events from 06:00 on, in time order. A message carries 1 or 100 items of one car
park (``{"key": "psk_…", "items": […]}`` on ``parkshare/v1/lots/<code>/events``). The time runs
from the first publish to the moment the ``gate_events`` count (polled every 10 ms on its own
connection) reaches N; then the rows, their distinct event ids and N must agree (0 lost, 0
doubled). Mosquitto queues at most 1000 messages per session by default (more are dropped), so
the publisher keeps at most ``WINDOW`` messages ahead of those acknowledged by the consumer.

- ``worker``: ``IngestWorker`` threads of this process (one, or two in one group), exactly as
  the ``parkshare mqtt`` command runs them: one write transaction per message, acknowledged
  after commit, the car park's whitelist recomputed (and republished if changed) after it.
- ``plain``: a paho subscriber on its own topics that, per message, parses the JSON and inserts
  its rows with the raw driver (sqlite3 / psycopg) in one transaction; acknowledged after.

SQL statements per event of the worker are counted with a ``before_cursor_execute`` listener.
The worker publishes retained whitelists for the demo car parks; those found on the broker
before the run are put back afterwards (the others are cleared), and the workers' broker
sessions are ended.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from datetime import UTC
from pathlib import Path
from typing import Any

import psycopg
from common import (
    drop_postgres,
    filesystem_of,
    git_state,
    machine,
    print_table,
    recreate_postgres,
    write_results,
)
from paho.mqtt.client import Client, MQTTMessage, MQTTv5
from paho.mqtt.enums import CallbackAPIVersion
from sqlalchemy import create_engine, event, make_url, text

from ingest import CLOCK, POLICY, Target, day_events, prepare, reset, rows, statement_label
from parkshare.db import Database
from parkshare.ingest.mqtt import BrokerOptions, IngestWorker, topic

SIZES: dict[str, dict[str, Any]] = {  # events per run, by items per message
    "full": {"events": {1: 800, 100: 2_500}},
    "quick": {"events": {1: 100, 100: 300}},
}
WORKERS = (1, 2)
WINDOW = 500  # messages the publisher may be ahead of the consumer's acknowledgements
STALL = 20.0  # seconds without a new row before a run is given up
DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
BENCH_DATABASE = "parkshare_bench_mqtt"
COLUMNS = ("lot_id", "event_id", "plate", "plate_masked", "direction", "at", "gate",
           "received_at", "key_id")  # fmt: skip
EVENTS: list[dict[str, Any]] = []


def messages(count: int, size: int) -> list[tuple[str, list[dict[str, Any]]]]:
    """The first ``count`` events as (car park, items) messages of up to ``size`` items of
    one car park each, in the order of their first event."""
    per_lot: dict[str, list[dict[str, Any]]] = {}
    for item in EVENTS[:count]:
        per_lot.setdefault(item["lot"], []).append(item)
    cut = [(lot, s[i : i + size]) for lot, s in per_lot.items() for i in range(0, len(s), size)]
    return sorted(cut, key=lambda m: m[1][0]["at"])


def connect(broker: tuple[str, int], **kwargs: Any) -> Client:
    client = Client(CallbackAPIVersion.VERSION2, protocol=MQTTv5, **kwargs)
    client.max_inflight_messages_set(100)
    client.max_queued_messages_set(0)
    client.connect(*broker)
    client.loop_start()
    return client


def publish_all(
    client: Client,
    prefix: str,
    batches: list[tuple[str, list[dict[str, Any]]]],
    secret: str,
    done: Callable[[], int],
) -> float:
    """Publish at QoS 1, at most WINDOW messages ahead of ``done()``; returns the start time."""
    bodies = [
        (f"{prefix}/{lot}/events", json.dumps({"key": secret, "items": items}).encode())
        for lot, items in batches
    ]
    started = time.perf_counter()
    infos = []
    for sent, (name, body) in enumerate(bodies):
        while sent - done() >= WINDOW:
            time.sleep(0.002)
        infos.append(client.publish(name, body, qos=1))
    for info in infos:
        info.wait_for_publish(60)
    return started


class Counted:
    """How many rows ``gate_events`` holds, on a connection of its own."""

    def __init__(self, url: str) -> None:
        self.engine = create_engine(url)

    def rows(self) -> int:
        with self.engine.connect() as connection:
            return int(connection.execute(text("SELECT count(*) FROM gate_events")).scalar_one())

    def distinct(self) -> int:
        with self.engine.connect() as connection:
            query = "SELECT count(*) FROM (SELECT DISTINCT lot_id, event_id FROM gate_events) d"
            return int(connection.execute(text(query)).scalar_one())

    def wait_for(self, expected: int) -> float:
        """The time the count reached ``expected`` (or stalled)."""
        seen, last_change = -1, time.perf_counter()
        while True:
            now = self.rows()
            stamp = time.perf_counter()
            if now >= expected:
                return stamp
            if now != seen:
                seen, last_change = now, stamp
            elif stamp - last_change > STALL:
                return stamp
            time.sleep(0.01)


def forget_session(broker: tuple[str, int], client_id: str) -> None:
    client = Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=MQTTv5)
    client.connect(*broker, clean_start=True)
    client.disconnect()


def retained_whitelists(broker: tuple[str, int], codes: list[str]) -> dict[str, bytes]:
    """The retained whitelists of these car parks the broker holds now."""
    found: dict[str, bytes] = {}
    client = Client(CallbackAPIVersion.VERSION2, protocol=MQTTv5)

    def keep(_c: Any, _u: Any, message: MQTTMessage) -> None:
        if message.retain:
            found[message.topic.split("/")[3]] = bytes(message.payload)

    client.on_message = keep
    client.connect(*broker)
    client.subscribe([(topic(code, "whitelist"), 1) for code in codes])
    client.loop_start()
    time.sleep(1.0)
    client.disconnect()
    client.loop_stop()
    return found


def restore_whitelists(broker: tuple[str, int], codes: list[str], kept: dict[str, bytes]) -> None:
    client = connect(broker)
    infos = [
        client.publish(topic(c, "whitelist"), kept.get(c, b""), qos=1, retain=True) for c in codes
    ]
    for info in infos:
        info.wait_for_publish(30)
    client.disconnect()
    client.loop_stop()


# --- one run --------------------------------------------------------------------------------


def run_worker(
    broker: tuple[str, int], target: Target, database: Database, size: int, count: int, n: int
) -> dict[str, Any]:
    reset(database)
    batches = messages(count, size)
    expected = sum(len(items) for _, items in batches)
    counted = Counted(target.url)
    group, tag = f"bench-{uuid.uuid4().hex[:8]}", uuid.uuid4().hex[:8]
    workers = []
    for k in range(n):
        options = BrokerOptions(
            host=broker[0],
            port=broker[1],
            group=group,
            client_id=f"bench-mqtt-{tag}-{k}",
            session_expiry=120,
            whitelist_every=3600,
            retry_min=0.1,
            retry_max=1,
        )
        worker = IngestWorker(database, POLICY, CLOCK, options)
        stop = threading.Event()
        thread = threading.Thread(target=worker.run, args=(stop,), daemon=True)
        thread.start()
        workers.append((worker, stop, thread))
    try:
        for worker, _, _ in workers:
            if not worker.subscribed.wait(30):
                raise RuntimeError("a worker did not subscribe")
        time.sleep(1.0)  # the start-up whitelists are published
        statements: Counter[str] = Counter()

        def seen(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
            statements[statement_label(statement)] += 1

        event.listen(database.engine, "before_cursor_execute", seen)
        publisher = connect(broker)
        done = lambda: sum(w.stats.acknowledged for w, _, _ in workers)  # noqa: E731
        started = publish_all(publisher, "parkshare/v1/lots", batches, target.secret, done)
        finished = counted.wait_for(expected)
        event.remove(database.engine, "before_cursor_execute", seen)
        publisher.disconnect()
        publisher.loop_stop()
    finally:
        for _, stop, _ in workers:
            stop.set()
        for _, _, thread in workers:
            thread.join(30)
        for worker, _, _ in workers:
            forget_session(broker, worker.options.client_id)
    stats = [w.stats for w, _, _ in workers]
    run = result("worker", target, size, n, expected, started, finished, counted)
    stored = max(run["rows"], 1)
    run["statements_per_event"] = round(sum(statements.values()) / stored, 2)
    run["statements"] = {k: round(v / stored, 3) for k, v in statements.most_common()}
    run["messages_per_worker"] = [s.committed for s in stats]
    run["refused"] = sum(s.refused for s in stats)
    run["redelivered"] = sum(s.left_for_redelivery for s in stats)
    counted.engine.dispose()
    report_line(run)
    return run


def run_plain(
    broker: tuple[str, int], target: Target, database: Database, size: int, count: int
) -> dict[str, Any]:
    reset(database)
    batches = messages(count, size)
    expected = sum(len(items) for _, items in batches)
    counted = Counted(target.url)
    prefix = f"parkshare-bench/{uuid.uuid4().hex[:8]}/lots"
    url = make_url(target.url)
    placeholders = ", ".join(["?" if database.dialect == "sqlite" else "%s"] * len(COLUMNS))
    insert = f"INSERT INTO gate_events ({', '.join(COLUMNS)}) VALUES ({placeholders})"
    if database.dialect == "sqlite":
        raw: Any = sqlite3.connect(
            url.database or "", isolation_level=None, timeout=30, check_same_thread=False
        )
        raw.execute("PRAGMA journal_mode=WAL")
        raw.execute("PRAGMA synchronous=FULL")
    else:
        raw = psycopg.connect(url.set(drivername="postgresql").render_as_string(False))
    handled = [0]

    def values(row: dict[str, Any]) -> tuple[Any, ...]:
        if database.dialect == "sqlite":
            for column in ("at", "received_at"):
                row[column] = row[column].astimezone(UTC).replace(tzinfo=None).isoformat(" ")
        return tuple(row[c] for c in COLUMNS)

    def on_message(_c: Any, _u: Any, message: MQTTMessage) -> None:
        body = json.loads(message.payload)
        params = [values(r) for r in rows(body["items"], target)]
        if database.dialect == "sqlite":
            raw.execute("BEGIN IMMEDIATE")
            raw.executemany(insert, params)
            raw.execute("COMMIT")
        else:
            with raw.transaction(), raw.cursor() as cursor:
                cursor.executemany(insert, params)
        handled[0] += 1

    subscriber = Client(CallbackAPIVersion.VERSION2, protocol=MQTTv5)
    subscribed = threading.Event()
    subscriber.on_message = on_message
    subscriber.on_subscribe = lambda *_: subscribed.set()
    subscriber.connect(*broker, clean_start=True)
    subscriber.subscribe(f"{prefix}/+/events", qos=1)
    subscriber.loop_start()
    try:
        if not subscribed.wait(30):
            raise RuntimeError("the plain subscriber did not subscribe")
        publisher = connect(broker)
        started = publish_all(publisher, prefix, batches, target.secret, lambda: handled[0])
        finished = counted.wait_for(expected)
        publisher.disconnect()
        publisher.loop_stop()
    finally:
        subscriber.disconnect()
        subscriber.loop_stop()
        raw.close()
    run = result("plain", target, size, 1, expected, started, finished, counted)
    counted.engine.dispose()
    report_line(run)
    return run


def result(
    layer: str,
    target: Target,
    size: int,
    workers: int,
    expected: int,
    started: float,
    finished: float,
    counted: Counted,
) -> dict[str, Any]:
    stored, distinct = counted.rows(), counted.distinct()
    wall = finished - started
    return {
        "backend": target.backend,
        "layer": layer,
        "items_per_message": size,
        "workers": workers,
        "events": expected,
        "rows": stored,
        "distinct_event_ids": distinct,
        "lost": expected - distinct,
        "doubled": stored - distinct,
        "wall_s": round(wall, 2),
        "events_per_s": round(stored / wall, 1),
    }


def report_line(run: dict[str, Any]) -> None:
    print(
        f"  {run['backend']:<10} {run['layer']:<6} {run['items_per_message']:>3} items/msg"
        f" × {run['workers']}: {run['events_per_s']:>9.1f} events/s ({run['rows']} rows,"
        f" lost {run['lost']}, doubled {run['doubled']}, {run['wall_s']} s)",
        flush=True,
    )


def run_backend(
    backend: str, url: str, size: dict[str, Any], broker: tuple[str, int]
) -> list[dict[str, Any]]:
    database, target = prepare(backend, url)
    runs = []
    try:
        for items, count in size["events"].items():
            runs.append(run_plain(broker, target, database, items, count))
            for n in WORKERS:
                runs.append(run_worker(broker, target, database, items, count, n))
        reset(database)
    finally:
        database.dispose()
    return runs


HEADERS = ("backend", "consumer", "items/msg", "events", "lost", "doubled", "events/s",
           "plain/s", "ratio", "stmts/event")  # fmt: skip


def table_rows(runs: list[dict[str, Any]]) -> list[list[str]]:
    plain = {(r["backend"], r["items_per_message"]): r for r in runs if r["layer"] == "plain"}
    out = []
    for run in runs:
        base = plain[(run["backend"], run["items_per_message"])]
        consumer = "plain INSERT" if run["layer"] == "plain" else f"{run['workers']} worker(s)"
        out.append(
            [
                run["backend"],
                consumer,
                str(run["items_per_message"]),
                str(run["events"]),
                str(run["lost"]),
                str(run["doubled"]),
                f"{run['events_per_s']:,.0f}",
                f"{base['events_per_s']:,.0f}",
                f"{run['events_per_s'] / base['events_per_s']:.3f}",
                str(run.get("statements_per_event", "")),
            ]
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run (< 45 s)")
    parser.add_argument("--postgres", default=DEFAULT_POSTGRES, help="PostgreSQL server URL")
    parser.add_argument("--host", default="127.0.0.1", help="MQTT broker")
    parser.add_argument("--port", type=int, default=1883)
    args = parser.parse_args()
    broker = (args.host, args.port)
    size = SIZES["quick" if args.quick else "full"]
    began = time.perf_counter()
    EVENTS.extend(day_events())
    report: dict[str, Any] = {"run": "quick" if args.quick else "full", "sizes": size}
    report["machine"] = machine(args.postgres)
    report["source"] = git_state(Path(__file__).parent.parent)
    report["broker"] = f"{args.host}:{args.port}"
    report["window_messages"] = WINDOW
    runs: list[dict[str, Any]] = []
    codes = sorted({e["lot"] for e in EVENTS})
    kept = retained_whitelists(broker, codes)
    try:
        with tempfile.TemporaryDirectory(prefix="parkshare-bench-mqtt-") as scratch:
            report["sqlite_filesystem"] = filesystem_of(scratch)
            print(f"SQLite {report['machine']['sqlite']} (WAL, synchronous=FULL) in {scratch}")
            runs += run_backend("sqlite", f"sqlite:///{scratch}/b.db", size, broker)
        if str(report["machine"]["postgresql"]).startswith("unreachable"):
            print(f"PostgreSQL skipped: {report['machine']['postgresql']}")
        else:
            print(f"PostgreSQL {report['machine']['postgresql']}", flush=True)
            url = recreate_postgres(args.postgres, BENCH_DATABASE)
            try:
                runs += run_backend("postgresql", url, size, broker)
            finally:
                drop_postgres(args.postgres, BENCH_DATABASE)
    finally:
        restore_whitelists(broker, codes, kept)
    report["runs"] = runs
    report["seconds"] = round(time.perf_counter() - began, 1)
    print()
    print_table(HEADERS, table_rows(runs))
    print("ratio = events/s ÷ the plain paho → Mosquitto → INSERT loop's, same messages")
    for run in runs:
        if run["lost"] or run["doubled"]:
            print(f"WARNING: {run['backend']} {run['layer']}: lost {run['lost']}, doubled"
                  f" {run['doubled']}")  # fmt: skip
    path = write_results("ingest_mqtt-quick" if args.quick else "ingest_mqtt", report)
    print(f"\nwritten to {path} in {report['seconds']} s")


if __name__ == "__main__":
    main()
