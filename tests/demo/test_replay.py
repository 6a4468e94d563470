"""A simulated day replayed through the real ingest path: the HTTP API on a demo database,
the ``parkshare simulate`` command against a served app, and MQTT delivery to a broker."""

from __future__ import annotations

import json
import os
import socket
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import uvicorn
from fastapi.testclient import TestClient
from paho.mqtt.client import Client, MQTTMessage, MQTTv5
from paho.mqtt.enums import CallbackAPIVersion
from sqlalchemy import func, select
from typer.testing import CliRunner

from parkshare.app import create_app
from parkshare.cli import app as cli_app
from parkshare.clock import FixedClock
from parkshare.config import Settings, get_settings
from parkshare.db import Database
from parkshare.demo import westcoast
from parkshare.demo.replay import (
    HttpSink,
    MqttSink,
    Tally,
    create_demo_key,
    load_lots,
    replay,
    ticks,
)
from parkshare.demo.simulator import DaySimulation, Send, demo_lots, simulate_day
from parkshare.ingest.model import CountReport, GateEvent, ParkingSession, SessionStatus
from parkshare.lots.model import Lot
from parkshare.schedules.rules import SHANGHAI
from tests.conftest import server_missing

DAY = date(2022, 6, 28)
START = datetime(2022, 6, 28, tzinfo=SHANGHAI)
AFTER_THE_DAY = FixedClock(START + timedelta(days=1))  # the server's clock: 2022-06-29 00:00
LOTS = ("HD-I-027", "HD-I-023", "HD-C-033")  # two small institutional car parks and a hotel


@pytest.fixture(scope="module")
def demo_database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    database = Database(f"sqlite:///{tmp_path_factory.mktemp('replay') / 'demo.db'}")
    database.migrate()
    with database.session(write=True) as session:
        westcoast.build(session, clock=AFTER_THE_DAY)
    yield database
    database.dispose()


@pytest.fixture(scope="module")
def day(demo_database: Database) -> DaySimulation:
    with demo_database.session() as session:
        return simulate_day(load_lots(session, LOTS), DAY, seed=3)


@pytest.fixture(scope="module")
def replayed(demo_database: Database, day: DaySimulation) -> Iterator[tuple[HttpSink, TestClient]]:
    key = create_demo_key(demo_database, list(LOTS), clock=AFTER_THE_DAY, name="test")
    with TestClient(create_app(Settings(), demo_database, AFTER_THE_DAY)) as client:
        sink = HttpSink(client, key)
        replay(day.sends, sink, speed=0, tick=timedelta(minutes=30), origin=START)
        yield sink, client


def unique_ids(sends: list[Send]) -> set[str]:
    return {s.item["event_id"] for s in sends if s.kind == "events"}


def test_the_demo_simulator_uses_the_stored_schedules(demo_database: Database) -> None:
    with demo_database.session() as session:
        stored = load_lots(session)
    assert stored == sorted(demo_lots(), key=lambda lot: lot.code)


def test_every_unique_event_is_stored_once_and_resends_are_duplicates(
    demo_database: Database, day: DaySimulation, replayed: tuple[HttpSink, TestClient]
) -> None:
    sink, _ = replayed
    events = [s for s in day.sends if s.kind == "events"]
    counts = [s for s in day.sends if s.kind == "counts"]
    resent = len(events) - len(unique_ids(day.sends))
    assert resent == day.summary.duplicates > 0
    with demo_database.session() as session:
        stored = session.scalar(select(func.count()).select_from(GateEvent))
        reports = session.scalar(select(func.count()).select_from(CountReport))
    assert stored == len(unique_ids(day.sends))
    assert reports == len(counts)
    tally = sink.tally
    assert (tally.sent, tally.rejected, tally.failed) == (len(day.sends), 0, 0)
    assert tally.duplicates == resent
    assert tally.accepted == stored + reports
    assert tally.flagged <= 0.01 * len(counts)


def test_sessions_pair_the_day_and_the_cars_inside_stay_open(
    demo_database: Database, day: DaySimulation, replayed: tuple[HttpSink, TestClient]
) -> None:
    with demo_database.session() as session:
        rows = session.execute(
            select(ParkingSession.lot_id, ParkingSession.status, func.count()).group_by(
                ParkingSession.lot_id, ParkingSession.status
            )
        ).all()
        codes = dict(session.execute(select(Lot.id, Lot.code)).all())
    statuses: dict[str, Counter[str]] = {}
    for lot_id, status, n in rows:
        statuses.setdefault(codes[lot_id], Counter())[str(status)] = n
    for code in LOTS:
        summary = day.summary.lot(code)
        assert statuses[code][SessionStatus.OPEN] == summary.inside_at_end
        assert statuses[code][SessionStatus.CLOSED] == summary.exits > 50
        assert not statuses[code][SessionStatus.EXIT_ONLY]  # midnight's cars came with entries
        assert not statuses[code][SessionStatus.ENTRY_ONLY]


def test_live_state_shows_the_last_count(
    day: DaySimulation, replayed: tuple[HttpSink, TestClient]
) -> None:
    _, client = replayed
    for code in LOTS:
        last = [s for s in day.sends if s.kind == "counts" and s.lot == code][-1]
        live = client.get(f"/api/v1/lots/{code}/live").json()
        assert live["link"] == "online"
        assert (live["free"], live["free_source"]) == (last.item["free"], "count")


def test_ticks_hold_what_is_due_and_start_with_the_backlog(day: DaySimulation) -> None:
    origin = START + timedelta(hours=8)
    grouped = list(ticks(day.sends, timedelta(minutes=10), origin))
    assert sum(len(due) for _, due in grouped) == len(day.sends)
    first_end, first = grouped[0]
    assert first_end == origin and all(s.send_at <= origin for s in first)
    for (end, due), (_, later) in pairwise(grouped):
        assert all(s.send_at <= end for s in due) and all(s.send_at > end for s in later)


def test_the_backlog_is_caught_up_in_slices(day: DaySimulation) -> None:
    origin = START + timedelta(hours=8)
    grouped = list(ticks(day.sends, timedelta(minutes=1), origin, catch_up=timedelta(hours=1)))
    ends = [end for end, _ in grouped]
    assert ends[:9] == [START + timedelta(hours=h) for h in range(9)]  # 00:00, 01:00 … 08:00
    assert ends[9] - ends[8] == timedelta(minutes=1)
    for (end, due), (_, later) in pairwise(grouped):
        assert all(s.send_at <= end for s in due) and all(s.send_at > end for s in later)


def test_replay_paces_ticks_at_the_speed_asked(demo_database: Database, day: DaySimulation) -> None:
    sink = _RecordingSink()
    hour = [
        s
        for s in day.sends
        if START + timedelta(hours=9) < s.send_at <= START + timedelta(hours=10)
    ]
    began = time.monotonic()
    replay(
        hour, sink, speed=3600 / 1.5, tick=timedelta(minutes=15), origin=START + timedelta(hours=9)
    )
    assert 1.4 < time.monotonic() - began < 3.0  # an hour of the day in 1.5 s
    assert sum(len(items) for _, _, items in sink.batches) == len(hour)
    assert all(len({i["lot"] for i in items}) == 1 for _, _, items in sink.batches)


class _RecordingSink:
    def __init__(self) -> None:
        self.tally = Tally()
        self.batches: list[tuple[str, str, list[dict[str, Any]]]] = []
        self.lock = threading.Lock()

    def send(self, kind: Any, lot: str, items: list[dict[str, Any]]) -> None:
        with self.lock:
            self.batches.append((kind, lot, items))
        self.tally.sent_batch(len(items))

    def close(self) -> None:
        pass


# --- the command, against a served app ------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
def served(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    url = f"sqlite:///{tmp_path / 'served.db'}"
    database = Database(url)
    database.migrate()
    with database.session(write=True) as session:
        westcoast.build(session, clock=AFTER_THE_DAY)
    port = free_port()
    config = uvicorn.Config(
        create_app(Settings(database_url=url), database, AFTER_THE_DAY),
        host="127.0.0.1",
        port=port,
        log_level="warning",
        ws="none",
        lifespan="on",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started
    monkeypatch.setenv("PARKSHARE_DATABASE_URL", url)
    monkeypatch.setenv("PARKSHARE_NOW", AFTER_THE_DAY.now().isoformat())
    get_settings.cache_clear()
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)
    get_settings.cache_clear()
    database.dispose()


def test_simulate_command_replays_a_car_park_over_http(served: str) -> None:
    args = ["simulate", "--date", "2022-06-28", "--speed", "0", "--tick", "3600"]
    result = CliRunner().invoke(cli_app, [*args, "--url", served, "--lot", "HD-I-027"])
    assert result.exit_code == 0, result.output
    assert "created an ingest key for 1 car parks" in result.output
    assert "rejected 0" in result.output and "2022-06-29 00:00" in result.output


def test_simulate_command_says_when_no_server_answers(served: str) -> None:
    args = ["simulate", "--speed", "0", "--lot", "HD-I-027", "--url", "http://127.0.0.1:9"]
    result = CliRunner().invoke(cli_app, args)
    assert result.exit_code == 1
    assert "replay_failed" in result.output and "parkshare serve" in result.output


def test_simulate_command_refuses_unknown_car_parks(served: str) -> None:
    result = CliRunner().invoke(cli_app, ["simulate", "--lot", "NOPE", "--url", served])
    assert result.exit_code == 1
    assert "NOPE" in result.output


# --- MQTT: the batches reach the broker on the worker's topics ---------------------------------


@pytest.fixture(scope="module")
def broker() -> tuple[str, int]:
    url = os.environ.get("PARKSHARE_TEST_MQTT_URL", "")
    if not url:
        server_missing("MQTT tests need PARKSHARE_TEST_MQTT_URL (e.g. mqtt://127.0.0.1:1883)")
    parts = urlsplit(url)
    return parts.hostname or "127.0.0.1", parts.port or 1883


def test_mqtt_sink_publishes_batches_on_the_car_parks_topics(
    broker: tuple[str, int], day: DaySimulation
) -> None:
    host, port = broker
    code = f"SIM-{uuid.uuid4().hex[:8]}"  # a topic nobody else uses
    received: list[tuple[str, dict[str, Any]]] = []
    listener = Client(CallbackAPIVersion.VERSION2, client_id=f"t-{code}", protocol=MQTTv5)

    def on_message(_client: Client, _data: Any, message: MQTTMessage) -> None:
        received.append((message.topic, json.loads(message.payload)))

    listener.on_message = on_message
    listener.connect(host, port)
    listener.subscribe(f"parkshare/v1/lots/{code}/+", qos=1)
    listener.loop_start()
    time.sleep(0.3)
    sends = [s._replace(lot=code, item={**s.item, "lot": code}) for s in day.sends[:300]]
    sink = MqttSink(host, port, "psk_test_key", wait_for_answers=0.2)
    replay(sends, sink, speed=0, tick=timedelta(hours=1), origin=START)
    sink.close()
    deadline = time.monotonic() + 10
    while sum(len(p["items"]) for _, p in received) < len(sends) and time.monotonic() < deadline:
        time.sleep(0.05)
    listener.loop_stop()
    listener.disconnect()
    assert {t for t, _ in received} <= {
        f"parkshare/v1/lots/{code}/{k}" for k in ("events", "counts")
    }
    assert all(p["key"] == "psk_test_key" for _, p in received)
    assert sorted(json.dumps(i, sort_keys=True) for _, p in received for i in p["items"]) == sorted(
        json.dumps(s.item, sort_keys=True) for s in sends
    )
    assert sink.tally.sent == len(sends) and sink.tally.reasons["no_answer"] == len(sends)
