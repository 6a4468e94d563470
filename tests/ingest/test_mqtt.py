"""The MQTT worker against a real broker (Mosquitto) and both databases.

Set ``PARKSHARE_TEST_MQTT_URL`` (e.g. ``mqtt://127.0.0.1:1883``) to run these; without it they
skip, and with ``CI=true`` a missing broker fails the run. Every test has its own car-park
codes, share group and client ids, so parallel runs on one broker never see each other's
messages, and it removes its retained messages and broker sessions afterwards.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest
from paho.mqtt.client import Client, MQTTMessage, MQTTv5
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from sqlalchemy import text

from parkshare.clock import FixedClock
from parkshare.config import Policy
from parkshare.db import Database
from parkshare.errors import InvalidInput
from parkshare.ingest import keys
from parkshare.ingest.model import CountReport, GateEvent, ParkingSession, SessionStatus
from parkshare.ingest.mqtt import (
    BrokerOptions,
    IngestWorker,
    key_prefix,
    merge,
    parse_envelope,
    parse_topic,
    retry_delay,
    split_by_topic,
    subscriptions,
    topic,
)
from parkshare.ingest.schemas import BatchResult, Rejection
from parkshare.reservations.service import ReservationRequest, reserve
from tests.conftest import server_missing
from tests.factories import make_lot

SH = ZoneInfo("Asia/Shanghai")
POLICY = Policy()
WAIT = 10.0  # seconds any single expectation may take before the test fails


def at(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=SH)  # type: ignore[misc]


def until(condition: Callable[[], bool], timeout: float = WAIT) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


@pytest.fixture(scope="module")
def broker() -> tuple[str, int]:
    url = os.environ.get("PARKSHARE_TEST_MQTT_URL", "")
    if not url:
        server_missing("MQTT tests need PARKSHARE_TEST_MQTT_URL (e.g. mqtt://127.0.0.1:1883)")
    parsed = urlsplit(url)
    host, port = parsed.hostname or "127.0.0.1", parsed.port or 1883
    try:
        socket.create_connection((host, port), timeout=2).close()
    except OSError as exc:
        server_missing(f"MQTT broker at {host}:{port} is unreachable: {exc}")
    return host, port


def connect(broker: tuple[str, int], **kwargs: Any) -> Client:
    client = Client(CallbackAPIVersion.VERSION2, protocol=MQTTv5, **kwargs)
    client.connect(*broker)
    client.loop_start()
    return client


class Listener:
    """Collects what arrives on some topics (results, whitelists)."""

    def __init__(self, broker: tuple[str, int], *topics: str) -> None:
        self.messages: list[MQTTMessage] = []
        self._lock = threading.Lock()
        self._subscribed = threading.Event()
        self.client = Client(CallbackAPIVersion.VERSION2, protocol=MQTTv5)
        self.client.on_message = lambda _c, _u, message: self._keep(message)
        self.client.on_subscribe = lambda *_: self._subscribed.set()
        self.client.connect(*broker)
        self.client.subscribe([(t, 1) for t in topics])
        self.client.loop_start()
        assert self._subscribed.wait(WAIT)

    def _keep(self, message: MQTTMessage) -> None:
        with self._lock:
            self.messages.append(message)

    def bodies(self, leaf: str) -> list[dict[str, Any]]:
        with self._lock:
            found = [m for m in self.messages if m.topic.endswith(f"/{leaf}")]
        return [json.loads(m.payload) for m in found]

    def results(self) -> list[dict[str, Any]]:
        """Answers to our messages. (A worker of another test run, on this broker, answers
        our messages with ``unauthorised``: it does not know our key.)"""
        return [r for r in self.bodies("results") if r["error"] is None]

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@dataclass
class Site:
    """Two car parks, a key for the first, and the means to talk to the worker."""

    database: Database
    clock: FixedClock
    broker: tuple[str, int]
    lot: str
    other: str
    secret: str
    publisher: Client
    listener: Listener
    workers: list[tuple[IngestWorker, threading.Event, threading.Thread]] = field(
        default_factory=list
    )

    def publish(
        self, kind: str, items: list[Any], *, key: str | None = None, lot: str = ""
    ) -> None:
        body = json.dumps({"key": key or self.secret, "items": items}, ensure_ascii=False)
        info = self.publisher.publish(topic(lot or self.lot, kind), body, qos=1)
        info.wait_for_publish(WAIT)

    def start(self, *, group: str, client_id: str, whitelist_every: float = 60) -> IngestWorker:
        options = BrokerOptions(
            host=self.broker[0],
            port=self.broker[1],
            group=group,
            client_id=client_id,
            session_expiry=120,
            whitelist_every=whitelist_every,
            retry_min=0.1,
            retry_max=1,
        )
        worker = IngestWorker(self.database, POLICY, self.clock, options)
        stop = threading.Event()
        thread = threading.Thread(target=worker.run, args=(stop,), daemon=True)
        thread.start()
        self.workers.append((worker, stop, thread))
        assert worker.subscribed.wait(WAIT), "the worker did not subscribe"
        return worker

    def stop(self, worker: IngestWorker) -> None:
        for running, stop, thread in self.workers:
            if running is worker:
                stop.set()
                thread.join(WAIT)
                assert not thread.is_alive()

    def rows(self) -> list[GateEvent]:
        with self.database.session() as session:
            return list(session.query(GateEvent).order_by(GateEvent.event_id))

    def sessions(self) -> list[ParkingSession]:
        with self.database.session() as session:
            return list(session.query(ParkingSession).order_by(ParkingSession.entered_at))


@pytest.fixture
def site(database: Database, broker: tuple[str, int]) -> Iterator[Site]:
    clock = FixedClock(at(2022, 6, 24, 9))
    lot, other = unique("MQ"), unique("MQX")
    with database.session(write=True) as session:
        make_lot(session, clock=clock, code=lot, shared_berths=5, total_berths=200)
        make_lot(session, clock=clock, code=other)
        _, secret = keys.create_key(session, name="gate vendor", lot_codes=[lot], clock=clock)
    listener = Listener(broker, *(topic(code, "#") for code in (lot, other)))
    publisher = connect(broker)
    site = Site(database, clock, broker, lot, other, secret, publisher, listener)
    yield site
    for _, stop, thread in site.workers:
        stop.set()
        thread.join(WAIT)
    for client_id in {worker.options.client_id for worker, _, _ in site.workers}:
        forget_session(broker, client_id)
    for code in (lot, other):  # retained whitelists: gone with the test
        publisher.publish(topic(code, "whitelist"), b"", qos=1, retain=True).wait_for_publish(WAIT)
    publisher.disconnect()
    publisher.loop_stop()
    listener.close()


def forget_session(broker: tuple[str, int], client_id: str) -> None:
    """A clean start with no session expiry ends the session the broker kept for a worker."""
    client = Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=MQTTv5)
    client.connect(*broker, clean_start=True)
    client.disconnect()


def event(
    event_id: str, direction: str, when: datetime, *, plate: str = "鲁B12345", lot: str
) -> dict[str, Any]:
    return {
        "event_id": event_id,
        "lot": lot,
        "plate": plate,
        "direction": direction,
        "at": when.isoformat(),
        "gate": "north",
    }


def test_topics_and_envelopes_are_read_strictly() -> None:
    assert subscriptions("g1") == [
        "$share/g1/parkshare/v1/lots/+/events",
        "$share/g1/parkshare/v1/lots/+/counts",
    ]
    assert parse_topic("parkshare/v1/lots/HD-0001/events") == ("HD-0001", "events")
    for name in ("parkshare/v1/lots/HD-0001/results", "parkshare/v1/lots//events", "x/y"):
        assert parse_topic(name) is None
    assert parse_envelope(b'{"key": "psk_a_b", "items": [1]}').items == [1]
    for broken in (b"{", b"[]", b'{"key": "k"}', b'{"key": "k", "items": [], "x": 1}'):
        with pytest.raises(InvalidInput):
            parse_envelope(broken)
    with pytest.raises(InvalidInput):
        BrokerOptions(group="a/b")


def test_items_for_another_car_park_are_rejected_by_topic() -> None:
    items: list[Any] = [{"lot": "A"}, {"lot": "B", "event_id": "e2"}, "junk", {"lot": "A"}]
    kept, refused = split_by_topic("A", items)
    assert kept == [0, 2, 3] and [(r.index, r.code, r.event_id) for r in refused] == [
        (1, "topic_mismatch", "e2")
    ]
    inner = BatchResult(accepted=["e1"], rejected=[Rejection(1, "invalid_input", "not an object")])
    merged = merge(kept, inner, refused)
    assert [(r.index, r.code) for r in merged.rejected] == [
        (1, "topic_mismatch"),
        (2, "invalid_input"),
    ]


def test_only_the_key_prefix_is_logged_and_back_off_doubles() -> None:
    assert key_prefix("psk_0a1b2c3d_SECRET_with_underscores") == "psk_0a1b2c3d"
    assert key_prefix("Bearer nonsense") == "(not a key)"
    delays = [retry_delay(n, minimum=0.5, maximum=3) for n in range(1, 6)]
    assert delays == [0.5, 1.0, 2.0, 3.0, 3.0]


def test_events_over_mqtt_are_stored_and_paired(site: Site) -> None:
    site.start(group=unique("g"), client_id=unique("w"))
    site.publish(
        "events",
        [
            event("e1", "in", at(2022, 6, 24, 7), lot=site.lot),
            event("e2", "out", at(2022, 6, 24, 8, 40), lot=site.lot),
        ],
    )
    assert until(lambda: len(site.listener.results()) == 1)
    (result,) = site.listener.results()
    assert (result["kind"], result["accepted"], result["rejected"]) == ("events", ["e1", "e2"], [])
    assert [(e.event_id, e.direction) for e in site.rows()] == [("e1", "in"), ("e2", "out")]
    (closed,) = site.sessions()
    assert closed.status is SessionStatus.CLOSED and closed.exited_at == at(2022, 6, 24, 8, 40)


def test_a_replayed_message_brings_duplicates_not_new_rows(site: Site) -> None:
    site.start(group=unique("g"), client_id=unique("w"))
    items = [event("e1", "in", at(2022, 6, 24, 7), lot=site.lot)]
    site.publish("events", items)
    site.publish("events", items)
    assert until(lambda: len(site.listener.results()) == 2)
    first, replay = site.listener.results()
    assert (first["accepted"], first["duplicates"]) == (["e1"], [])
    assert (replay["accepted"], replay["duplicates"]) == ([], ["e1"])
    assert len(site.rows()) == 1 and len(site.sessions()) == 1


def test_a_bad_item_is_rejected_and_the_good_ones_stored(site: Site) -> None:
    site.start(group=unique("g"), client_id=unique("w"))
    site.publish(
        "events",
        [
            event("e1", "in", at(2022, 6, 24, 7), lot=site.lot),
            event("e2", "in", at(2022, 6, 24, 7), lot=site.lot, plate="XX"),
            event("e3", "in", at(2022, 6, 24, 7), lot=site.other),
            event("e4", "out", at(2022, 6, 24, 8), lot=site.lot),
        ],
    )
    assert until(lambda: len(site.listener.results()) == 1)
    (result,) = site.listener.results()
    assert result["accepted"] == ["e1", "e4"]
    assert [(r["index"], r["code"], r["event_id"]) for r in result["rejected"]] == [
        (1, "invalid_plate", "e2"),
        (2, "topic_mismatch", "e3"),
    ]
    assert [e.event_id for e in site.rows()] == ["e1", "e4"]


def test_a_wrong_key_or_a_broken_message_stores_nothing_and_is_acknowledged(site: Site) -> None:
    worker = site.start(group=unique("g"), client_id=unique("w"))
    wrong = site.secret[:-2] + ("xy" if not site.secret.endswith("xy") else "zz")
    site.publish("events", [event("e1", "in", at(2022, 6, 24, 7), lot=site.lot)], key=wrong)
    site.publisher.publish(topic(site.lot, "events"), b"{not json", qos=1).wait_for_publish(WAIT)
    expected = {"unauthorised", "invalid_input"}  # (other runs' workers may add unauthorised)
    assert until(lambda: {r["error"]["code"] for r in site.listener.bodies("results")} == expected)
    # (>=: a parallel test run's messages reach this worker too, and are refused)
    assert until(lambda: worker.stats.refused >= 2 and worker.stats.acknowledged >= 2)
    assert worker.stats.committed == 0 and site.rows() == []


def test_a_car_park_outside_the_keys_scope_is_rejected(site: Site) -> None:
    site.start(group=unique("g"), client_id=unique("w"))
    items = [event("e1", "in", at(2022, 6, 24, 7), lot=site.other)]
    site.publish("events", items, lot=site.other)
    assert until(lambda: len(site.listener.results()) == 1)
    (result,) = site.listener.results()
    assert result["accepted"] == [] and result["rejected"][0]["code"] == "lot_not_in_scope"
    assert site.rows() == []


def test_counts_come_back_flagged_when_impossible(site: Site) -> None:
    site.start(group=unique("g"), client_id=unique("w"))
    first, second = at(2022, 6, 24, 8, 58).isoformat(), at(2022, 6, 24, 8, 59).isoformat()
    site.publish(
        "counts",
        [{"lot": site.lot, "free": 120, "at": first}, {"lot": site.lot, "free": 999, "at": second}],
    )
    assert until(lambda: len(site.listener.results()) == 1)
    (result,) = site.listener.results()
    assert (result["kind"], len(result["accepted"]), len(result["flagged"])) == ("counts", 2, 1)


def test_two_workers_in_one_group_split_the_stream(site: Site) -> None:
    group = unique("g")
    workers = [site.start(group=group, client_id=unique(f"w{n}")) for n in range(2)]
    for n in range(100):
        site.publish("events", [event(f"e{n:03}", "in", at(2022, 6, 24, 7), plate=f"鲁B1{n:04}", lot=site.lot)])  # fmt: skip
    assert until(lambda: sum(w.stats.committed for w in workers) == 100, timeout=30)
    assert all(w.stats.committed > 0 for w in workers), "one worker took everything"
    assert until(lambda: len(site.listener.results()) == 100)
    results = site.listener.results()
    assert sum(len(r["accepted"]) for r in results) == 100
    assert sum(len(r["duplicates"]) for r in results) == 0
    assert len({e.event_id for e in site.rows()}) == len(site.rows()) == 100


def test_messages_sent_while_the_worker_is_down_arrive_when_it_is_back(site: Site) -> None:
    group, client_id = unique("g"), unique("w")
    site.stop(site.start(group=group, client_id=client_id))  # the broker keeps its session
    site.publish("events", [event("e1", "in", at(2022, 6, 24, 7), lot=site.lot)])
    site.publish("events", [event("e2", "out", at(2022, 6, 24, 8), lot=site.lot)])
    time.sleep(0.3)
    assert site.rows() == [] and site.listener.results() == []
    site.start(group=group, client_id=client_id)
    assert until(lambda: len(site.listener.results()) == 2)
    assert [e.event_id for e in site.rows()] == ["e1", "e2"]


def test_a_database_error_leaves_the_message_for_redelivery(site: Site) -> None:
    worker = site.start(group=unique("g"), client_id=unique("w"))
    with site.database.engine.begin() as connection:
        connection.execute(text("ALTER TABLE count_reports RENAME TO count_reports_away"))
    try:
        site.publish("counts", [{"lot": site.lot, "free": 7, "at": at(2022, 6, 24, 9).isoformat()}])
        assert until(lambda: worker.stats.left_for_redelivery >= 2)
        assert worker.stats.committed == 0 and site.listener.results() == []
    finally:
        with site.database.engine.begin() as connection:
            connection.execute(text("ALTER TABLE count_reports_away RENAME TO count_reports"))
    assert until(lambda: len(site.listener.results()) == 1)
    assert worker.stats.committed == 1
    with site.database.session() as session:
        assert [c.free for c in session.query(CountReport)] == [7]


def test_the_whitelist_is_retained_and_republished_only_when_it_changes(site: Site) -> None:
    watcher = Listener(site.broker, topic(site.lot, "whitelist"))
    try:
        site.start(group=unique("g"), client_id=unique("w"), whitelist_every=0.1)
        assert until(lambda: len(watcher.bodies("whitelist")) == 1)
        (empty,) = watcher.bodies("whitelist")
        assert (empty["lot"], empty["permits"]) == (site.lot, [])
        with site.database.session(write=True) as session:
            request = ReservationRequest(site.lot, "鲁B12345", at(2022, 6, 24, 19), at(2022, 6, 25, 10))  # fmt: skip
            booked = reserve(
                session, request, idempotency_key=None, policy=POLICY, clock=site.clock
            )
        assert until(lambda: len(watcher.bodies("whitelist")) == 2)
        time.sleep(0.6)  # several more checks: nothing changed, nothing published
        assert len(watcher.bodies("whitelist")) == 2
    finally:
        watcher.close()
    permits = watcher.bodies("whitelist")[1]["permits"]
    assert [(p["plate"], p["source"], p["ref"]) for p in permits] == [
        ("鲁B12345", "reservation", booked.ref)
    ]
    late = Listener(site.broker, topic(site.lot, "whitelist"))  # subscribes after publication
    try:
        assert until(lambda: len(late.messages) == 1)
        assert late.messages[0].retain and late.bodies("whitelist")[0]["permits"] == permits
    finally:
        late.close()


def test_the_command_runs_until_sigterm(broker: tuple[str, int], tmp_path: Any) -> None:
    lot, client_id = unique("MQ"), unique("cli")
    listener = Listener(broker, topic(lot, "results"))
    env = {**os.environ, "PARKSHARE_DATABASE_URL": f"sqlite:///{tmp_path}/cli.db"}
    command = [sys.executable, "-c", "from parkshare.cli import app; app()", "ingest", "mqtt"]
    options = ["--host", broker[0], "--port", str(broker[1]), "--group", unique("g")]
    process = subprocess.Popen(
        [*command, *options, "--client-id", client_id], env=env, stderr=subprocess.PIPE, text=True
    )
    assert process.stderr is not None
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(process.stderr or ()), daemon=True)
    reader.start()
    refused = f"refused a message on {topic(lot, 'events')} (key psk_0a1b2c3d)"
    try:
        assert until(lambda: any("subscribed: $share/" in line for line in lines)), lines
        publisher = connect(broker)
        properties = Properties(PacketTypes.PUBLISH)  # type: ignore[no-untyped-call]
        properties.CorrelationData = b"request-1"
        body = json.dumps({"key": "psk_0a1b2c3d_SECRETPART", "items": []})
        publisher.publish(topic(lot, "events"), body, qos=1, properties=properties)
        assert until(lambda: any(refused in line for line in lines) and bool(listener.messages))
        publisher.disconnect()
        publisher.loop_stop()
        reply = listener.messages[0]
        assert reply.properties.CorrelationData == b"request-1"  # type: ignore[union-attr]
        assert json.loads(reply.payload)["error"]["code"] == "unauthorised"
        process.send_signal(signal.SIGTERM)
        assert process.wait(WAIT) == 0, lines
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(WAIT)
        reader.join(WAIT)
        process.stderr.close()
        listener.close()
        forget_session(broker, client_id)
    assert not any("SECRETPART" in line for line in lines)  # the key's prefix only
