"""Ingesting gate events and free-berth counts: idempotent, item by item, late-proof.

Events go into the inbox (unique on car park and event id, insert-if-new); for every plate an
accepted event touches, that plate's parking sessions at the car park are paired again from
all its events, and its reservation's arrival and departure follow."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from parkshare.clock import Clock
from parkshare.config import Policy
from parkshare.db import insert_if_new, insert_new
from parkshare.errors import ParkshareError
from parkshare.ingest.keys import AuthorisedKey
from parkshare.ingest.live import MAX_STAY
from parkshare.ingest.model import CountReport, GateEvent, ParkingSession, SessionStatus
from parkshare.ingest.pairing import Movement, Pair, pair
from parkshare.ingest.repository import IngestRepository
from parkshare.ingest.schemas import (
    BatchResult,
    CountIn,
    GateEventIn,
    Rejection,
    parse_count,
    parse_event,
)
from parkshare.lots.profiles import LotProfile, profiles
from parkshare.lots.repository import LotRepository
from parkshare.plates import mask_plate
from parkshare.reservations import lifecycle
from parkshare.reservations.model import ReservationStatus
from parkshare.reservations.repository import ReservationRepository

FUTURE_TOLERANCE = timedelta(minutes=5)  # gate clocks drift; more than this is a bad clock


def ingest_events(
    session: Session,
    key: AuthorisedKey,
    items: Sequence[Any],
    *,
    policy: Policy,
    clock: Clock,
) -> BatchResult:
    result = BatchResult()
    now = clock.now()
    good: list[tuple[int, GateEventIn]] = []
    for index, raw in enumerate(items):
        event_id = raw.get("event_id") if isinstance(raw, dict) else None
        try:
            event = parse_event(raw)
            lot_id = _in_scope(key, event.lot)
            if event.at > now + FUTURE_TOLERANCE:
                raise _Rejected("in_future", f"Event time {event.at.isoformat()} is in the future.")
        except (ParkshareError, _Rejected) as refusal:
            label = str(event_id)[:100] if event_id else None
            result.rejected.append(Rejection(index, refusal.code, refusal.message, label))
            continue
        good.append((lot_id, event))
    lots = _locked(session, key, {lot_id for lot_id, _ in good})
    rows = [_event_row(lot_id, event, key=key, now=now) for lot_id, event in good]
    new = insert_new(session, GateEvent.__table__, rows, key=("lot_id", "event_id"))  # type: ignore[arg-type]
    touched: set[tuple[int, str]] = set()
    for lot_id, event in good:
        if (lot_id, event.event_id) in new:
            new.discard((lot_id, event.event_id))  # a second copy in the batch is a duplicate
            result.accepted.append(event.event_id)
            touched.add((lot_id, event.plate))
        else:
            result.duplicates.append(event.event_id)
    if touched:
        rebuild_sessions(session, lots, touched, policy=policy, clock=clock)
    return result


def _locked(session: Session, key: AuthorisedKey, lot_ids: set[int]) -> dict[int, LotProfile]:
    """Lock a batch's car parks in id order before writing anything: two batches over the
    same car parks then queue one behind the other, instead of each holding a car park the
    other waits for (a deadlock PostgreSQL ends by failing one of them)."""
    codes = {lot_id: code for code, lot_id in key.lots.items()}
    return {lot_id: profiles(session).locked(session, codes[lot_id]) for lot_id in sorted(lot_ids)}


def _event_row(
    lot_id: int, event: GateEventIn, *, key: AuthorisedKey, now: datetime
) -> dict[str, Any]:
    return {
        "lot_id": lot_id,
        "event_id": event.event_id,
        "plate": event.plate,
        "plate_masked": mask_plate(event.plate),
        "direction": event.direction,
        "at": event.at,
        "gate": event.gate,
        "received_at": now,
        "key_id": key.id,
    }


class _Rejected(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


def _in_scope(key: AuthorisedKey, lot_code: str) -> int:
    lot_id = key.lots.get(lot_code)
    if lot_id is None:  # unknown and foreign car parks look the same: no probing
        raise _Rejected("lot_not_in_scope", f"This key may not write for car park {lot_code!r}.")
    return lot_id


def rebuild_sessions(
    session: Session,
    lots: dict[int, LotProfile],
    touched: set[tuple[int, str]],
    *,
    policy: Policy,
    clock: Clock,
) -> list[ParkingSession]:
    """Pair all the events of each touched (car park, plate) again, and follow reservations.
    A handful of statements per batch, whatever its size."""
    repository = IngestRepository(session)
    movements: dict[tuple[int, str], list[Movement]] = {pair_: [] for pair_ in touched}
    for e in repository.events_of_many(touched):
        if e.plate is not None and (e.lot_id, e.plate) in movements:
            movements[(e.lot_id, e.plate)].append(Movement(e.id, e.direction, e.at))
    paired = {
        (lot_id, plate): [(p, _session_row(lots[lot_id], plate, p)) for p in pair(moves)]
        for (lot_id, plate), moves in movements.items()
    }
    sessions = [row for rows in paired.values() for _, row in rows]
    repository.replace_sessions(touched, sessions)
    session.flush()
    for lot_id, plate in sorted(ReservationRepository(session).plates_with_reservations(touched)):
        for p, row in paired[(lot_id, plate)]:
            _follow_reservation(session, lots[lot_id], plate, row, p, policy=policy, clock=clock)
    return sessions


def _session_row(lot: LotProfile, plate: str, p: Pair) -> ParkingSession:
    entered = p.entry.at if p.entry else None
    exited = p.exit.at if p.exit else None
    tariff = lot.tariff
    fee = tariff.fee(entered, exited) if tariff and entered and exited else None
    return ParkingSession(
        lot_id=lot.id,
        plate=plate,
        plate_masked=mask_plate(plate),
        entered_at=entered,
        exited_at=exited,
        status=p.status,
        entry_event_id=p.entry.id if p.entry else None,
        exit_event_id=p.exit.id if p.exit else None,
        fee_fen=fee,
    )


def _follow_reservation(
    session: Session,
    lot: LotProfile,
    plate: str,
    row: ParkingSession,
    p: Pair,
    *,
    policy: Policy,
    clock: Clock,
) -> None:
    """An entry arrives the plate's booked reservation; the matching exit completes it."""
    if row.entered_at is None:
        return
    reservation = lifecycle.reservation_for_entry(session, lot.id, plate, row.entered_at)
    if reservation is None:
        return
    row.reservation_id = reservation.id
    if reservation.status is ReservationStatus.BOOKED:
        lifecycle.arrive(session, lot.code, plate, row.entered_at)
    if p.status is SessionStatus.CLOSED and row.exited_at is not None:
        if reservation.status in lifecycle.INSIDE:
            lifecycle.depart(session, lot.code, plate, row.exited_at, policy=policy, clock=clock)
        row.fee_fen = reservation.fee_fen


def ingest_counts(
    session: Session, key: AuthorisedKey, items: Sequence[Any], *, clock: Clock
) -> BatchResult:
    """Store free-berth counts; impossible ones are kept but flagged, never trusted."""
    result = BatchResult()
    now = clock.now()
    lots = LotRepository(session)
    berths: dict[int, int] = {}  # per car park, loaded once a batch
    for index, raw in enumerate(items):
        try:
            count = parse_count(raw)
            lot_id = _in_scope(key, count.lot)
            if count.at > now + FUTURE_TOLERANCE:
                raise _Rejected("in_future", f"Count time {count.at.isoformat()} is in the future.")
        except (ParkshareError, _Rejected) as refusal:
            result.rejected.append(Rejection(index, refusal.code, refusal.message))
            continue
        if lot_id not in berths:
            lot = lots.get(lot_id, with_schedule=False)
            assert lot is not None
            berths[lot_id] = lot.total_berths
        occupied = IngestRepository(session).open_sessions(
            lot_id, entered_after=count.at - MAX_STAY
        )
        anomaly = count_anomaly(count, berths[lot_id], occupied)
        new_id = insert_if_new(
            session,
            CountReport.__table__,  # type: ignore[arg-type]
            {
                "lot_id": lot_id,
                "free": count.free,
                "total": count.total,
                "at": count.at,
                "received_at": now,
                "anomaly": anomaly,
                "key_id": key.id,
            },
        )
        label = f"{count.lot}@{count.at.isoformat()}"
        if new_id is None:
            result.duplicates.append(label)
            continue
        result.accepted.append(label)
        if anomaly:
            result.flagged.append(label)
    session.flush()
    return result


def count_anomaly(count: CountIn, berths: int, occupied_by_events: int) -> str:
    """Why a reported count cannot be true, or "" when it can."""
    if count.free < 0:
        return "negative free count"
    if count.total is not None and count.free > count.total:
        return f"free {count.free} exceeds the reported total of {count.total}"
    if count.free > berths:
        return f"free {count.free} exceeds the car park's {berths} berths"
    tolerance = max(2, berths // 20)
    looks_occupied = abs(count.free - occupied_by_events) <= tolerance
    far_from_free = abs(count.free - (berths - occupied_by_events)) > 4 * tolerance
    if occupied_by_events and looks_occupied and far_from_free:
        return "free looks like the occupied count"
    return ""


def erase_old_plates(session: Session, *, retention: timedelta, now: datetime) -> int:
    """Privacy: plates of events older than the retention period are erased."""
    return IngestRepository(session).erase_plates_before(now - retention)
