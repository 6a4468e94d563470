"""MQTT edge of networking: car-park systems publish gate events and counts, we answer item by
item and keep each car park's whitelist retained on the broker.

Topics (``<code>`` is a car park's code; all QoS 1, MQTT 5):

- ``parkshare/v1/lots/<code>/events`` and ``…/counts`` (in): ``{"key": "psk_…", "items": […]}``,
  items shaped as for the HTTP API. An item whose ``lot`` is not the topic's is rejected
  (``topic_mismatch``).
- ``parkshare/v1/lots/<code>/results`` (out, not retained): the HTTP API's batch answer plus
  ``kind``, or ``error`` when the whole message was refused (not JSON, bad key). A request's
  MQTT 5 Correlation Data is echoed.
- ``parkshare/v1/lots/<code>/whitelist`` (out, retained): the plates allowed in, IN FULL. Only
  that car park's own system may read it: the broker's ACL must say so, e.g. for Mosquitto
  ``user gate-hd0001`` / ``topic read parkshare/v1/lots/HD-0001/whitelist``, and nobody else
  may read ``parkshare/v1/lots/+/whitelist``. Republished when its ``version`` changes.

Delivery: workers share one subscription (``$share/<group>/…``), so each message goes to one
worker of the group. A message is acknowledged only after its transaction committed (or when
it can never succeed: not JSON, bad key). On a database error it stays unacknowledged: the
worker disconnects, waits (exponential back-off) and reconnects, and the broker redelivers
it. The session outlives the connection (``clean_start=False``, a session expiry, a stable
client id), so messages published while a worker is down wait for it on the broker.
"""

from __future__ import annotations

import logging
import math
import queue
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from paho.mqtt.client import (
    MQTT_ERR_SUCCESS,
    Client,
    ConnectFlags,
    MQTTMessage,
    MQTTv5,
)
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode
from paho.mqtt.subscribeoptions import SubscribeOptions
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session

from parkshare.clock import Clock
from parkshare.config import Policy
from parkshare.db import Database
from parkshare.deps import write
from parkshare.errors import InvalidInput, ParkshareError
from parkshare.ingest import events, keys
from parkshare.ingest.api import PermitRead, WhitelistRead
from parkshare.ingest.repository import IngestRepository
from parkshare.ingest.schemas import MAX_BATCH, BatchRead, BatchResult, Rejection
from parkshare.ingest.whitelist import Whitelist, whitelist
from parkshare.lots.schemas import local
from parkshare.lots.service import get_lot

log = logging.getLogger(__name__)

ROOT = "parkshare/v1/lots"
KINDS = ("events", "counts")
DATABASE_DOWN = (DBAPIError, PoolTimeout)  # worth retrying: the message is not acknowledged
DATABASE_PROBE_S = 1.0  # while backing off, how often the database is asked whether it is back
BROKER_RETRY_MAX_S = 4.0  # longest wait between tries to reach a broker that went away


class InternalError(ParkshareError):
    code = "internal_error"
    status = 500


# --- Pure parts: topics, payloads, answers -------------------------------------------------


@dataclass(frozen=True)
class BrokerOptions:
    host: str = "127.0.0.1"
    port: int = 1883
    group: str = "parkshare"  # workers of one group split the stream
    client_id: str = "parkshare-ingest"  # stable per worker: it names the broker session
    keepalive: int = 30
    session_expiry: int = 7 * 24 * 3600  # seconds the broker queues for a worker that is down
    whitelist_every: float = 60.0  # seconds between whitelist checks
    retry_min: float = 1.0  # back-off (seconds) after a lost connection or a database error
    retry_max: float = 60.0

    def __post_init__(self) -> None:
        if not self.group or any(c in self.group for c in "/+#"):
            raise InvalidInput("A shared-subscription group is a name without '/', '+' or '#'.")
        if not self.client_id:
            raise InvalidInput("A worker needs a client id.")


def subscriptions(group: str) -> list[str]:
    return [f"$share/{group}/{ROOT}/+/{kind}" for kind in KINDS]


def topic(lot: str, leaf: str) -> str:
    return f"{ROOT}/{lot}/{leaf}"


def parse_topic(name: str) -> tuple[str, str] | None:
    """``(lot code, kind)`` of an incoming topic, or None for anything else."""
    parts = name.split("/")
    if len(parts) != 5 or "/".join(parts[:3]) != ROOT or parts[4] not in KINDS or not parts[3]:
        return None
    return parts[3], parts[4]


class Envelope(BaseModel):
    model_config = ConfigDict(extra="forbid")

    key: str = Field(max_length=200)
    items: list[Any] = Field(max_length=MAX_BATCH)


def parse_envelope(payload: bytes | bytearray) -> Envelope:
    try:
        return Envelope.model_validate_json(payload)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'message'}: {e['msg']}" for e in exc.errors()
        )
        raise InvalidInput(f"Expected {{'key': 'psk_…', 'items': […]}}: {problems}") from None


def key_prefix(presented: str) -> str:
    """The part of a key that may be logged."""
    parts = presented.split("_", 2)
    return f"psk_{parts[1][:16]}" if len(parts) == 3 and parts[0] == "psk" else "(not a key)"


def split_by_topic(lot: str, items: Sequence[Any]) -> tuple[list[int], list[Rejection]]:
    """Indexes of the items that may go on, and rejections of those for another car park."""
    kept: list[int] = []
    refused: list[Rejection] = []
    for index, raw in enumerate(items):
        claimed = raw.get("lot") if isinstance(raw, dict) else None
        if claimed is None or claimed == lot:
            kept.append(index)
            continue
        event_id = raw.get("event_id")
        refused.append(
            Rejection(
                index,
                "topic_mismatch",
                f"The item is for car park {str(claimed)[:40]!r}, the topic for {lot!r}.",
                str(event_id)[:100] if event_id else None,
            )
        )
    return kept, refused


def merge(kept: list[int], result: BatchResult, refused: list[Rejection]) -> BatchResult:
    """``result`` of the kept items, with indexes into the whole message again."""
    again = [replace(r, index=kept[r.index]) for r in result.rejected]
    result.rejected = sorted(again + refused, key=lambda r: r.index)
    return result


class MessageError(BaseModel):
    code: str
    message: str


class ResultRead(BatchRead):
    kind: str
    error: MessageError | None = None

    @classmethod
    def answer(cls, kind: str, result: BatchResult) -> ResultRead:
        return cls(kind=kind, **BatchRead.of(result).model_dump())

    @classmethod
    def refusal(cls, kind: str, error: ParkshareError) -> ResultRead:
        return cls(
            kind=kind,
            accepted=[],
            duplicates=[],
            rejected=[],
            error=MessageError(code=error.code, message=error.message),
        )


CHANGED_WHITELISTS_EVERY = 1.0  # seconds: at most this late after a change, under full load


def whitelist_read(listing: Whitelist) -> WhitelistRead:
    return WhitelistRead(
        lot=listing.lot,
        version=listing.version,
        generated_at=local(listing.generated_at),
        permits=[
            PermitRead(
                plate=p.plate,
                source=p.source,
                ref=p.ref,
                valid_from=local(p.valid_from),
                valid_until=local(p.valid_until),
            )
            for p in listing.permits
        ],
    )


def _properties(packet_type: int) -> Properties:
    return Properties(packet_type)  # type: ignore[no-untyped-call]


def retry_delay(failures: int, *, minimum: float, maximum: float) -> float:
    return float(min(maximum, minimum * 2 ** max(0, failures - 1)))


# --- The unit of work of one message --------------------------------------------------------


@dataclass(frozen=True)
class Handled:
    lot: str | None  # where the answer goes (None: not one of our topics)
    answer: ResultRead | None
    stored: bool  # events were accepted: the car park's whitelist may have changed


def handle(
    name: str, payload: bytes | bytearray, *, database: Database, policy: Policy, clock: Clock
) -> Handled:
    """Ingest one message in one write transaction. Raises only when the database failed
    (``DATABASE_DOWN``) or on a bug; a refusal is an answer."""
    route = parse_topic(name)
    if route is None:
        log.warning("ignored a message on %s: not an ingest topic", name[:120])
        return Handled(None, None, False)
    lot, kind = route
    presented = ""
    try:
        envelope = parse_envelope(payload)
        presented = envelope.key
        kept, refused = split_by_topic(lot, envelope.items)
        items = [envelope.items[i] for i in kept]

        def work(session: Session) -> BatchResult:
            key = keys.authenticate(session, envelope.key, clock=clock)
            if kind == "events":
                return events.ingest_events(session, key, items, policy=policy, clock=clock)
            return events.ingest_counts(session, key, items, clock=clock)

        result = merge(kept, write(database, work), refused)
    except ParkshareError as refusal:
        log.warning(
            "refused a message on %s (key %s): [%s] %s",
            name,
            key_prefix(presented),
            refusal.code,
            refusal.message,
        )
        return Handled(lot, ResultRead.refusal(kind, refusal), False)
    log.info(
        "%s for %s (key %s): %d accepted, %d duplicates, %d rejected",
        kind,
        lot,
        key_prefix(presented),
        len(result.accepted),
        len(result.duplicates),
        len(result.rejected),
    )
    return Handled(lot, ResultRead.answer(kind, result), kind == "events" and bool(result.accepted))


def lots_with_keys(session: Session) -> list[str]:
    """Codes of the car parks some unrevoked key writes for: whose whitelists we publish."""
    repository = IngestRepository(session)
    codes: set[str] = set()
    for key in repository.all_keys():
        if key.revoked_at is None:
            codes.update(repository.key_lots(key.id))
    return sorted(codes)


# --- The worker: a paho client, an inbox, one thread doing the work -------------------------


@dataclass
class WorkerStats:
    received: int = 0
    acknowledged: int = 0  # after commit, or refused for good
    committed: int = 0  # messages whose items were stored (or found to be duplicates)
    refused: int = 0  # whole messages that can never succeed (not JSON, bad key)
    left_for_redelivery: int = 0  # database errors
    whitelists_published: int = 0


@dataclass(frozen=True)
class _Delivery:
    connection: int  # which connection brought it: an ack only makes sense on that one
    message: MQTTMessage


@dataclass
class IngestWorker:
    """Run with ``run(stop)`` until ``stop`` is set; paho's network thread only fills the
    inbox, the calling thread does the database work and the acknowledgements."""

    database: Database
    policy: Policy
    clock: Clock
    options: BrokerOptions = field(default_factory=BrokerOptions)
    stats: WorkerStats = field(default_factory=WorkerStats)
    subscribed: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        self._inbox: queue.Queue[_Delivery] = queue.Queue()
        self._connection = (0, False)  # (number, session present), replaced whole on connect
        self._published: dict[str, str] = {}  # car park → whitelist version on the broker
        self._changed: set[str] = set()  # car parks whose events changed since the last publish
        self._broker_forgot = False
        self._client = self._new_client()

    def _new_client(self) -> Client:
        client = Client(
            CallbackAPIVersion.VERSION2,
            client_id=self.options.client_id,
            protocol=MQTTv5,
            manual_ack=True,
        )
        longest = min(self.options.retry_max, BROKER_RETRY_MAX_S)
        client.reconnect_delay_set(
            max(1, math.ceil(self.options.retry_min)), max(1, math.ceil(longest))
        )
        client.on_connect = self._on_connect
        client.on_connect_fail = self._on_connect_fail
        client.on_disconnect = self._on_disconnect
        client.on_subscribe = self._on_subscribe
        client.on_message = self._on_message
        return client

    def run(self, stop: threading.Event) -> None:
        self._connect()
        next_whitelist = time.monotonic()
        next_changed = next_whitelist + CHANGED_WHITELISTS_EVERY
        failures = 0
        try:
            while not stop.is_set():
                now = time.monotonic()
                if now >= next_whitelist and self._client.is_connected():
                    self.publish_whitelists(None)
                    next_whitelist = now + self.options.whitelist_every
                if now >= next_changed and self._changed and self._client.is_connected():
                    self._publish_changed()
                    next_changed = now + CHANGED_WHITELISTS_EVERY
                try:
                    delivery = self._inbox.get(timeout=0.2)
                except queue.Empty:
                    if self._changed and self._client.is_connected():
                        self._publish_changed()  # a quiet moment: catch up at once
                    continue
                if self._process(delivery):
                    failures = 0
                    continue
                failures += 1
                delay = retry_delay(
                    failures, minimum=self.options.retry_min, maximum=self.options.retry_max
                )
                self._reconnect_after(delay, stop)
        finally:
            self._client.disconnect()
            self._client.loop_stop()
            log.info("MQTT worker %s stopped: %s", self.options.client_id, self.stats)

    def _process(self, delivery: _Delivery) -> bool:
        """Handle one message; False when the database failed and it must come again."""
        number, session_present = self._connection
        stale = delivery.connection != number
        if stale and session_present:
            return True  # the broker sends it again on this connection; take that copy
        message = delivery.message
        self.stats.received += 1
        try:
            handled = handle(
                message.topic,
                message.payload,
                database=self.database,
                policy=self.policy,
                clock=self.clock,
            )
        except DATABASE_DOWN as exc:
            self.stats.left_for_redelivery += 1
            log.warning("database error, message left for redelivery: %s", type(exc).__name__)
            return False
        except Exception:  # a bug: redelivery would fail the same way, and block the stream
            log.exception("a message on %s could not be handled; acknowledged", message.topic)
            lot, kind = parse_topic(message.topic) or (None, "")
            failure = InternalError("The message could not be handled; send it again later.")
            handled = Handled(lot, ResultRead.refusal(kind, failure), False)
        if handled.answer is not None and handled.lot is not None:
            self._answer(handled.lot, handled.answer, message)
        if handled.answer is not None and handled.answer.error is not None:
            self.stats.refused += 1
        elif handled.answer is not None:
            self.stats.committed += 1
        if not stale:
            self._client.ack(message.mid, message.qos)
            self.stats.acknowledged += 1
        if handled.stored and handled.lot is not None:
            self._changed.add(handled.lot)  # published at the next quiet moment, or within 1 s
        return True

    def _publish_changed(self) -> None:
        changed, self._changed = self._changed, set()
        self.publish_whitelists(sorted(changed))

    def _answer(self, lot: str, answer: ResultRead, request: MQTTMessage) -> None:
        properties = _properties(PacketTypes.PUBLISH)
        properties.ContentType = "application/json"
        correlation = getattr(request.properties, "CorrelationData", None)
        if correlation is not None:
            properties.CorrelationData = correlation
        body = answer.model_dump_json()
        self._client.publish(topic(lot, "results"), body, qos=1, properties=properties)

    def publish_whitelists(self, lots: Iterable[str] | None) -> None:
        """Publish, retained, each whitelist whose version the broker does not hold yet
        (``None``: every car park some key writes for)."""
        if self._broker_forgot:
            self._published.clear()
            self._broker_forgot = False
        try:
            with self.database.session() as session:
                codes = lots_with_keys(session) if lots is None else list(lots)
                listings = [
                    whitelist(session, get_lot(session, c), clock=self.clock) for c in codes
                ]
        except Exception:  # the next tick tries again; ingest goes on meanwhile
            log.exception("whitelists could not be computed")
            return
        for listing in listings:
            if self._published.get(listing.lot) == listing.version:
                continue
            body = whitelist_read(listing).model_dump_json()
            info = self._client.publish(topic(listing.lot, "whitelist"), body, qos=1, retain=True)
            if info.rc == MQTT_ERR_SUCCESS:
                self._published[listing.lot] = listing.version
                self.stats.whitelists_published += 1
                log.info("whitelist of %s: version %s", listing.lot, listing.version)

    def _connect(self) -> None:
        properties = _properties(PacketTypes.CONNECT)
        properties.SessionExpiryInterval = self.options.session_expiry
        self._client.connect_async(
            self.options.host,
            self.options.port,
            keepalive=self.options.keepalive,
            clean_start=False,
            properties=properties,
        )
        self._client.loop_start()

    def _reconnect_after(self, delay: float, stop: threading.Event) -> None:
        """Drop the connection so the broker redelivers every unacknowledged message."""
        log.warning("reconnecting in %.1f s to have unacknowledged messages redelivered", delay)
        self._client.disconnect()
        self._client.loop_stop()
        self._broker_forgot = True  # whitelists in flight on this connection may be lost
        while not self._inbox.empty():
            self._inbox.get_nowait()
        # Back off, but come back as soon as the database answers again: a long outage
        # must not leave the stream stalled for the rest of a minute-long wait.
        deadline = time.monotonic() + delay
        while not stop.wait(min(DATABASE_PROBE_S, max(0.0, deadline - time.monotonic()))):
            if time.monotonic() >= deadline or self._database_answers():
                # A new client: paho's loop_start after loop_stop leaks a socket pair.
                self._client = self._new_client()
                self._connect()
                return

    def _database_answers(self) -> bool:
        try:
            with self.database.session() as session:
                session.execute(text("SELECT 1"))
        except DATABASE_DOWN:
            return False
        return True

    # paho callbacks, on its network thread

    def _on_connect(
        self, client: Client, _: Any, flags: ConnectFlags, reason: ReasonCode, *__: Any
    ) -> None:
        if reason.is_failure:
            log.error("the broker refused the connection: %s", reason)
            return
        self._connection = (self._connection[0] + 1, flags.session_present)
        self._broker_forgot = self._broker_forgot or not flags.session_present
        log.info(
            "connected to %s:%d as %s (session %s)",
            self.options.host,
            self.options.port,
            self.options.client_id,
            "resumed" if flags.session_present else "new",
        )
        client.subscribe([(s, SubscribeOptions(qos=1)) for s in subscriptions(self.options.group)])

    def _on_connect_fail(self, *_: Any) -> None:
        log.warning("broker %s:%d unreachable; retrying", self.options.host, self.options.port)

    def _on_disconnect(self, _c: Any, _u: Any, _f: Any, reason: ReasonCode, *_: Any) -> None:
        self.subscribed.clear()
        if reason.is_failure:
            log.warning("disconnected from the broker (%s); reconnecting", reason)

    def _on_subscribe(self, _c: Any, _u: Any, _m: Any, reasons: list[ReasonCode], *_: Any) -> None:
        if any(r.is_failure for r in reasons):
            log.error("subscription refused: %s", ", ".join(str(r) for r in reasons))
            return
        log.info("subscribed: %s", ", ".join(subscriptions(self.options.group)))
        self.subscribed.set()

    def _on_message(self, _c: Any, _u: Any, message: MQTTMessage) -> None:
        self._inbox.put(_Delivery(self._connection[0], message))
