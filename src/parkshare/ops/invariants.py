"""The invariant check: what must hold in any parkshare database, whatever happened to the
processes that wrote it (crashes, kills, retries, restores). ``parkshare check`` runs it.

1. No overbooking: at no instant does a car park hold more reservations and passes of a
   berth category than it shares (``ops.capacity``); no plate holds two berths at once; no
   car park issued more passes than it offered.
2. Every derived row agrees with the rows it comes from: parking sessions with their gate
   events (``ops.sessions``), reservations' statuses with their times, violations, reminders,
   waitlist entries and passes with what they point to (``ops.records``).
3. Uniqueness the schema does not (or may not) enforce: one row per idempotency key, per gate
   event id of a car park, … (``ops.records.UNIQUE``); every Idempotency-Key record committed
   with the answer it replays.

Each problem is a sentence naming the car park and what drifted. It reads the database in
one transaction and changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from parkshare.ops import records
from parkshare.ops.capacity import capacity_problems
from parkshare.ops.repository import InvariantRepository
from parkshare.ops.sessions import SessionCheck


@dataclass(frozen=True)
class InvariantReport:
    problems: tuple[str, ...]
    counts: dict[str, int]  # rows per table: reservations, passes, gate_events, …

    @property
    def ok(self) -> bool:
        return not self.problems


def check(session: Session, *, now: datetime | None = None) -> InvariantReport:
    """Check every invariant. With ``now``, the capacity sweep leaves out what ended before it
    (a schedule may have changed since; the change was only checked against what was still to
    come); without it, every commitment ever made is swept."""
    repository = InvariantRepository(session)
    codes = repository.lot_codes()
    reservations = repository.reservations()
    violations = repository.violations()
    found = capacity_problems(session, since=now)
    found += SessionCheck(
        repository.gate_events(), repository.parking_sessions(), reservations, codes
    ).problems()
    found += records.reservation_problems(
        reservations, violations, repository.live_reminders(), codes
    )
    found += records.violation_problems(violations, reservations, codes)
    found += records.waitlist_problems(repository.fulfilled_waitlist(), codes)
    found += records.pass_problems(
        repository.passes_with_applications(), repository.allocated_without_pass(), codes
    )
    found += records.count_and_berth_problems(repository, codes)
    found += records.uniqueness_problems(repository, codes)
    found += records.idempotency_problems(repository)
    return InvariantReport(problems=tuple(dict.fromkeys(found)), counts=repository.counts())
