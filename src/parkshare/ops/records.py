"""Stored states against the rows that imply them, and uniqueness the schema leaves to code.

- a reservation's status agrees with its timestamps and fees; an overstay has its violation;
  a reservation that holds a berth has its must-leave-by reminder queued;
- a violation, a fulfilled waitlist entry and a pass point to rows of the same car park and
  plate; an allocated application has its pass;
- a count stored as trusted is possible; no rule shares more berths than the car park has;
- one row per idempotency key (across reservations and the waitlist), per gate event id and
  count instant of a car park, per reservation's violation, per plate's pass of a month.
"""

from __future__ import annotations

from typing import Any

from parkshare.credit.model import Violation
from parkshare.db import Base
from parkshare.ingest.model import CountReport, GateEvent
from parkshare.ops.capacity import local
from parkshare.ops.repository import InvariantRepository, Rows
from parkshare.passes.model import ApplicationStatus, ParkingPass
from parkshare.reservations.model import HOLDING, Reservation, ReservationStatus, WaitlistEntry

Status = ReservationStatus


def _code(codes: dict[int, str], lot_id: int) -> str:
    return codes.get(lot_id, f"#{lot_id}")


def status_problem(row: Any) -> str | None:
    """What in a reservation's row contradicts its status, or ``None``."""
    arrived, departed = row.arrived_at is not None, row.departed_at is not None
    if row.status is Status.BOOKED and (arrived or departed or row.cancelled_at is not None):
        return "is booked but has an arrival, departure or cancellation time"
    if row.status in (Status.ARRIVED, Status.OVERSTAYED) and (not arrived or departed):
        return f"is {row.status} but {'has a departure' if departed else 'has no arrival'} time"
    if row.status is Status.COMPLETED:
        if not (arrived and departed) or row.parking_fee_fen is None:
            return "is completed without an arrival, a departure and a fee"
        if row.departed_at < row.arrived_at:
            return "is completed with a departure before its arrival"
    if row.status is Status.CANCELLED and (row.cancelled_at is None or arrived):
        return "is cancelled but has no cancellation time, or an arrival"
    if row.status is Status.NO_SHOW and arrived:
        return "is a no-show but has an arrival time"
    return None


def reservation_problems(
    reservations: Rows, violations: Rows, reminders: set[str], codes: dict[int, str]
) -> list[str]:
    recorded = {row.reservation_id for row in violations if row.reservation_id is not None}
    problems = []
    for row in reservations:
        where = f"Car park {_code(codes, row.lot_id)}: reservation {row.ref}"
        wrong = status_problem(row)
        if wrong is not None:
            problems.append(f"{where} {wrong}.")
        overstayed = row.status is Status.OVERSTAYED or (
            row.status is Status.COMPLETED and (row.overstay_fee_fen or 0) > 0
        )
        if overstayed and row.id not in recorded:
            problems.append(f"{where} overstayed but no violation records it.")
        if row.status in HOLDING and f"reminder:{row.ref}" not in reminders:
            problems.append(f"{where} is {row.status} but its reminder is not queued.")
    return problems


def violation_problems(violations: Rows, reservations: Rows, codes: dict[int, str]) -> list[str]:
    by_id = {row.id: row for row in reservations}
    problems = []
    for row in violations:
        if row.reservation_id is None:
            continue
        reservation = by_id.get(row.reservation_id)
        if reservation is None:
            problem = f"points to reservation #{row.reservation_id}, which is missing"
        elif (reservation.lot_id, reservation.plate) != (row.lot_id, row.plate):
            problem = f"belongs to reservation {reservation.ref} of another car park or plate"
        else:
            continue
        problems.append(f"Car park {_code(codes, row.lot_id)}: violation #{row.id} {problem}.")
    return problems


def waitlist_problems(entries: Rows, codes: dict[int, str]) -> list[str]:
    problems = []
    for row in entries:
        where = f"Car park {_code(codes, row.lot_id)}: waitlist entry {row.ref} is fulfilled"
        if row.reservation_id is None:
            problems.append(f"{where} without a reservation.")
        elif (row.reservation_lot_id, row.reservation_plate, row.reservation_start) != (
            row.lot_id,
            row.plate,
            row.start,
        ) or row.reservation_end != row.end:
            problems.append(f"{where} by a reservation for another car park, plate or time.")
    return problems


def pass_problems(passes: Rows, orphans: list[str], codes: dict[int, str]) -> list[str]:
    problems = []
    for row in passes:
        if row.application_ref is None:
            continue
        same = (row.application_plate, row.application_kind, row.application_month) == (
            row.plate,
            row.kind,
            row.month,
        )
        if row.application_status is not ApplicationStatus.ALLOCATED or not same:
            problems.append(
                f"Car park {_code(codes, row.lot_id)}: pass {row.ref} was issued on application "
                f"{row.application_ref}, which is {row.application_status} or for another "
                "plate, kind or month."
            )
    problems += [f"Application {ref} is allocated but no pass was issued on it." for ref in orphans]
    return problems


def count_and_berth_problems(repository: InvariantRepository, codes: dict[int, str]) -> list[str]:
    problems = [
        f"Car park {_code(codes, row.lot_id)}: the count of {row.free} free berths at "
        f"{local(row.at)} is trusted but cannot be true."
        for row in repository.trusted_impossible_counts()
    ]
    problems += [
        f"Car park {_code(codes, lot_id)} shares {shared} {category} berths but has {physical}."
        for lot_id, category, shared, physical in repository.shared_over_physical()
    ]
    return problems


# (table, the columns one value of which names one row, what the rows are)
UNIQUE: tuple[tuple[type[Base], tuple[str, ...], str], ...] = (
    (Reservation, ("idempotency_key",), "reservations share the idempotency key"),
    (WaitlistEntry, ("idempotency_key",), "waitlist entries share the idempotency key"),
    (GateEvent, ("lot_id", "event_id"), "gate events share the event id"),
    (CountReport, ("lot_id", "at"), "counts share the instant"),
    (Violation, ("reservation_id",), "violations record reservation"),
    (ParkingPass, ("plate", "kind", "month"), "passes share plate, kind and month"),
)


def uniqueness_problems(repository: InvariantRepository, codes: dict[int, str]) -> list[str]:
    problems = []
    for model, columns, what in UNIQUE:
        for row in repository.duplicates(model, *columns):
            *values, count, lot_id = row
            named = zip(columns, values, strict=True)
            shown = ", ".join(repr(value) for column, value in named if column != "lot_id")
            if model is ParkingPass:
                shown = "(a plate's pass)"  # the plate is personal data
            problems.append(f"Car park {_code(codes, lot_id)}: {count} {what} {shown}.")
    for key, reservation_lot, waiting_lot in repository.keys_in_both():
        problems.append(
            f"Car park {_code(codes, reservation_lot)}: idempotency key {key!r} names a "
            f"reservation and a waitlist entry (car park {_code(codes, waiting_lot)})."
        )
    return problems


def idempotency_problems(repository: InvariantRepository) -> list[str]:
    """An Idempotency-Key's record is written with its answer, in the transaction of the
    call's effect: one committed without it leaves a retry nothing to replay."""
    return [
        f"Idempotency-Key {key!r} (caller: {scope.split(':', 1)[0]}) was committed without "
        "the answer it must replay."
        for scope, key in repository.unanswered_idempotency_keys()
    ]
