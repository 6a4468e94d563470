"""Networking on both databases: keys, idempotent batches, late events, live state, whitelist."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy

from parkshare.clock import FixedClock
from parkshare.config import Policy
from parkshare.db import Database
from parkshare.fees.tariff import RatePeriod, Tariff
from parkshare.ingest import events, keys
from parkshare.ingest.keys import AuthorisedKey, Unauthorised
from parkshare.ingest.live import Link, live_state
from parkshare.ingest.model import GateEvent, ParkingSession, SessionStatus
from parkshare.ingest.whitelist import whitelist
from parkshare.lots.service import get_lot
from parkshare.passes import service as passes
from parkshare.passes.model import PassKind
from parkshare.reservations.model import Reservation, ReservationStatus
from parkshare.reservations.service import ReservationRequest, cancel, reserve
from tests.factories import make_lot

SH = ZoneInfo("Asia/Shanghai")
POLICY = Policy()
STALE, OFFLINE = timedelta(minutes=10), timedelta(minutes=60)
TARIFF = Tariff(rates=(RatePeriod(time(0), 200),), free_minutes=15)


def at(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=SH)  # type: ignore[misc]


@pytest.fixture
def key(database: Database, clock: FixedClock) -> tuple[AuthorisedKey, str]:
    clock.set(at(2022, 6, 24, 9))
    with database.session(write=True) as session:
        make_lot(session, clock=clock, code="L", shared_berths=5, total_berths=20, tariff=TARIFF)
        make_lot(session, clock=clock, code="OTHER")
        _, secret = keys.create_key(session, name="gate vendor", lot_codes=["L"], clock=clock)
    with database.session(write=True) as session:
        return keys.authenticate(session, secret, clock=clock), secret


def event(
    event_id: str, direction: str, when: datetime, plate: str = "鲁B12345", lot: str = "L"
) -> dict[str, Any]:
    return {
        "event_id": event_id,
        "lot": lot,
        "plate": plate,
        "direction": direction,
        "at": when.isoformat(),
        "gate": "north",
    }


def push(
    database: Database, key: AuthorisedKey, items: list[Any], clock: FixedClock
) -> events.BatchResult:
    with database.session(write=True) as session:
        return events.ingest_events(session, key, items, policy=POLICY, clock=clock)


def sessions(database: Database) -> list[ParkingSession]:
    with database.session() as session:
        return list(session.query(ParkingSession).order_by(ParkingSession.entered_at))


def test_keys_authenticate_and_revoke_at_once(
    database: Database, clock: FixedClock, key: tuple[AuthorisedKey, str]
) -> None:
    authorised, secret = key
    assert authorised.lots == {"L": authorised.lots["L"]}
    with database.session(write=True) as session, pytest.raises(Unauthorised):
        keys.authenticate(session, secret[:-1] + "x", clock=clock)
    with database.session(write=True) as session:
        keys.revoke(session, authorised.prefix, clock=clock)
    with database.session(write=True) as session, pytest.raises(Unauthorised):
        keys.authenticate(session, secret, clock=clock)


def test_a_batch_keeps_good_items_and_explains_bad_ones(
    database: Database, clock: FixedClock, key: tuple[AuthorisedKey, str]
) -> None:
    authorised, _ = key
    items: list[Any] = [
        event("e1", "in", at(2022, 6, 24, 8)),
        event("e2", "in", at(2022, 6, 24, 8), plate="XX"),
        event("e3", "in", at(2022, 6, 24, 8), lot="OTHER"),
        event("e4", "sideways", at(2022, 6, 24, 8)),
        event("e5", "in", at(2022, 6, 24, 18)),
        "not an object",
        {**event("e6", "in", at(2022, 6, 24, 8)), "at": "2022-06-24T08:00:00"},
    ]
    result = push(database, authorised, items, clock)
    assert result.accepted == ["e1"]
    assert {r.index: r.code for r in result.rejected} == {
        1: "invalid_plate",
        2: "lot_not_in_scope",
        3: "invalid_input",
        4: "in_future",
        5: "invalid_input",
        6: "invalid_timestamp",
    }
    with database.session() as session:
        assert session.query(GateEvent).count() == 1


def test_replays_are_duplicates_not_new_events(
    database: Database, clock: FixedClock, key: tuple[AuthorisedKey, str]
) -> None:
    authorised, _ = key
    items = [event("e1", "in", at(2022, 6, 24, 8)), event("e2", "out", at(2022, 6, 24, 8, 30))]
    push(database, authorised, items, clock)
    again = push(database, authorised, items, clock)
    assert again.accepted == [] and again.duplicates == ["e1", "e2"]
    assert [s.status for s in sessions(database)] == [SessionStatus.CLOSED]


def test_late_events_pair_as_if_they_came_in_order(
    database: Database, clock: FixedClock, key: tuple[AuthorisedKey, str]
) -> None:
    authorised, _ = key
    push(database, authorised, [event("e2", "out", at(2022, 6, 24, 8, 40))], clock)
    assert [s.status for s in sessions(database)] == [SessionStatus.EXIT_ONLY]
    push(database, authorised, [event("e1", "in", at(2022, 6, 24, 7, 0))], clock)
    (closed,) = sessions(database)
    assert closed.status is SessionStatus.CLOSED
    assert closed.fee_fen == 400  # 1 h 40 min at 2 yuan an hour, per started hour
    assert closed.plate_masked != "鲁B12345"


def test_gate_events_drive_the_reservation(
    database: Database, clock: FixedClock, key: tuple[AuthorisedKey, str]
) -> None:
    authorised, _ = key
    with database.session(write=True) as session:
        request = ReservationRequest("L", "鲁B12345", at(2022, 6, 24, 19), at(2022, 6, 25, 10))
        booked = reserve(session, request, idempotency_key=None, policy=POLICY, clock=clock)
    clock.set(at(2022, 6, 24, 19, 10))
    push(database, authorised, [event("e1", "in", at(2022, 6, 24, 19, 5))], clock)
    with database.session() as session:
        assert (
            session.query(Reservation).filter_by(ref=booked.ref).one().status
            is ReservationStatus.ARRIVED
        )
    clock.set(at(2022, 6, 25, 9, 40))
    push(database, authorised, [event("e2", "out", at(2022, 6, 25, 9, 35))], clock)
    with database.session() as session:
        done = session.query(Reservation).filter_by(ref=booked.ref).one()
    assert done.status is ReservationStatus.COMPLETED
    assert done.departed_at == at(2022, 6, 25, 9, 35)
    (linked,) = sessions(database)
    assert linked.reservation_id == done.id and linked.fee_fen == done.fee_fen


def test_live_state_goes_stale_then_offline_and_never_shows_old_counts(
    database: Database, clock: FixedClock, key: tuple[AuthorisedKey, str]
) -> None:
    authorised, _ = key
    with database.session() as session:
        lot = get_lot(session, "L")
        assert (
            live_state(session, lot, now=clock.now(), stale=STALE, offline=OFFLINE).link
            is Link.NEVER
        )
    with database.session(write=True) as session:
        events.ingest_counts(
            session,
            authorised,
            [{"lot": "L", "free": 12, "at": at(2022, 6, 24, 8, 58).isoformat()}],
            clock=clock,
        )
    expected = [
        (at(2022, 6, 24, 9), Link.ONLINE, 12),
        (at(2022, 6, 24, 9, 30), Link.STALE, None),
        (at(2022, 6, 24, 11), Link.OFFLINE, None),
    ]
    for now, link, free in expected:
        with database.session() as session:
            state = live_state(
                session, get_lot(session, "L"), now=now, stale=STALE, offline=OFFLINE
            )
        assert (state.link, state.free) == (link, free)


def test_flagged_counts_are_stored_but_not_trusted(
    database: Database, clock: FixedClock, key: tuple[AuthorisedKey, str]
) -> None:
    authorised, _ = key
    with database.session(write=True) as session:
        result = events.ingest_counts(
            session,
            authorised,
            [{"lot": "L", "free": 25, "total": 20, "at": at(2022, 6, 24, 9).isoformat()}],
            clock=clock,
        )
    assert len(result.flagged) == 1
    with database.session() as session:
        state = live_state(
            session, get_lot(session, "L"), now=clock.now(), stale=STALE, offline=OFFLINE
        )
    assert state.free is None and "exceeds" in state.anomaly


def test_whitelist_lists_bookings_and_passes_and_drops_cancellations(
    database: Database, clock: FixedClock, key: tuple[AuthorisedKey, str]
) -> None:
    with database.session(write=True) as session:
        request = ReservationRequest("L", "鲁B12345", at(2022, 6, 24, 19), at(2022, 6, 25, 10))
        booked = reserve(session, request, idempotency_key=None, policy=POLICY, clock=clock)
        passes.offer_passes(session, "L", PassKind.WEEKEND, date(2022, 7, 1), quota=1, price_fen=1)
        passes.apply(
            session,
            passes.PassApplicationRequest(
                "鲁B99999", PassKind.WEEKEND, date(2022, 7, 1), 120.18, 35.96
            ),
            clock=clock,
        )
    with database.session(write=True) as session:
        passes.allocate(session, PassKind.WEEKEND, date(2022, 7, 1), policy=POLICY, clock=clock)
    with database.session() as session:
        listing = whitelist(session, get_lot(session, "L"), clock=clock)
    (permit,) = listing.permits
    assert (permit.plate, permit.source, permit.valid_until) == (
        "鲁B12345",
        "reservation",
        at(2022, 6, 27, 7, 30),
    )
    friday_july = FixedClock(at(2022, 7, 1, 12))
    with database.session() as session:
        july = whitelist(session, get_lot(session, "L"), clock=friday_july)
    assert [(p.plate, p.source, p.valid_from) for p in july.permits] == [
        ("鲁B99999", "pass", at(2022, 7, 1, 18))
    ]
    with database.session(write=True) as session:
        cancel(session, booked.ref, policy=POLICY, clock=clock)
    with database.session() as session:
        after = whitelist(session, get_lot(session, "L"), clock=clock)
    assert after.permits == [] and after.version != listing.version


def test_plates_are_erased_after_the_retention_period(
    database: Database, clock: FixedClock, key: tuple[AuthorisedKey, str]
) -> None:
    authorised, _ = key
    push(
        database,
        authorised,
        [
            event("old", "in", at(2022, 5, 1, 8)),
            event("old-out", "out", at(2022, 5, 1, 9)),
            event("new", "in", at(2022, 6, 24, 8)),
        ],
        clock,
    )
    with database.session(write=True) as session:
        erased = events.erase_old_plates(session, retention=timedelta(days=30), now=clock.now())
    assert erased == 2
    with database.session() as session:
        rows = {e.event_id: (e.plate, e.plate_masked) for e in session.query(GateEvent)}
        old_session = (
            session.query(ParkingSession)
            .filter(ParkingSession.status == SessionStatus.CLOSED)
            .one()
        )
    assert rows["old"][0] is None and rows["old"][1].startswith("鲁B")
    assert rows["new"][0] == "鲁B12345"
    assert old_session.plate is None


def test_a_resent_count_is_a_duplicate(
    database: Database, clock: FixedClock, key: tuple[AuthorisedKey, str]
) -> None:
    authorised, _ = key
    count = {"lot": "L", "free": 12, "at": at(2022, 6, 24, 8, 58).isoformat()}
    for expected in (([1], []), ([], [1])):
        with database.session(write=True) as session:
            result = events.ingest_counts(session, authorised, [count], clock=clock)
        assert (len(result.accepted), len(result.duplicates)) == tuple(len(x) for x in expected)


def test_a_car_that_never_left_stops_counting_after_the_longest_stay(
    database: Database, clock: FixedClock, key: tuple[AuthorisedKey, str]
) -> None:
    authorised, _ = key
    old_entry = event("old", "in", at(2022, 6, 20, 8), plate="鲁B11111")  # no exit ever came
    fresh_entry = event("new", "in", at(2022, 6, 24, 8, 55), plate="鲁B22222")
    push(database, authorised, [old_entry, fresh_entry], clock)
    with database.session() as session:
        state = live_state(
            session, get_lot(session, "L"), now=clock.now(), stale=STALE, offline=OFFLINE
        )
    assert (state.free_source, state.occupied) == ("events", 1)
    assert [s.status for s in sessions(database)] == [SessionStatus.OPEN, SessionStatus.OPEN]


def test_a_batch_locks_its_car_parks_in_id_order(database: Database, clock: FixedClock) -> None:
    """Two batches over the same car parks never hold them crosswise: under the soak's mixed
    traffic PostgreSQL broke such a deadlock by failing a batch with a 500."""
    clock.set(at(2022, 6, 24, 9))
    with database.session(write=True) as session:
        for code in ("A", "B", "C"):
            make_lot(session, clock=clock, code=code)
        _, secret = keys.create_key(
            session, name="integrator", lot_codes=["C", "A", "B"], clock=clock
        )
    locked: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_args: Any) -> None:
        if statement.startswith("SELECT lots.id, lots.version"):
            values = parameters.values() if isinstance(parameters, dict) else parameters
            locked.extend(str(value) for value in values)

    with database.session(write=True) as session:
        authorised = keys.authenticate(session, secret, clock=clock)
    sqlalchemy.event.listen(database.engine, "before_cursor_execute", seen)
    try:
        batch = [
            event(f"x{n}", "in", at(2022, 6, 24, 8, n), plate=f"鲁B1000{n}", lot=lot)
            for n, lot in enumerate(("C", "A", "B", "A"))
        ]
        result = push(database, authorised, batch, clock)
    finally:
        sqlalchemy.event.remove(database.engine, "before_cursor_execute", seen)
    assert len(result.accepted) == 4
    assert locked == ["A", "B", "C"]
