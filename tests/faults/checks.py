"""After the faults: what the database holds against what the clients were told.

- lost: an acknowledged booking or event that is not stored (or stored under another ref);
- doubled: a second row for one booking (its plate) or event id, and any row no client holds
  an answer for (a write nobody was told about, a killed transaction that survived);
- drift: a derived figure that disagrees with the rows — reservations over a car park's
  shared berths, a refusal while berths were free, the search index's free berths, parking
  sessions and live occupancy against the gate events, and every problem of
  ``parkshare.ops.invariants.check`` when that module exists."""

from __future__ import annotations

import importlib
import importlib.util
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

import httpx
from sqlalchemy import func, select

from parkshare.db import Database
from parkshare.ingest.model import GateEvent, ParkingSession
from parkshare.lots.model import Lot
from parkshare.reservations.model import Reservation, ReservationStatus
from tests.faults.traffic import NOW, STAY, WRITER_PLATES, Ledger

INVARIANTS = "parkshare.ops.invariants"


@dataclass
class Verdict:
    acknowledged_bookings: int = 0
    acknowledged_events: int = 0
    lost: list[str] = field(default_factory=list)
    doubled: list[str] = field(default_factory=list)
    drift: list[str] = field(default_factory=list)
    differing: list[str] = field(default_factory=list)  # keys whose repeats got another answer
    problems: list[str] = field(default_factory=list)  # answers no correct platform gives
    invariants: str = "own checks only"  # which invariant checker ran

    @property
    def acknowledged(self) -> int:
        return self.acknowledged_bookings + self.acknowledged_events


@dataclass(frozen=True)
class Scope:
    """What one campaign wrote: its booking key prefix, its car parks and their berths."""

    key_prefix: str
    plate_prefix: str  # every booking's plate: this and a number
    shared: dict[str, int]  # booking car park → shared berths
    full_lot: str
    event_lots: tuple[str, ...]
    foreign_event_prefix: str = "uncommitted-"  # rows a killed writer must not have left
    foreign_plate_prefix: str = WRITER_PLATES  # its booking's plate


def verify(database: Database, ledger: Ledger, scope: Scope, base_url: str) -> Verdict:
    verdict = Verdict(problems=list(ledger.problems), differing=ledger.differing())
    with database.session() as session:
        codes = dict(session.execute(select(Lot.id, Lot.code)).all())
        reservations = session.execute(
            select(Reservation.ref, Reservation.plate, Reservation.lot_id, Reservation.status)
        ).all()
        events = session.execute(
            select(GateEvent.lot_id, GateEvent.event_id, func.count()).group_by(
                GateEvent.lot_id, GateEvent.event_id
            )
        ).all()
        sessions = session.execute(
            select(ParkingSession.lot_id, ParkingSession.plate, ParkingSession.exited_at)
        ).all()
        verdict.drift += invariant_problems(session, verdict)
    _check_bookings(verdict, ledger, scope, [(r[0], r[1], codes[r[2]], r[3]) for r in reservations])  # fmt: skip
    _check_events(verdict, ledger, scope, [(codes[lot], e, n) for lot, e, n in events])
    _check_sessions(verdict, ledger, scope, [(codes[lot], p, x) for lot, p, x in sessions])
    _check_served_figures(verdict, ledger, scope, base_url, reservations, codes)
    return verdict


def invariant_problems(session: Any, verdict: Verdict) -> list[str]:
    """The platform's own invariant check, once it exists (``parkshare ops`` is being built)."""
    if importlib.util.find_spec("parkshare.ops") is None:
        return []
    if importlib.util.find_spec(INVARIANTS) is None:
        return []
    invariants = importlib.import_module(INVARIANTS)
    report = invariants.check(session, now=NOW)
    verdict.invariants = f"{INVARIANTS}.check"
    return [f"invariant: {problem}" for problem in report.problems]


Row = tuple[str, str, str, ReservationStatus]  # ref, plate, car park, status


def _check_bookings(verdict: Verdict, ledger: Ledger, scope: Scope, rows: list[Row]) -> None:
    """Every booking of a campaign has a plate of its own: a second row for a plate is a
    second booking, a row for a plate nobody was told is booked is a write without an answer
    (the keys themselves live in the Idempotency-Key records: the invariants check those)."""
    by_plate: dict[str, list[Row]] = defaultdict(list)
    for row in rows:
        by_plate[row[1]].append(row)
    acknowledged = ledger.acknowledged_bookings()
    verdict.acknowledged_bookings = len(acknowledged)
    for booking in acknowledged:
        stored = by_plate.pop(booking.plate, [])
        refs = [row[0] for row in stored]
        if booking.first.body["ref"] not in refs:
            verdict.lost.append(f"booking {booking.key} ({booking.first.body['ref']}): {refs}")
        if len(stored) > 1:
            verdict.doubled.append(f"booking {booking.key} stored {len(stored)} times: {refs}")
    for plate, stored in by_plate.items():
        if plate.startswith(scope.plate_prefix) or plate.startswith(scope.foreign_plate_prefix):
            verdict.doubled.append(f"plate {plate} booked without an acknowledgement: {stored}")
    held = Counter(row[2] for row in rows if row[3] == ReservationStatus.BOOKED)
    for lot, shared in scope.shared.items():
        if held[lot] > shared:
            verdict.drift.append(f"{lot}: {held[lot]} reservations for {shared} shared berths")
    refused = [b for b in ledger.bookings.values() if b.first.status == 409]
    if refused and held[scope.full_lot] < scope.shared[scope.full_lot]:
        verdict.drift.append(
            f"{scope.full_lot}: {len(refused)} refusals with {held[scope.full_lot]} of"
            f" {scope.shared[scope.full_lot]} berths taken"
        )


def _check_events(
    verdict: Verdict, ledger: Ledger, scope: Scope, rows: list[tuple[str, str, int]]
) -> None:
    stored = {(lot, event_id): n for lot, event_id, n in rows if lot in scope.event_lots}
    verdict.acknowledged_events = len(ledger.events)
    for event_id, ack in ledger.events.items():
        n = stored.pop((ack.lot, event_id), 0)
        if n == 0:
            verdict.lost.append(f"event {ack.lot}/{event_id}")
        elif n > 1:
            verdict.doubled.append(f"event {ack.lot}/{event_id} stored {n} times")
    verdict.doubled += [f"event {lot}/{e} stored without an acknowledgement" for lot, e in stored]
    foreign = [e for _, e, _ in rows if e.startswith(scope.foreign_event_prefix)]
    verdict.doubled += [f"event {e} of a killed transaction is stored" for e in foreign[:20]]


def expected_open(ledger: Ledger, lot: str) -> dict[str, bool]:
    """plate → whether its car is still in, from the acknowledged events."""
    directions: dict[str, set[str]] = defaultdict(set)
    for ack in ledger.events.values():
        if ack.lot == lot:
            directions[ack.plate].add(ack.direction)
    return {plate: "out" not in seen for plate, seen in directions.items()}


def _check_sessions(
    verdict: Verdict, ledger: Ledger, scope: Scope, rows: list[tuple[str, str | None, Any]]
) -> None:
    for lot in scope.event_lots:
        expected = expected_open(ledger, lot)
        found: dict[str | None, list[bool]] = defaultdict(list)
        for row_lot, plate, exited_at in rows:
            if row_lot == lot:
                found[plate].append(exited_at is None)
        wrong = [
            f"{lot}/{plate}: sessions {found.get(plate, [])}, expected [{open_}]"
            for plate, open_ in expected.items()
            if found.get(plate) != [open_]
        ]
        wrong += [f"{lot}/{plate}: a session without events" for plate in set(found) - set(expected)]  # fmt: skip
        verdict.drift += wrong[:20]
        if len(wrong) > 20:
            verdict.drift.append(f"{lot}: {len(wrong) - 20} more sessions disagree with events")


def _check_served_figures(
    verdict: Verdict,
    ledger: Ledger,
    scope: Scope,
    base_url: str,
    reservations: Any,
    codes: dict[int, str],
) -> None:
    """What the running server says (its search index, availability and live state)."""
    held = Counter(codes[r[2]] for r in reservations if r[3] == ReservationStatus.BOOKED)
    interval = {"from": STAY[0].isoformat(), "to": STAY[1].isoformat()}
    with httpx.Client(base_url=base_url, timeout=30) as client:
        found = client.get(
            "/api/v1/search", params={"lat": 35.96, "lon": 120.18, "limit": 50, **interval}
        ).json()
        indexed = {item["code"]: item["free"] for item in found["items"]}
        for lot, shared in scope.shared.items():
            expected = max(0, shared - held[lot])
            if indexed.get(lot, 0) != expected:
                verdict.drift.append(f"{lot}: search index {indexed.get(lot)}, rows {expected}")
            free = client.get(f"/api/v1/lots/{lot}/availability", params=interval).json()["free"]
            if free != expected:
                verdict.drift.append(f"{lot}: availability {free}, rows {expected}")
        for lot in scope.event_lots:
            cars_in = sum(expected_open(ledger, lot).values())
            live = client.get(f"/api/v1/lots/{lot}/live").json()
            if (live["occupied"] or 0) != cars_in:
                verdict.drift.append(f"{lot}: live occupancy {live['occupied']}, events {cars_in}")
