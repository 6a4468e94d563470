"""One campaign's data, traffic and measurements, whatever the database: the car parks and
keys it seeds, the threads that book and push events, the probes that time how soon the
service answers again after a fault, and the end of the run (drain, settle, ask again,
verify)."""

from __future__ import annotations

import contextlib
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx
from sqlalchemy import func, select

from parkshare.clock import FixedClock
from parkshare.db import Database
from parkshare.ingest import keys
from parkshare.ingest.model import GateEvent
from parkshare.lots.model import Lot
from tests.factories import bearer_for, make_lot
from tests.faults.checks import Scope, verify
from tests.faults.mqtt_stream import MqttEventStream
from tests.faults.report import Campaign, Fault
from tests.faults.traffic import (
    BOOKING_PLATES,
    NOW,
    Booking,
    BookingClient,
    BookingPlan,
    Driver,
    Ledger,
    body_of,
    booking_step,
    http_event_step,
)
from tests.servers import until

BOOKING_LOTS = {f"FI-B{n}": 2_000 for n in range(1, 5)}  # room to spare for the whole run
FULL_LOT, FULL_LOT_BERTHS = "FI-B0", 25  # fills up early: its refusals are answers too
HTTP_EVENT_LOT, MQTT_EVENT_LOT = "FI-EH", "FI-EM"
BOOKING_THREADS, BOOKING_PACE = 2, 0.1  # seconds between two bookings of one thread
EVENT_PACE = 0.2  # seconds between two cars (one or two events each), per path
PROBE_TIMEOUT = 30.0


@dataclass(frozen=True)
class Seeded:
    token: str  # an administrator's bearer token
    secret: str  # the ingest key of both event car parks
    scope: Scope


def seed(database: Database, *, key_prefix: str) -> Seeded:
    clock = FixedClock(NOW)
    with database.session(write=True) as session:
        for code, shared in {**BOOKING_LOTS, FULL_LOT: FULL_LOT_BERTHS}.items():
            make_lot(session, clock=clock, code=code, shared_berths=shared)
        for code in (HTTP_EVENT_LOT, MQTT_EVENT_LOT):
            make_lot(session, clock=clock, code=code, shared_berths=5, total_berths=5_000)
        _, secret = keys.create_key(
            session, name="fault injection", lot_codes=[HTTP_EVENT_LOT, MQTT_EVENT_LOT], clock=clock
        )
    token = bearer_for(database, clock=clock)["Authorization"].removeprefix("Bearer ")
    scope = Scope(
        key_prefix=key_prefix,
        plate_prefix=BOOKING_PLATES,
        shared={**BOOKING_LOTS, FULL_LOT: FULL_LOT_BERTHS},
        full_lot=FULL_LOT,
        event_lots=(HTTP_EVENT_LOT, MQTT_EVENT_LOT),
    )
    return Seeded(token, secret, scope)


class Harness:
    def __init__(
        self, campaign: Campaign, database: Database, base_url: str, seeded: Seeded, log: Path
    ) -> None:
        self.campaign, self.database, self.base_url, self.seeded = (
            campaign, database, base_url, seeded,
        )  # fmt: skip
        self.log = log
        self.ledger = Ledger()
        self.plan = BookingPlan(seeded.scope.key_prefix, list(BOOKING_LOTS), FULL_LOT)
        self.stop = threading.Event()
        self.drivers: list[Driver] = []
        self.closers: list[Callable[[], None]] = []
        self.stream: MqttEventStream | None = None
        self.began = time.monotonic()
        self.probe = self._client()
        with database.session() as session:
            self._mqtt_lot_id = session.execute(
                select(Lot.id).where(Lot.code == MQTT_EVENT_LOT)
            ).scalar_one()

    def _client(self) -> BookingClient:
        client = BookingClient(self.base_url, self.seeded.token, self.ledger, self.plan)
        self.closers.append(client.close)
        return client

    def start_traffic(self, *, mqtt_port: int | None = None) -> None:
        for n in range(BOOKING_THREADS):
            step = booking_step(self._client())
            self.drivers.append(Driver(f"bookings-{n}", step, self.stop, BOOKING_PACE))
        events, client = http_event_step(
            self.base_url, self.seeded.secret, HTTP_EVENT_LOT, self.ledger
        )
        self.closers.append(client.close)
        self.drivers.append(Driver("http-events", events, self.stop, EVENT_PACE))
        if mqtt_port is not None:
            self.stream = MqttEventStream(
                mqtt_port, MQTT_EVENT_LOT, self.seeded.secret, self.ledger
            )
            self.closers.append(self.stream.close)
            self.drivers.append(Driver("mqtt-events", self.stream.step, self.stop, EVENT_PACE))
        for driver in self.drivers:
            driver.start()

    # --- measurements ---------------------------------------------------------------------

    def note(self, text: str) -> None:
        """A line in the campaign's timeline (``faults.log`` beside the servers' logs)."""
        with self.log.open("a") as log:
            log.write(f"{time.monotonic() - self.began:7.2f} s  {text}\n")

    def record(self, kind: str, fault_at: float, back: float, **recovered: float) -> None:
        fault = Fault(kind, round(back - fault_at, 3), recovered, round(fault_at - self.began, 1))
        self.campaign.faults.append(fault)
        self.note(
            f"{kind}: back after {fault.down:.2f} s, answered again after {recovered};"
            f" {len(self.ledger.bookings)} bookings, {len(self.ledger.events)} events so far"
        )

    def probe_http(self, back: float) -> float:
        """Seconds from ``back`` until a new booking is answered (retried every 50 ms)."""
        _, answer = self.probe.book(roomy=True, backoff=False)
        return round(answer.at - back, 3)

    def probe_mqtt(
        self, back: float, *, published_after: bool = False, seen: int | None = None
    ) -> float:
        """Seconds from ``back`` until the worker stores an event again: any new row (the
        database or the worker was down: nothing could be stored meanwhile), or with
        ``published_after`` one published after ``back`` (the broker restarted: the worker may
        still be storing what it received before). ``seen``: the latest row at ``back``."""
        assert self.stream is not None
        deadline = back + PROBE_TIMEOUT
        if seen is None:
            seen = self.latest_mqtt_row()
        while time.monotonic() < deadline:
            rows = self._mqtt_rows_after(seen)
            now = time.monotonic()
            for row_id, event_id in rows:
                if not published_after or self.stream.published_at.get(event_id, -1) >= back:
                    return round(now - back, 3)
                seen = max(seen, row_id)
            time.sleep(0.05)
        return math.inf

    def latest_mqtt_row(self) -> int:
        with self.database.session() as session:
            latest = session.scalar(
                select(func.max(GateEvent.id)).where(GateEvent.lot_id == self._mqtt_lot_id)
            )
        return latest or 0

    def _mqtt_rows_after(self, row_id: int) -> list[tuple[int, str]]:
        with self.database.session() as session:
            rows = session.execute(
                select(GateEvent.id, GateEvent.event_id).where(
                    GateEvent.lot_id == self._mqtt_lot_id, GateEvent.id > row_id
                )
            )
            return [(r, e) for r, e in rows]

    def pause(self, seconds: float) -> None:
        """Let traffic flow; stop early if a traffic thread died."""
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            dead = [d for d in self.drivers if d.error is not None]
            if dead:
                raise AssertionError(f"traffic thread {dead[0].name} failed: {dead[0].error!r}")
            time.sleep(0.05)

    # --- the end of the run ---------------------------------------------------------------

    def finish(self) -> None:
        """Stop the traffic, let every acknowledged write arrive, ask again, verify."""
        self.note("stopping the traffic")
        self.stop.set()
        for driver in self.drivers:
            driver.join(120)
            if driver.is_alive() or driver.error is not None:
                self.campaign.errors.append(f"{driver.name}: {driver.error!r}")
        if self.stream is not None:
            if not self.stream.drain():
                self.campaign.errors.append("MQTT: messages still not PUBACKed after 30 s")
            self.note("MQTT drained")
            until(self._mqtt_events_stored, timeout=30, step=0.2)
            self.note("MQTT events stored")
            self.campaign.mqtt_bounced = self.stream.bounced
            self.campaign.mqtt_resent = self.stream.resent
        self._ask_again()
        self.note("asked again")
        self.campaign.verdict = verify(self.database, self.ledger, self.seeded.scope, self.base_url)
        self.campaign.retries, self.campaign.uncertain = self.ledger.retries, self.ledger.uncertain
        self.campaign.in_doubt = self.ledger.in_doubt
        self.campaign.seconds = round(time.monotonic() - self.began, 1)
        self.note("verified")

    def _mqtt_events_stored(self) -> bool:
        wanted = {e for e, ack in self.ledger.events.items() if ack.lot == MQTT_EVENT_LOT}
        with self.database.session() as session:
            stored = set(
                session.scalars(
                    select(GateEvent.event_id).where(GateEvent.lot_id == self._mqtt_lot_id)
                )
            )
        return wanted <= stored

    def _ask_again(self) -> None:
        """Every acknowledged booking whose client had to retry, and every fifth other one,
        is sent again with its key (two clients at once)."""
        bookings = self.ledger.acknowledged_bookings()
        chosen = [b for n, b in enumerate(bookings) if b.first.attempts > 1 or n % 5 == 0]
        halves = [chosen[0::2], chosen[1::2]]
        clients = [self._client() for _ in halves]

        def repeat(client: BookingClient, part: list[Booking]) -> None:
            for booking in part:
                client.repeat(booking.key, body_of(booking))

        threads = [
            threading.Thread(target=repeat, args=(c, part), daemon=True)
            for c, part in zip(clients, halves, strict=True)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)

    def close(self) -> None:
        self.stop.set()
        for close in self.closers:
            with contextlib.suppress(httpx.HTTPError):
                close()
