"""Traffic that keeps flowing while servers die: bookings and gate events over HTTP, and the
ledger of every write the platform acknowledged.

A client retries on a connection error, a timeout or a 5xx with the SAME request (a booking
with the same Idempotency-Key, an event batch with the same event ids) until it gets an
answer. One request in ``IMPATIENT_EVERY`` gives up on its first attempt after 10 ms (a client
timeout: the server commits, the answer is lost), so the in-doubt case — settled only by the
retry with the same key — happens many times per run, not only when a kill happens to land
between a commit and its answer. A booking counts as acknowledged when a 201 came back, an
event when a 2xx answer listed it as accepted or duplicate (MQTT: see ``mqtt_stream``). Every
third booking is sent once more with its key right after its answer, and more at the end of
the run (``Harness``): each repeat must get the first answer."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx

SH = ZoneInfo("Asia/Shanghai")
NOW = datetime(2022, 6, 24, 9, tzinfo=SH)  # Friday morning: the servers' frozen clock
STAY = (datetime(2022, 6, 24, 19, tzinfo=SH), datetime(2022, 6, 25, 7, tzinfo=SH))
ENTRY_AT, EXIT_AT = NOW - timedelta(minutes=4), NOW - timedelta(minutes=2)  # live, not stale
BOOKING_PLATES, WRITER_PLATES = "鲁B", "鲁E"  # the campaign's bookings; a killed writer's
ANSWER_DEADLINE = 60.0  # seconds a client keeps retrying one request before giving up
TIMEOUT = httpx.Timeout(15.0, connect=2.0)
IMPATIENCE = httpx.Timeout(0.01, connect=2.0)
IMPATIENT_EVERY = 4  # one request in this many gives up on its first answer (a timeout)


@dataclass(frozen=True)
class Answer:
    status: int
    body: Any
    at: float  # monotonic time it arrived
    attempts: int = 1  # how many times the request was sent
    replayed: bool = False  # the recorded answer of an earlier attempt (Idempotent-Replayed)


@dataclass
class Booking:
    key: str
    lot: str
    plate: str
    first: Answer
    repeats: list[Answer] = field(default_factory=list)

    @property
    def acknowledged(self) -> bool:
        return self.first.status == 201


@dataclass(frozen=True)
class EventAck:
    lot: str
    plate: str
    direction: str
    at: float  # monotonic time of the acknowledgement


class Ledger:
    """Every answer the clients got; thread-safe."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.bookings: dict[str, Booking] = {}
        self.events: dict[str, EventAck] = {}  # event id → its acknowledgement
        self.problems: list[str] = []  # answers no correct platform gives
        self.uncertain = 0  # attempts cut off after the request may have been handled
        self.retries = 0
        self.in_doubt = 0  # writes whose first attempt committed but its answer was lost

    def booked(self, key: str, lot: str, plate: str, answer: Answer) -> None:
        with self.lock:
            assert key not in self.bookings, f"booking key {key} used twice by the clients"
            self.in_doubt += answer.replayed
            self.bookings[key] = Booking(key, lot, plate, answer)

    def repeated(self, key: str, answer: Answer) -> None:
        with self.lock:
            self.bookings[key].repeats.append(answer)

    def acknowledged_events(self, acks: dict[str, EventAck]) -> None:
        with self.lock:
            for event_id, ack in acks.items():
                self.events.setdefault(event_id, ack)

    def problem(self, text: str) -> None:
        with self.lock:
            self.problems.append(text)

    def counted(self, *, retries: int, uncertain: int, in_doubt: int = 0) -> None:
        with self.lock:
            self.retries += retries
            self.uncertain += uncertain
            self.in_doubt += in_doubt

    def acknowledged_bookings(self) -> list[Booking]:
        with self.lock:
            return [b for b in self.bookings.values() if b.acknowledged]

    def differing(self) -> list[str]:
        """Keys whose repeats did not get the first answer."""
        with self.lock:
            return sorted(
                b.key
                for b in self.bookings.values()
                if any((r.status, r.body) != (b.first.status, b.first.body) for r in b.repeats)
            )


def post_until_answered(
    client: httpx.Client,
    path: str,
    body: Any,
    *,
    headers: dict[str, str],
    ledger: Ledger,
    step: float = 0.05,
    backoff: bool = True,
    impatient: bool = False,
) -> Answer:
    """POST the same request until it is answered (2xx or 4xx), ``step`` seconds apart
    (doubling up to 0.5 s with ``backoff``). An ``impatient`` client gives its first attempt
    only ``IMPATIENCE`` seconds: the server usually commits, the answer is lost, the retry
    comes while the first attempt runs or after it committed."""
    retries = uncertain = 0
    deadline = time.monotonic() + ANSWER_DEADLINE
    pause = step
    try:
        while True:
            timeout = IMPATIENCE if impatient and retries == 0 else TIMEOUT
            try:
                response = client.post(path, json=body, headers=headers, timeout=timeout)
            except httpx.ConnectError:
                pass  # nothing was sent
            except httpx.TransportError:
                uncertain += 1  # sent, and the answer was lost: it may have been handled
            else:
                if response.status_code < 500:
                    replayed = response.headers.get("Idempotent-Replayed") == "true"
                    return Answer(
                        response.status_code,
                        response.json(),
                        time.monotonic(),
                        retries + 1,
                        replayed,
                    )
                uncertain += 1  # a failed commit may still have committed
            if time.monotonic() > deadline:
                raise AssertionError(f"POST {path} was not answered within {ANSWER_DEADLINE} s")
            retries += 1
            time.sleep(pause)
            pause = min(0.5, pause * 2) if backoff else step
    finally:
        ledger.counted(retries=retries, uncertain=uncertain)


class BookingPlan:
    """Fresh bookings, each with its own key and plate: most for car parks with room to
    spare, one in ``len(lots)`` for a small car park that fills up (its refusals are
    answers too)."""

    def __init__(self, prefix: str, lots: list[str], full_lot: str) -> None:
        self.prefix, self.lots, self.full_lot = prefix, lots, full_lot
        self._numbers = itertools.count()
        self._lock = threading.Lock()

    def next(self, *, roomy: bool = False) -> tuple[str, dict[str, str]]:
        with self._lock:
            n = next(self._numbers)
        choices = [*self.lots] if roomy else [*self.lots, self.full_lot]
        body = {
            "lot": choices[n % len(choices)],
            "plate": f"{BOOKING_PLATES}{n:05d}",
            "from": STAY[0].isoformat(),
            "to": STAY[1].isoformat(),
        }
        return f"{self.prefix}-{n:05d}", body


class BookingClient:
    def __init__(self, base_url: str, token: str, ledger: Ledger, plan: BookingPlan) -> None:
        self.client = httpx.Client(base_url=base_url, timeout=TIMEOUT)
        self.auth = {"Authorization": f"Bearer {token}"}
        self.ledger, self.plan = ledger, plan

    def send(
        self, key: str, body: dict[str, str], *, backoff: bool = True, impatient: bool = False
    ) -> Answer:
        headers = {**self.auth, "Idempotency-Key": key}
        return post_until_answered(
            self.client,
            "/api/v1/reservations",
            body,
            headers=headers,
            ledger=self.ledger,
            backoff=backoff,
            impatient=impatient,
        )

    def book(
        self, *, roomy: bool = False, backoff: bool = True, impatient: bool = False
    ) -> tuple[str, Answer]:
        key, body = self.plan.next(roomy=roomy)
        answer = self.send(key, body, backoff=backoff, impatient=impatient)
        self.ledger.booked(key, body["lot"], body["plate"], answer)
        expected = answer.status == 201 or (
            answer.status == 409 and body["lot"] == self.plan.full_lot
        )
        if not expected:
            self.ledger.problem(f"booking {key}: {answer.status} {answer.body}")
        return key, answer

    def repeat(self, key: str, body: dict[str, str]) -> None:
        self.ledger.repeated(key, self.send(key, body))

    def close(self) -> None:
        self.client.close()


def gate_event(event_id: str, lot: str, plate: str, direction: str) -> dict[str, str]:
    at = ENTRY_AT if direction == "in" else EXIT_AT
    return {
        "event_id": event_id,
        "lot": lot,
        "plate": plate,
        "direction": direction,
        "at": at.isoformat(),
        "gate": "north",
    }


def events_of(prefix: str, lot: str, province: str, n: int) -> list[dict[str, str]]:
    """A car in and out again; every fifth car stays (an open session: occupancy)."""
    plate = f"{province}{n:05d}"
    directions = ["in"] if n % 5 == 0 else ["in", "out"]
    return [gate_event(f"{prefix}{n:06d}-{d}", lot, plate, d) for d in directions]


class Driver(threading.Thread):
    """Calls ``step`` until ``stop`` is set, ``pace`` seconds apart; an exception is kept
    (and the suite fails on it) instead of dying silently in a thread."""

    def __init__(self, name: str, step: Callable[[int], None], stop: threading.Event, pace: float):
        super().__init__(name=name, daemon=True)
        self.step, self.stop, self.pace = step, stop, pace
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            for n in itertools.count():
                if self.stop.is_set():
                    return
                self.step(n)
                self.stop.wait(self.pace)
        except BaseException as exc:  # reported by the campaign
            self.error = exc


def booking_step(client: BookingClient, *, repeat_every: int = 3) -> Callable[[int], None]:
    def step(n: int) -> None:
        key, _ = client.book(impatient=n % IMPATIENT_EVERY == 1)
        if n % repeat_every == 0:  # the client was not sure it got the answer: asks again
            booking = client.ledger.bookings[key]
            client.repeat(key, body_of(booking))

    return step


def body_of(booking: Booking) -> dict[str, str]:
    return {
        "lot": booking.lot,
        "plate": booking.plate,
        "from": STAY[0].isoformat(),
        "to": STAY[1].isoformat(),
    }


def http_event_step(
    base_url: str, secret: str, lot: str, ledger: Ledger
) -> tuple[Callable[[int], None], httpx.Client]:
    client = httpx.Client(base_url=base_url, timeout=TIMEOUT)
    headers = {"Authorization": f"Bearer {secret}"}

    def step(n: int) -> None:
        batch = events_of("h", lot, "鲁C", n)
        impatient = n % IMPATIENT_EVERY == 1
        answer = post_until_answered(
            client,
            "/api/v1/ingest/events",
            batch,
            headers=headers,
            ledger=ledger,
            impatient=impatient,
        )
        ids = [e["event_id"] for e in batch]
        body = answer.body if isinstance(answer.body, dict) else {}
        answered = set(body.get("accepted", [])) | set(body.get("duplicates", []))
        if answer.status != 200 or answered != set(ids):
            ledger.problem(f"event batch {ids}: {answer.status} {answer.body}")
            return
        if answer.attempts > 1 and body.get("duplicates"):
            ledger.counted(retries=0, uncertain=0, in_doubt=1)
        ledger.acknowledged_events(
            {e["event_id"]: EventAck(lot, e["plate"], e["direction"], answer.at) for e in batch}
        )

    return step, client
