"""The soak's traffic: a mix of searches, bookings (with Idempotency-Key, a few retried),
cancellations, gate events and counts, offered at a steady rate (open loop) by a scheduler
thread to a few worker threads, each with its own keep-alive ``httpx`` client.

Every answer is sorted into: ``ok``; ``refused`` — a 4xx the platform gives to a correct
request it cannot serve (a full car park, a plate already booked, a cancellation too late),
counted per code; or ``error`` — any 5xx, any other 4xx, a transport failure, a timeout, a
rejected gate event or count, or a retried booking answered differently."""

from __future__ import annotations

import contextlib
import queue
import random
import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import httpx
from common import percentile

# What each request is, in the proportions of the mix.
MIX = {"search": 0.60, "book": 0.15, "cancel": 0.05, "events": 0.15, "counts": 0.05}
# 4xx codes the platform answers correct requests with when it cannot serve them.
EXPECTED_REFUSALS = {
    "no_capacity",
    "plate_already_booked",
    "booking_limit_reached",
    "cancellation_refused",
    "outside_sharing_window",
    "spans_windows",
    "suspended",
    "entry_in_quiet_hours",
    "exit_in_quiet_hours",
    "lot_not_online",
}
RETRY_SHARE = 0.05  # bookings sent twice with the same Idempotency-Key
HOT_SHARE = 0.3  # bookings that all want tonight at one small car park: it fills up
WALK_IN_PLATES = 400
TIMEOUT_S = 30.0


@dataclass(frozen=True)
class Lot:
    code: str
    lon: float
    lat: float
    berths: int
    shared: int
    kind: str


@dataclass
class Outcomes:
    """What one kind of request got."""

    latencies_ms: list[float] = field(default_factory=list)
    from_schedule_ms: list[float] = field(default_factory=list)
    ok: int = 0
    skipped: int = 0  # nothing to do yet (no booking to cancel): no request sent
    refused: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    examples: list[str] = field(default_factory=list)

    def error(self, label: str, detail: str) -> None:
        self.errors[label] += 1
        if len(self.examples) < 10:
            self.examples.append(f"{label}: {detail[:300]}")

    def summary(self) -> dict[str, Any]:
        done = self.latencies_ms
        return {
            "requests": len(done),
            "ok": self.ok,
            "skipped": self.skipped,
            "refused": dict(self.refused),
            "errors": sum(self.errors.values()),
            "error_kinds": dict(self.errors),
            "error_examples": self.examples,
            "p50_ms": round(percentile(done, 50), 1) if done else None,
            "p99_ms": round(percentile(done, 99), 1) if done else None,
            "max_ms": round(max(done), 1) if done else None,
            "p99_from_schedule_ms": (
                round(percentile(self.from_schedule_ms, 99), 1) if done else None
            ),
        }


class Traffic:
    """The state the requests share: car parks, search hits to book from, bookings that may
    be cancelled, plates inside and outside, and every answer."""

    def __init__(self, lots: list[Lot], now: datetime, *, seed: int) -> None:
        self.lots, self.now = lots, now
        self.random = random.Random(seed)
        small = [lot for lot in lots if lot.kind == "institutional" and lot.shared >= 5]
        tonight = self.intervals()[3]
        self.hot = None
        if small:  # the least shared institutional car park, for the usual night
            lot = min(small, key=lambda lot: (lot.shared, lot.code))
            self.hot = (lot.code, tonight[0].isoformat(), tonight[1].isoformat())
        self.lock = threading.Lock()
        self.hits: deque[tuple[str, str, str]] = deque(maxlen=500)  # lot, from, to
        self.cancellable: list[str] = []
        self.arrivals: deque[tuple[str, str]] = deque()  # lot, plate booked from now
        self.leaving: deque[tuple[str, str]] = deque()  # lot, plate arrived
        self.inside: dict[str, str | None] = {f"鲁W{n:05d}": None for n in range(WALK_IN_PLATES)}
        self.sequence = 0
        self.outcomes = {kind: Outcomes() for kind in MIX}

    def next_number(self) -> int:
        with self.lock:
            self.sequence += 1
            return self.sequence

    def intervals(self) -> list[tuple[datetime, datetime]]:
        """What drivers ask for: from now, tonight, the weekend, next week."""
        day = self.now.replace(hour=0, minute=0, second=0, microsecond=0)
        return [
            (self.now, self.now + timedelta(hours=2)),
            (self.now, self.now + timedelta(hours=5)),
            (day + timedelta(hours=18, minutes=30), day + timedelta(hours=21, minutes=30)),
            (day + timedelta(hours=19), day + timedelta(days=1, hours=7)),
            (day + timedelta(hours=20), day + timedelta(days=1, hours=8)),
            (day + timedelta(days=1, hours=9), day + timedelta(days=1, hours=18)),
            (day + timedelta(days=1, hours=10), day + timedelta(days=2, hours=20)),
            (day + timedelta(days=4, hours=19), day + timedelta(days=5, hours=7)),
        ]


Job = Callable[[httpx.Client, Traffic], tuple[str, str]]  # → ("ok"|"refused"|"error", detail)


def answer_of(response: httpx.Response) -> tuple[str, str]:
    if response.status_code < 300:
        return "ok", ""
    code = ""
    with contextlib.suppress(ValueError):
        code = str(response.json().get("code", ""))
    if response.status_code < 500 and code in EXPECTED_REFUSALS:
        return "refused", code
    return "error", f"{response.status_code} {code or response.text[:200]}"


def search(client: httpx.Client, traffic: Traffic) -> tuple[str, str]:
    with traffic.lock:
        lot = traffic.random.choice(traffic.lots)
        start, end = traffic.random.choice(traffic.intervals())
        lat = lot.lat + traffic.random.uniform(-0.01, 0.01)
        lon = lot.lon + traffic.random.uniform(-0.01, 0.01)
    params = {"lat": f"{lat:.5f}", "lon": f"{lon:.5f}", "from": start.isoformat()}
    params |= {"to": end.isoformat(), "radius_m": "3000"}
    response = client.get("/api/v1/search", params=params)
    if response.status_code == 200:
        hits = [(item["code"], params["from"], params["to"]) for item in response.json()["items"]]
        traffic.hits.extend(hits[:3])
    return answer_of(response)


def book(client: httpx.Client, traffic: Traffic) -> tuple[str, str]:
    """Book a car park a search just found free, for a new plate (a driver's two taps), or
    the night at the one popular small car park, which fills up."""
    with traffic.lock:
        hot = traffic.hot if traffic.random.random() < HOT_SHARE else None
    if hot is None and not traffic.hits:
        search(client, traffic)
    try:
        lot, start, end = hot or traffic.hits.pop()
    except IndexError:
        return "skipped", "no search hit to book from"
    number = traffic.next_number()
    plate, key = f"鲁S{number:05d}", f"soak-booking-{number}"
    body = {"lot": lot, "plate": plate, "from": start, "to": end}
    headers = {"Idempotency-Key": key}
    response = client.post("/api/v1/reservations", json=body, headers=headers)
    verdict = answer_of(response)
    if verdict[0] != "ok":
        return verdict
    ref = response.json()["ref"]
    with traffic.lock:
        retry = traffic.random.random() < RETRY_SHARE
    if retry:
        again = client.post("/api/v1/reservations", json=body, headers=headers)
        if again.status_code >= 300 or again.json().get("ref") != ref:
            return "error", f"a retried booking got {again.status_code} {again.text[:120]}"
    with traffic.lock:
        if datetime.fromisoformat(start) <= traffic.now:
            traffic.arrivals.append((lot, plate))  # the car comes now: a gate event follows
        else:
            traffic.cancellable.append(ref)
    return verdict


def cancel(client: httpx.Client, traffic: Traffic) -> tuple[str, str]:
    with traffic.lock:
        if not traffic.cancellable:
            return "skipped", "nothing to cancel yet"
        ref = traffic.cancellable.pop(traffic.random.randrange(len(traffic.cancellable)))
    return answer_of(client.post(f"/api/v1/reservations/{ref}/cancel"))


def gate_events(client: httpx.Client, traffic: Traffic) -> tuple[str, str]:
    """One to four movements: a booked car arriving (at the frozen now) or leaving a minute
    later, and walk-ins coming and going (at increasing times before now, so that a car's
    events pair in order)."""
    items = []
    with traffic.lock:
        if traffic.arrivals:
            lot, plate = traffic.arrivals.popleft()
            items.append(_event(traffic, lot, plate, "in", traffic.now))
            traffic.leaving.append((lot, plate))
        elif traffic.leaving:
            lot, plate = traffic.leaving.popleft()
            items.append(_event(traffic, lot, plate, "out", traffic.now + timedelta(minutes=1)))
        for _ in range(traffic.random.randint(1, 3)):
            plate = traffic.random.choice(list(traffic.inside))
            where = traffic.inside[plate]
            lot = where or traffic.random.choice(traffic.lots).code
            direction = "out" if where else "in"
            if traffic.random.random() < 0.02:  # a camera misses one now and then
                direction = "in" if direction == "out" else "out"
            traffic.inside[plate] = lot if direction == "in" else None
            at = traffic.now - timedelta(hours=20) + timedelta(seconds=traffic.sequence)
            items.append(_event(traffic, lot, plate, direction, min(at, traffic.now)))
    response = client.post("/api/v1/ingest/events", json=items)
    return _batch(response, len(items))


def _event(traffic: Traffic, lot: str, plate: str, direction: str, at: datetime) -> dict[str, str]:
    traffic.sequence += 1  # under the caller's lock
    return {
        "event_id": f"soak-{traffic.sequence}",
        "lot": lot,
        "plate": plate,
        "direction": direction,
        "at": at.isoformat(),
        "gate": "soak",
    }


def counts(client: httpx.Client, traffic: Traffic) -> tuple[str, str]:
    with traffic.lock:
        lot = traffic.random.choice(traffic.lots)
        traffic.sequence += 1
        at = traffic.now - timedelta(seconds=traffic.sequence)
        free = traffic.random.randint(0, lot.berths)
    item = {"lot": lot.code, "free": free, "total": lot.berths, "at": at.isoformat()}
    return _batch(client.post("/api/v1/ingest/counts", json=[item]), 1)


def _batch(response: httpx.Response, sent: int) -> tuple[str, str]:
    verdict = answer_of(response)
    if verdict[0] != "ok":
        return verdict
    body = response.json()
    if body["rejected"] or len(body["accepted"]) + len(body["duplicates"]) != sent:
        return "error", f"batch items rejected: {body['rejected'][:2]}"
    return verdict


JOBS: dict[str, Job] = {
    "search": search,
    "book": book,
    "cancel": cancel,
    "events": gate_events,
    "counts": counts,
}


def offer(
    traffic: Traffic,
    base: str,
    headers: dict[str, dict[str, str]],
    *,
    rate: float,
    seconds: float,
    workers: int,
) -> dict[str, Any]:
    """Offer ``rate`` requests a second for ``seconds`` and wait for every answer."""
    jobs: queue.Queue[tuple[str, float] | None] = queue.Queue()
    threads = [
        threading.Thread(target=_worker, args=(jobs, traffic, base, headers), daemon=True)
        for _ in range(workers)
    ]
    for thread in threads:
        thread.start()
    kinds, weights = list(MIX), list(MIX.values())
    began = time.perf_counter()
    lag = 0.0
    for number in range(int(rate * seconds)):
        due = began + number / rate
        pause = due - time.perf_counter()
        if pause > 0:
            time.sleep(pause)
        lag = max(lag, jobs.qsize() / rate)
        jobs.put((traffic.random.choices(kinds, weights)[0], due))
    offered = time.perf_counter() - began
    for _ in threads:
        jobs.put(None)
    for thread in threads:
        thread.join(timeout=120)
    wall = time.perf_counter() - began
    return {"offered_s": round(offered, 2), "wall_s": round(wall, 2), "max_queue_s": lag}


def _worker(
    jobs: queue.Queue[tuple[str, float] | None],
    traffic: Traffic,
    base: str,
    headers: dict[str, dict[str, str]],
) -> None:
    clients = {
        kind: httpx.Client(base_url=base, timeout=TIMEOUT_S, headers=headers.get(kind, {}))
        for kind in MIX
    }
    try:
        while (job := jobs.get()) is not None:
            kind, due = job
            sent = time.perf_counter()
            try:
                verdict, detail = JOBS[kind](clients[kind], traffic)
            except (httpx.HTTPError, ValueError, KeyError) as exc:
                verdict, detail = "error", f"{type(exc).__name__}: {exc}"
            done = time.perf_counter()
            with traffic.lock:
                record(traffic.outcomes[kind], verdict, detail, done - sent, done - due)
    finally:
        for client in clients.values():
            client.close()


def record(outcomes: Outcomes, verdict: str, detail: str, took: float, since_due: float) -> None:
    if verdict == "skipped":
        outcomes.skipped += 1
        return
    outcomes.latencies_ms.append(1000 * took)
    outcomes.from_schedule_ms.append(1000 * since_due)
    if verdict == "ok":
        outcomes.ok += 1
    elif verdict == "refused":
        outcomes.refused[detail] += 1
    else:
        outcomes.error(detail.split(":", 1)[0][:60], detail)
