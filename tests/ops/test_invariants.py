"""The invariant check: a world built through the services passes; each kind of drift, written
directly into the rows, is reported with the car park it happened at. On both databases."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import delete, select, text, update
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from parkshare.cli import app
from parkshare.config import get_settings
from parkshare.credit.model import Violation, ViolationKind
from parkshare.db import Database
from parkshare.idempotency.model import IdempotencyRecord
from parkshare.ingest.model import CountReport, Direction, GateEvent, ParkingSession
from parkshare.lots.model import Lot, LotBerths
from parkshare.ops.invariants import InvariantReport, check
from parkshare.outbox.model import OutboxMessage
from parkshare.passes.model import PassOffer
from parkshare.reservations.model import (
    Reservation,
    ReservationStatus,
    WaitlistEntry,
    WaitlistStatus,
)
from parkshare.schedules.rules import BerthCategory
from tests.ops.world import NOW, World, at, build_world


def checked(database: Database, *, now: datetime | None = None) -> InvariantReport:
    with database.session() as session:
        return check(session, now=now)


@pytest.fixture
def world(database: Database) -> World:
    return build_world(database)


def test_a_world_built_by_the_services_passes(database: Database, world: World) -> None:
    report = checked(database)
    assert report.ok, report.problems
    assert report.problems == ()
    assert report.counts["reservations"] == 4
    assert report.counts["waitlist_entries"] == 1
    assert report.counts["passes"] == 1
    assert report.counts["gate_events"] == 6
    assert report.counts["parking_sessions"] == 4
    assert report.counts["count_reports"] == 1
    with database.session() as session:
        statuses = dict(session.execute(select(Reservation.ref, Reservation.status)).all())
    assert statuses[world.arrived] is ReservationStatus.ARRIVED
    assert statuses[world.completed] is ReservationStatus.COMPLETED


# --- drift, written straight into the rows -------------------------------------------------


def lot_id(session: Session, code: str) -> int:
    return session.scalars(select(Lot.id).where(Lot.code == code)).one()


def event_pk(session: Session, event_id: str) -> int:
    return session.scalars(select(GateEvent.id).where(GateEvent.event_id == event_id)).one()


def reservation(session: Session, ref: str) -> Reservation:
    return session.scalars(select(Reservation).where(Reservation.ref == ref)).one()


def forged(session: Session, ref: str, lot: str, plate: str, start: datetime) -> None:
    """A booked reservation of an hour written without the service, with its reminder."""
    session.add(
        Reservation(
            ref=ref, lot_id=lot_id(session, lot), plate=plate, category=BerthCategory.ORDINARY,
            start=start, end=start + timedelta(hours=1), must_leave_by=at(2022, 6, 27, 7, 30),
            status=ReservationStatus.BOOKED, request_hash="x", price_estimate_fen=0,
            created_at=NOW, updated_at=NOW,
        )
    )  # fmt: skip
    session.add(reminder(ref))


def extra_booking(session: Session, world: World) -> None:
    """Two more reservations beside the arrived one: three over L's two shared berths."""
    forged(session, "R-extra-1", "L", "鲁B30001", at(2022, 6, 25, 8))
    forged(session, "R-extra-2", "L", "鲁B30002", at(2022, 6, 25, 8, 30))


def reminder(ref: str) -> OutboxMessage:
    return OutboxMessage(
        topic="reminder.must_leave_by", dedupe_key=f"reminder:{ref}", payload={}, due_at=NOW,
        created_at=NOW,
    )  # fmt: skip


def session_of(session: Session, event_id: str) -> Any:
    return update(ParkingSession).where(
        ParkingSession.entry_event_id == event_pk(session, event_id)
    )


def entry_of_other_car_park(session: Session, world: World) -> None:
    session.execute(session_of(session, "e1").values(entry_event_id=event_pk(session, "e6")))


def event_used_twice(session: Session, world: World) -> None:
    twin = session.scalars(
        select(ParkingSession).where(ParkingSession.entry_event_id == event_pk(session, "e6"))
    ).one()
    session.add(
        ParkingSession(
            lot_id=twin.lot_id, plate=twin.plate, plate_masked=twin.plate_masked,
            entered_at=twin.entered_at, status=twin.status, entry_event_id=twin.entry_event_id,
        )
    )  # fmt: skip


def event_without_session(session: Session, world: World) -> None:
    session.add(
        GateEvent(
            lot_id=lot_id(session, "M"), event_id="e-lost", plate="鲁B40001", plate_masked="鲁B4***1",
            direction=Direction.IN, at=at(2022, 6, 24, 20), gate="", received_at=NOW,
        )
    )  # fmt: skip


def arrived_without_time(session: Session, world: World) -> None:
    reservation(session, world.other).status = ReservationStatus.ARRIVED


def overstay_unrecorded(session: Session, world: World) -> None:
    row = reservation(session, world.arrived)
    row.status = ReservationStatus.OVERSTAYED


def violation_of_another_plate(session: Session, world: World) -> None:
    row = reservation(session, world.completed)
    session.add(
        Violation(
            plate="鲁B99999", lot_id=row.lot_id, reservation_id=row.id,
            kind=ViolationKind.OVERSTAY, occurred_at=NOW,
        )
    )  # fmt: skip


def reminder_lost(session: Session, world: World) -> None:
    session.execute(
        delete(OutboxMessage).where(OutboxMessage.dedupe_key == f"reminder:{world.other}")
    )


def key_in_reservation_and_waitlist(session: Session, world: World) -> None:
    row = reservation(session, world.other)
    session.add(
        WaitlistEntry(
            ref="W-twin", lot_id=row.lot_id, plate="鲁B50001", category=row.category,
            start=row.start, end=row.end, status=WaitlistStatus.WAITING,
            idempotency_key=row.idempotency_key, request_hash="y", created_at=NOW,
        )
    )  # fmt: skip


def passes_over_quota(session: Session, world: World) -> None:
    session.execute(update(PassOffer).values(quota=0))


def plate_twice(session: Session, world: World) -> None:
    """鲁B10001 is inside L; a second reservation of it at M overlaps (M has room)."""
    forged(session, "R-twice", "M", "鲁B10001", at(2022, 6, 25, 8))


def impossible_count_trusted(session: Session, world: World) -> None:
    session.execute(update(CountReport).values(free=-1, anomaly=""))


def shares_more_than_it_has(session: Session, world: World) -> None:
    session.execute(
        update(LotBerths).where(LotBerths.lot_id == lot_id(session, "L")).values(total=1)
    )


def session_of_another_reservation(session: Session, world: World) -> None:
    other = reservation(session, world.other)
    session.execute(session_of(session, "e6").values(reservation_id=other.id))


def waitlist_without_booking(session: Session, world: World) -> None:
    session.execute(update(WaitlistEntry).values(reservation_id=None))


def idempotency_record_without_answer(session: Session, world: World) -> None:
    session.add(
        IdempotencyRecord(
            scope="account:1", idempotency_key="k-lost", method="POST", route="/api/v1/x",
            request_hash="z", status_code=None, response=None, created_at=NOW,
        )
    )  # fmt: skip


DRIFTS: list[tuple[Callable[[Session, World], None], str]] = [
    (extra_booking, "Car park L is overbooked: 3 ordinary berths are held at 2022-06-25 08:30"),
    (entry_of_other_car_park, "uses gate event 'e6' of car park M"),
    (event_used_twice, "Car park M: gate event 'e6' is used by 2 sessions"),
    (event_used_twice, "Car park M: plate 鲁B2***2 has 2 open parking sessions"),
    (event_without_session, "Car park M: the parking sessions of plate 鲁B4***1 do not follow"),
    (arrived_without_time, "Car park M: reservation {other} is arrived but has no arrival time"),
    (overstay_unrecorded, "Car park L: reservation {arrived} overstayed but no violation"),
    (violation_of_another_plate, "belongs to reservation {completed} of another car park or plate"),
    (reminder_lost, "Car park M: reservation {other} is booked but its reminder is not queued"),
    (key_in_reservation_and_waitlist, "Car park M: idempotency key 'key-鲁B10004' names a reser"),
    (passes_over_quota, "Car park M has 1 night passes for 2022-07, over its quota of 0"),
    (plate_twice, "plate 鲁B1***1 holds reservation R-twice while it still holds {arrived}"),
    (impossible_count_trusted, "Car park M: the count of -1 free berths"),
    (shares_more_than_it_has, "Car park L shares 2 ordinary berths but has 1"),
    (session_of_another_reservation, "belongs to another car park's or plate's reservation"),
    (waitlist_without_booking, "Car park L: waitlist entry"),
    (
        idempotency_record_without_answer,
        "Idempotency-Key 'k-lost' (caller: account) was committed without",
    ),
]


@pytest.mark.parametrize(
    ("drift", "reported"), DRIFTS, ids=[f"{d.__name__}-{i}" for i, (d, _) in enumerate(DRIFTS)]
)
def test_drift_is_reported_with_its_car_park(
    database: Database, world: World, drift: Callable[[Session, World], None], reported: str
) -> None:
    with database.session(write=True) as session:
        drift(session, world)
    report = checked(database)
    assert not report.ok
    expected = reported.format(**world.__dict__)
    assert any(expected in problem for problem in report.problems), report.problems


def test_a_session_pointing_to_a_missing_event_is_reported(
    database: Database, world: World
) -> None:
    with database.session(write=True) as session:
        missing = event_pk(session, "e6") + 1000
    if database.dialect == "sqlite":
        raw = database.engine.raw_connection()
        try:
            raw.execute("PRAGMA foreign_keys = OFF")  # outside a transaction, or it is ignored
            raw.execute(
                "UPDATE parking_sessions SET entry_event_id = ? WHERE entry_event_id = ?",
                (missing, missing - 1000),
            )
            raw.execute("PRAGMA foreign_keys = ON")
        finally:
            raw.close()
    else:
        with database.session(write=True) as session:
            session.execute(text("SET LOCAL session_replication_role = replica"))
            session.execute(session_of(session, "e6").values(entry_event_id=missing))
    report = checked(database)
    assert any(
        "Car park M: parking session" in p and f"entry event #{missing}, which is missing" in p
        for p in report.problems
    ), report.problems


# PostgreSQL only: SQLite cannot drop a table's inline unique constraint to forge the row.
@pytest.mark.parametrize("database", ["postgresql"], indirect=True)
def test_a_duplicate_gate_event_id_is_reported(database: Database, world: World) -> None:
    """The schema refuses it; the check still looks (a restore from elsewhere, a migration
    gone wrong). PostgreSQL drops the constraint inside the transaction and rolls it back."""
    with database.session(write=True) as session:
        session.execute(
            text("ALTER TABLE gate_events DROP CONSTRAINT uq_gate_events_lot_id_event_id")
        )
        session.add(
            GateEvent(
                lot_id=lot_id(session, "M"), event_id="e6", plate=None, plate_masked="鲁B2***2",
                direction=Direction.IN, at=at(2022, 6, 24, 19, 10), gate="", received_at=NOW,
            )
        )  # fmt: skip
        session.flush()
        report = check(session)
        session.rollback()
    assert "Car park M: 2 gate events share the event id 'e6'." in report.problems


def test_now_leaves_out_what_ended_before_it(database: Database, world: World) -> None:
    with database.session(write=True) as session:
        extra_booking(session, world)
    assert not checked(database, now=at(2022, 6, 25, 8, 45)).ok  # still under way
    later = checked(database, now=at(2022, 6, 25, 9, 30))
    assert not any("overbooked" in problem for problem in later.problems), later.problems


def test_parkshare_check_prints_counts_and_exits_1_on_a_problem(
    database: Database, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PARKSHARE_DATABASE_URL", database.url)
    monkeypatch.setenv("PARKSHARE_NOW", NOW.isoformat())
    get_settings.cache_clear()
    try:
        runner = CliRunner()
        clean = runner.invoke(app, ["check"])
        assert clean.exit_code == 0, clean.output
        assert "gate_events" in clean.output and "Invariants hold." in clean.output
        with database.session(write=True) as session:
            extra_booking(session, world)
        broken = runner.invoke(app, ["check", "--format", "json"])
        assert broken.exit_code == 1
        assert "Car park L is overbooked" in broken.stdout
        assert "invariants_broken" in broken.output
    finally:
        get_settings.cache_clear()
