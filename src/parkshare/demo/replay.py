"""Replaying a simulated day through the real ingest path, over HTTP or MQTT.

The sends of ``demo.simulator`` are grouped into *ticks* of simulated time; in every tick each
car park sends its events, then its counts, as batches (at most ``MAX_BATCH`` items), the way
a gate system pushes what it saw since its last push. ``speed`` compresses time: at 60 an hour
of the day passes in a minute of the wall clock; at 0 the day goes as fast as the server takes
it. Car parks of one tick are sent concurrently; a tick starts when the one before is done.

Over HTTP every batch is answered item by item (accepted, duplicate, rejected); over MQTT the
batches are published with QoS 1 and the ingest worker's answers arrive on
``parkshare/v1/lots/<code>/results``, matched by their correlation data.
"""

from __future__ import annotations

import json
import math
import threading
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from datetime import time as clock_time
from typing import Any, Literal, Protocol

import httpx
from paho.mqtt.client import Client, ConnectFlags, MQTTMessage, MQTTv5
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy.orm import Session

from parkshare.clock import Clock
from parkshare.db import Database
from parkshare.demo.simulator import DaySummary, Kind, Send, SimLot, demo_lots, simulate_day
from parkshare.errors import ParkshareError
from parkshare.ingest.keys import create_key
from parkshare.ingest.schemas import MAX_BATCH
from parkshare.lots.repository import LotRepository
from parkshare.schedules import service as schedules
from parkshare.schedules.rules import SHANGHAI

API = "/api/v1/ingest"
TOPICS = "parkshare/v1/lots"
RETRIES = 3
CATCH_UP = timedelta(minutes=5)  # the shortest tick of what is sent at once before --start
LOG_EVERY = 30.0  # seconds between progress lines when the output is not a terminal


class ReplayFailed(ParkshareError):
    code = "replay_failed"
    status = 502


@dataclass
class Tally:
    """What was sent and what the server said, item by item (safe across threads)."""

    sent: int = 0
    batches: int = 0
    accepted: int = 0
    duplicates: int = 0
    rejected: int = 0
    flagged: int = 0
    failed: int = 0  # items of batches that never got an answer, or were refused whole
    answered: int = 0  # items the server answered for
    reasons: Counter[str] = field(default_factory=Counter)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def sent_batch(self, items: int) -> None:
        with self._lock:
            self.sent += items
            self.batches += 1

    def answer(self, items: int, body: dict[str, Any]) -> None:
        """Record a batch answer: the HTTP body, or the MQTT worker's result."""
        with self._lock:
            self.answered += items
            if body.get("error"):
                self.failed += items
                self.reasons[str(body["error"].get("code", "error"))] += items
                return
            self.accepted += len(body.get("accepted", []))
            self.duplicates += len(body.get("duplicates", []))
            self.rejected += len(body.get("rejected", []))
            self.flagged += len(body.get("flagged", []))
            self.reasons.update(str(r.get("code")) for r in body.get("rejected", []))

    def fail(self, items: int, reason: str) -> None:
        with self._lock:
            self.failed += items
            self.reasons[reason] += items

    def line(self) -> str:
        line = (
            f"sent {self.sent:,} · accepted {self.accepted:,} · duplicates {self.duplicates:,}"
            f" · rejected {self.rejected:,}"
        )
        if self.flagged:
            line += f" · flagged {self.flagged:,}"
        if self.failed:
            line += f" · failed {self.failed:,}"
        return line


class Sink(Protocol):
    tally: Tally

    def send(self, kind: Kind, lot: str, items: list[dict[str, Any]]) -> None: ...

    def close(self) -> None: ...


class HttpClient(Protocol):
    """What the HTTP sink needs of a client: ``httpx.Client``, or a ``TestClient``."""

    def post(self, url: str, *, json: Any, headers: dict[str, str]) -> Any: ...

    def close(self) -> None: ...


class HttpSink:
    """POSTs batches to a running server, or to an app through a ``TestClient``."""

    def __init__(self, client: HttpClient, key: str, *, pause: float = 0.5) -> None:
        self.client, self.tally, self.pause = client, Tally(), pause
        self.headers = {"Authorization": f"Bearer {key}"}

    def send(self, kind: Kind, lot: str, items: list[dict[str, Any]]) -> None:
        self.tally.sent_batch(len(items))
        problem = ""
        for attempt in range(RETRIES + 1):
            if attempt:
                time.sleep(self.pause * 2 ** (attempt - 1))
            try:
                response = self.client.post(f"{API}/{kind}", json=items, headers=self.headers)
            except httpx.TransportError as exc:
                problem = f"unreachable: {type(exc).__name__}"
                continue
            if response.status_code == 200:
                self.tally.answer(len(items), response.json())
                return
            if response.status_code == 401:
                raise ReplayFailed("The server refused the ingest key (HTTP 401).")
            problem = f"http_{response.status_code}"
            if response.status_code < 500:
                break  # the same batch would be refused again
        self.tally.fail(len(items), problem)

    def close(self) -> None:
        self.client.close()


class MqttSink:
    """Publishes batches with QoS 1 and reads the ingest worker's answers."""

    def __init__(self, host: str, port: int, key: str, *, wait_for_answers: float = 10.0) -> None:
        self.key, self.tally, self.wait_for_answers = key, Tally(), wait_for_answers
        self.pending: dict[bytes, int] = {}
        self.lock = threading.Lock()
        self.all_answered = threading.Condition(self.lock)
        self.connected = threading.Event()
        self.closed = False
        client_id = f"parkshare-simulate-{uuid.uuid4().hex[:8]}"
        self.client = Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=MQTTv5)
        self.client.on_connect = self._on_connect
        self.client.on_message = self._on_message
        try:
            self.client.connect(host, port, keepalive=30)
        except OSError as exc:
            raise ReplayFailed(f"No MQTT broker at {host}:{port}: {exc}") from None
        self.client.loop_start()
        if not self.connected.wait(10):
            self.client.loop_stop()
            raise ReplayFailed(f"The MQTT broker at {host}:{port} did not accept us.")

    def _on_connect(
        self, client: Client, _data: Any, _flags: ConnectFlags, code: ReasonCode, _p: Any
    ) -> None:
        if not code.is_failure:
            client.subscribe(f"{TOPICS}/+/results", qos=1)
            self.connected.set()

    def _on_message(self, _client: Client, _data: Any, message: MQTTMessage) -> None:
        correlation = getattr(message.properties, "CorrelationData", None)
        with self.lock:
            items = self.pending.pop(correlation, None) if correlation else None
            if not self.pending:
                self.all_answered.notify_all()
        if items is None:
            return  # someone else's answer
        try:
            self.tally.answer(items, json.loads(message.payload))
        except ValueError:
            self.tally.fail(items, "unreadable_answer")

    def send(self, kind: Kind, lot: str, items: list[dict[str, Any]]) -> None:
        correlation = uuid.uuid4().bytes
        properties = Properties(PacketTypes.PUBLISH)  # type: ignore[no-untyped-call]
        properties.CorrelationData = correlation
        with self.lock:
            self.pending[correlation] = len(items)
        payload = json.dumps({"key": self.key, "items": items}, ensure_ascii=False)
        self.tally.sent_batch(len(items))
        info = self.client.publish(f"{TOPICS}/{lot}/{kind}", payload, qos=1, properties=properties)
        info.wait_for_publish(timeout=30)
        if not info.is_published():
            with self.lock:
                self.pending.pop(correlation, None)
            self.tally.fail(len(items), "not_published")

    def close(self) -> None:
        """Wait a while for the worker's last answers, then disconnect (once)."""
        if self.closed:
            return
        self.closed = True
        with self.lock:
            self.all_answered.wait_for(lambda: not self.pending, timeout=self.wait_for_answers)
            unanswered = sum(self.pending.values())
        if unanswered:
            self.tally.fail(unanswered, "no_answer")
        self.client.disconnect()
        self.client.loop_stop()


def ticks(
    sends: Sequence[Send], tick: timedelta, origin: datetime, *, catch_up: timedelta | None = None
) -> Iterator[tuple[datetime, list[Send]]]:
    """(end of tick, the sends due by then), in order. Ticks are aligned on ``origin``; what
    is due by ``origin`` comes in one tick ending there, or in ticks of ``catch_up``."""
    current: list[Send] = []
    current_end = origin
    for send in sends:
        step = tick if send.send_at > origin else catch_up
        end = origin + math.ceil((send.send_at - origin) / step) * step if step else origin
        if current and end != current_end:
            yield current_end, current
            current = []
        current_end = end
        current.append(send)
    if current:
        yield current_end, current


def batches(due: Sequence[Send]) -> dict[str, list[tuple[Kind, list[dict[str, Any]]]]]:
    """Per car park, its events then its counts, in batches of at most ``MAX_BATCH``."""
    items: dict[tuple[str, Kind], list[dict[str, Any]]] = defaultdict(list)
    for send in due:
        items[(send.lot, send.kind)].append(send.item)
    by_lot: dict[str, list[tuple[Kind, list[dict[str, Any]]]]] = defaultdict(list)
    for (lot, kind), listed in sorted(
        items.items(), key=lambda kv: (kv[0][0], kv[0][1] != "events")
    ):
        for first in range(0, len(listed), MAX_BATCH):
            by_lot[lot].append((kind, listed[first : first + MAX_BATCH]))
    return by_lot


def replay(
    sends: Sequence[Send],
    sink: Sink,
    *,
    speed: float,
    tick: timedelta,
    origin: datetime,
    workers: int = 4,
    on_tick: Callable[[datetime, float], None] | None = None,
) -> None:
    """Send ``sends`` through ``sink``, tick by tick, ``speed`` times faster than they happened
    (0: as fast as possible). What is due by ``origin`` is caught up at once first, in ticks
    of at least ``CATCH_UP`` (so counts stay near the events they follow), and the clock of
    the replay starts when that is done. ``on_tick`` hears the end of every tick sent and how
    many seconds the replay is behind its schedule."""
    started: float | None = None

    def send_all(lot_batches: list[tuple[Kind, list[dict[str, Any]]]]) -> None:
        for kind, items in lot_batches:
            sink.send(kind, items[0]["lot"], items)

    with ThreadPoolExecutor(max_workers=workers) as pool:
        for end, due in ticks(sends, tick, origin, catch_up=max(tick, CATCH_UP)):
            due_at = 0.0
            if speed > 0 and end > origin:
                started = time.monotonic() if started is None else started
                due_at = started + (end - origin).total_seconds() / speed
            if due_at > time.monotonic():
                time.sleep(due_at - time.monotonic())
            list(pool.map(send_all, batches(due).values()))  # re-raises a refusal
            if on_tick is not None:
                on_tick(end, max(0.0, time.monotonic() - due_at) if due_at else 0.0)


def default_tick(speed: float) -> timedelta:
    """A push a second of wall time (at least a second of the day); 5 minutes at speed 0."""
    return timedelta(seconds=max(1.0, speed)) if speed > 0 else timedelta(minutes=5)


def first_refused(
    sends: Sequence[Send], *, origin: datetime, speed: float, now: datetime
) -> datetime | None:
    """The first event time a server on the clock ``now`` would refuse as in the future
    (more than 5 minutes ahead of it when it arrives), if any."""
    tolerance = timedelta(minutes=5)
    for send in sends:
        if send.kind != "events":
            continue
        ahead = (send.send_at - origin) / speed if speed > 0 else timedelta(0)
        if datetime.fromisoformat(send.item["at"]) > now + max(ahead, timedelta(0)) + tolerance:
            return datetime.fromisoformat(send.item["at"])
    return None


def load_lots(session: Session, codes: Sequence[str] | None = None) -> list[SimLot]:
    """The car parks of the registry with their stored schedules (all, or ``codes``)."""
    wanted = set(codes or ())
    return [
        SimLot(lot.code, str(lot.kind), lot.use, lot.total_berths, schedules.schedule_of(lot))
        for lot in sorted(LotRepository(session).all_with_rules(), key=lambda lot: lot.code)
        if not wanted or lot.code in wanted
    ]


def create_demo_key(database: Database, codes: Sequence[str], *, clock: Clock, name: str) -> str:
    """A new ingest key for ``codes``; the secret is returned (and never shown again)."""
    with database.session(write=True) as session:
        _, secret = create_key(session, name=name, lot_codes=list(codes), clock=clock)
    return secret


# --- the whole run, as ``parkshare simulate`` does it ---------------------------------------


@dataclass(frozen=True)
class Plan:
    day: date
    via: Literal["http", "mqtt"] = "http"
    speed: float = 60.0
    tick: timedelta | None = None  # of simulated time; default_tick(speed) when None
    start: datetime | None = None  # replay from this instant of the day on (earlier: at once)
    url: str = "http://127.0.0.1:8000"
    mqtt_host: str = "127.0.0.1"
    mqtt_port: int = 1883
    key: str | None = None
    seed: int = 1
    lots: tuple[str, ...] = ()  # car park codes; all when empty


@dataclass(frozen=True)
class Outcome:
    tally: Tally
    summary: DaySummary
    seconds: float
    created_key: str | None
    warnings: list[str]
    stopped: bool = False  # interrupted before the end of the day


def run(plan: Plan, *, database: Database, clock: Clock, console: Console) -> Outcome:
    """Simulate ``plan.day`` for the registry's car parks and replay it to a server."""
    warnings: list[str] = []
    database.migrate()
    with database.session() as session:
        lots = load_lots(session, plan.lots)
        calendar = schedules.calendar(session)
    if not lots and plan.key:  # a remote server: its registry is the demo's
        lots = [lot for lot in demo_lots() if not plan.lots or lot.code in plan.lots]
        warnings.append("No car parks in the local database: simulated the demo's own.")
    unknown = sorted(set(plan.lots) - {lot.code for lot in lots})
    if unknown or not lots:
        missing = ", ".join(unknown) or "none at all"
        raise ReplayFailed(f"Car parks not in the registry: {missing}. Build it: parkshare demo.")
    simulation = simulate_day(lots, plan.day, seed=plan.seed, calendar=calendar)
    key = plan.key
    if key is None:
        name = f"simulator {plan.day} #{plan.seed}"
        key = create_demo_key(database, [lot.code for lot in lots], clock=clock, name=name)
        console.print(f"created an ingest key for {len(lots)} car parks (reuse: --key {key})")
    origin = plan.start or datetime.combine(plan.day, clock_time(0), SHANGHAI)
    refused = first_refused(simulation.sends, origin=origin, speed=plan.speed, now=clock.now())
    if refused:
        warnings.append(
            f"Events from {refused:%Y-%m-%d %H:%M} on will be ahead of this machine's clock: "
            "a server on the real clock refuses them (in_future)."
        )
    for warning in warnings:
        console.print(f"[yellow]warning[/] {warning}", highlight=False)
    sink = _sink(plan, key)
    began = time.monotonic()
    stopped = False
    try:
        _replay_with_progress(simulation.sends, sink, plan, origin, console)
    except KeyboardInterrupt:  # Ctrl-C ends a live replay: report what was sent
        stopped = True
    finally:
        sink.close()
    return Outcome(
        sink.tally,
        simulation.summary,
        time.monotonic() - began,
        None if plan.key else key,
        warnings,
        stopped,
    )


def _sink(plan: Plan, key: str) -> Sink:
    if plan.via == "mqtt":
        return MqttSink(plan.mqtt_host, plan.mqtt_port, key)
    client = httpx.Client(base_url=plan.url, timeout=60.0)
    try:
        client.get("/api/v1/lots", params={"limit": 1}).raise_for_status()
    except httpx.HTTPError as exc:
        client.close()
        raise ReplayFailed(
            f"No parkshare server answers at {plan.url} ({type(exc).__name__}); "
            "start one with: parkshare serve"
        ) from None
    return HttpSink(client, key)


def _replay_with_progress(
    sends: Sequence[Send], sink: Sink, plan: Plan, origin: datetime, console: Console
) -> None:
    columns = (
        TextColumn("[bold]{task.fields[clock]}"),
        BarColumn(bar_width=24),
        TextColumn("{task.fields[tally]}"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console) as progress:
        task = progress.add_task("replay", total=len(sends), clock="--:--", tally="")

        last_line = time.monotonic()

        def on_tick(end: datetime, behind: float) -> None:
            nonlocal last_line
            tally = sink.tally
            clock = f"{end.astimezone(SHANGHAI):%Y-%m-%d %H:%M}"
            line = tally.line() + (f" · [yellow]{behind:,.0f} s behind[/]" if behind >= 5 else "")
            progress.update(task, completed=tally.sent, clock=clock, tally=line)
            if not console.is_terminal and time.monotonic() - last_line >= LOG_EVERY:
                console.print(f"{clock} {line}", highlight=False)  # logs get a line now and then
                last_line = time.monotonic()

        replay(
            sends,
            sink,
            speed=plan.speed,
            tick=plan.tick or default_tick(plan.speed),
            origin=origin,
            on_tick=on_tick,
        )
        sink.close()  # over MQTT the last answers arrive now
        progress.update(task, tally=sink.tally.line())
