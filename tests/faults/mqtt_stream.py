"""Gate events over MQTT, the way a car park's system must send them to survive our faults:
QoS 1, a persistent session (``clean_start=False``, a fixed client id), one event per
message, unique event ids. A message is acknowledged when the broker PUBACKs it.

Two cases where the publisher sends a message again (safe: events are idempotent on their
id), as ``tests/ingest/test_mqtt_restart.py`` found and documents:

- a PUBACK with reason 0x10 "no matching subscribers": the worker's shared subscription was
  not there (after a broker restart, before the worker subscribed again);
- after a broker SIGKILL: every message PUBACKed within ``RESEND_WINDOW`` seconds before the
  connection was lost (the broker may have acknowledged it after its last autosave)."""

from __future__ import annotations

import json
import threading
import time
import uuid
from typing import Any

from paho.mqtt.client import Client, ConnectFlags, MQTTv5
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from parkshare.ingest.mqtt import topic
from tests.faults.traffic import EventAck, Ledger, events_of
from tests.servers import until

NO_MATCHING_SUBSCRIBERS = 0x10  # an MQTT 5 PUBACK reason code
AUTOSAVE = 1  # the private broker's autosave_interval, seconds
RESEND_WINDOW = 3.0 * AUTOSAVE


class MqttEventStream:
    def __init__(self, port: int, lot: str, secret: str, ledger: Ledger) -> None:
        self.lot, self.secret, self.ledger = lot, secret, ledger
        self._lock = threading.Lock()
        self._pending: dict[int, dict[str, str]] = {}  # mid → event, until PUBACKed
        self._early: dict[int, ReasonCode] = {}  # mid → reason, PUBACKed before publish() returned
        self._bounced: list[dict[str, str]] = []  # "no matching subscribers": publish again
        self.bounced = self.resent = 0
        self.events: dict[str, dict[str, str]] = {}  # event id → the event
        self.published_at: dict[str, float] = {}  # event id → first publication
        self.acked_at: dict[str, float] = {}  # event id → its PUBACK
        self.lost_at: float | None = None
        self.connected = threading.Event()
        self.client = Client(
            CallbackAPIVersion.VERSION2, client_id=f"fi-pub-{uuid.uuid4().hex[:8]}", protocol=MQTTv5
        )
        self.client.max_queued_messages_set(0)  # keep everything while the broker is down
        self.client.reconnect_delay_set(1, 1)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_publish = self._on_publish
        properties = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        properties.SessionExpiryInterval = 600
        self.client.connect_async("127.0.0.1", port, keepalive=5, clean_start=False, properties=properties)  # fmt: skip
        self.client.loop_start()
        assert self.connected.wait(10), "the MQTT publisher did not connect"

    def _on_connect(self, _c: Any, _u: Any, _f: ConnectFlags, reason: ReasonCode, *_: Any) -> None:
        if not reason.is_failure:
            self.connected.set()

    def _on_disconnect(self, _c: Any, _u: Any, _f: Any, _r: Any, *_: Any) -> None:
        self.connected.clear()
        with self._lock:
            self.lost_at = time.monotonic()

    def _on_publish(self, _c: Any, _u: Any, mid: int, reason: ReasonCode, *_: Any) -> None:
        with self._lock:
            event = self._pending.pop(mid, None)
            if event is None:
                self._early[mid] = reason
                return
        self._acked(event, reason)

    def _acked(self, event: dict[str, str], reason: ReasonCode) -> None:
        if reason.value == NO_MATCHING_SUBSCRIBERS:
            with self._lock:
                self.bounced += 1
                self._bounced.append(event)
            return
        if reason.is_failure:
            self.ledger.problem(f"the broker refused event {event['event_id']}: {reason}")
            return
        now = time.monotonic()
        with self._lock:
            self.acked_at.setdefault(event["event_id"], now)
        ack = EventAck(self.lot, event["plate"], event["direction"], now)
        self.ledger.acknowledged_events({event["event_id"]: ack})

    def publish(self, event: dict[str, str]) -> None:
        body = json.dumps({"key": self.secret, "items": [event]}, ensure_ascii=False)
        with self._lock:
            self.published_at.setdefault(event["event_id"], time.monotonic())
            self.events[event["event_id"]] = event
        info = self.client.publish(topic(self.lot, "events"), body, qos=1)
        with self._lock:  # (not held in publish(): paho's thread takes its locks, then ours)
            early = self._early.pop(info.mid, None)
            if early is None:
                self._pending[info.mid] = event
        if early is not None:
            self._acked(event, early)

    def step(self, n: int) -> None:
        """One car's events, then whatever bounced meanwhile."""
        for event in events_of("m", self.lot, "鲁D", n):
            self.publish(event)
        self.publish_bounced()

    def publish_bounced(self) -> None:
        with self._lock:
            again, self._bounced = self._bounced, []
        for event in again:
            self.publish(event)

    def resend_recent(self) -> int:
        """After a broker SIGKILL: publish again what it acknowledged in the last
        ``RESEND_WINDOW`` seconds before the connection was lost."""
        with self._lock:
            lost_at = self.lost_at or time.monotonic()
            recent = sorted(
                e for e, t in self.acked_at.items() if lost_at - RESEND_WINDOW <= t <= lost_at
            )
        for event_id in recent:
            self.publish(self.events[event_id])
        self.resent += len(recent)
        return len(recent)

    def settled(self) -> bool:
        with self._lock:
            return not (self._pending or self._bounced)

    def drain(self, timeout: float = 30.0) -> bool:
        """Wait until every message is PUBACKed (bounced ones published again)."""

        def done() -> bool:
            self.publish_bounced()
            return self.settled()

        return until(done, timeout, 0.1)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()
