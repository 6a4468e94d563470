"""Credit: overstays become violations; enough uncorrected ones bar a plate for a while."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from parkshare.clock import Clock
from parkshare.config import Policy
from parkshare.credit.model import BlacklistEntry, Violation, ViolationKind
from parkshare.credit.repository import CreditRepository
from parkshare.errors import Barred, NotFound


def check_not_barred(session: Session, plate: str, *, clock: Clock) -> None:
    bar = CreditRepository(session).active_bar(plate, clock.now())
    if bar is not None:
        raise Barred(
            f"This plate is barred from shared parking until {bar.ends_at.isoformat()}: "
            f"{bar.reason}",
            until=bar.ends_at.isoformat(),
        )


def record_overstay(
    session: Session,
    *,
    plate: str,
    lot_id: int,
    reservation_id: int | None,
    occurred_at: datetime,
    policy: Policy,
    clock: Clock,
) -> Violation:
    """Record an overstay (once per reservation) and apply the blacklist policy."""
    repository = CreditRepository(session)
    if reservation_id is not None and (known := repository.violation_for(reservation_id)):
        return known
    violation = Violation(
        plate=plate,
        lot_id=lot_id,
        reservation_id=reservation_id,
        kind=ViolationKind.OVERSTAY,
        occurred_at=occurred_at,
    )
    session.add(violation)
    session.flush()
    uncorrected = repository.uncorrected_count(plate)
    if (
        uncorrected >= policy.violations_to_blacklist
        and repository.active_bar(plate, clock.now()) is None
    ):
        now = clock.now()
        session.add(
            BlacklistEntry(
                plate=plate,
                starts_at=now,
                ends_at=now + policy.blacklist_for,
                reason=f"{uncorrected} uncorrected overstays",
            )
        )
    return violation


def correct_violation(session: Session, violation_id: int, *, note: str, clock: Clock) -> Violation:
    """The driver settled the overstay (paid, explained): it no longer counts."""
    violation = CreditRepository(session).get_violation(violation_id)
    if violation is None:
        raise NotFound(f"No violation {violation_id}.")
    if violation.corrected_at is None:
        violation.corrected_at = clock.now()
        violation.note = note
    return violation


def lift_bar(session: Session, plate: str, *, note: str, clock: Clock) -> BlacklistEntry:
    """An administrator lifts a plate's bar before it ends."""
    bar = CreditRepository(session).active_bar(plate, clock.now())
    if bar is None:
        raise NotFound("This plate is not barred.", plate_masked=plate[:2] + "***")
    bar.lifted_at = clock.now()
    bar.lifted_note = note
    return bar
