"""The search index agrees with the database: after thousands of random bookings,
cancellations, schedule edits and suspensions, every search answered from the index equals the
same search answered by the database alone."""

from __future__ import annotations

import random
import threading
import time as timer
from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy.orm import Session

from parkshare.calendar import DAYS_OFF, WORKING_DAYS
from parkshare.clock import FixedClock
from parkshare.config import Policy
from parkshare.db import Database
from parkshare.errors import ParkshareError
from parkshare.geo import CoordSystem
from parkshare.lots.model import LotBerths, LotKind
from parkshare.lots.repository import LotRepository
from parkshare.passes import service as passes
from parkshare.passes.model import PassKind
from parkshare.reservations import service as reservations
from parkshare.reservations.model import HOLDING, Reservation
from parkshare.schedules import presets
from parkshare.schedules import service as schedules
from parkshare.schedules.rules import SHANGHAI, BerthCategory, SharingRule
from parkshare.search.index import SearchIndex, _held_most
from parkshare.search.index_repository import IndexRepository
from parkshare.search.rules import SearchQuery
from parkshare.search.service import SearchResult, search
from tests.factories import DAY_NIGHT_TARIFF, make_lot

NOW = datetime(2022, 6, 24, 9, 0, tzinfo=SHANGHAI)  # a Friday
CENTRE = (120.18, 35.96)
POLICY = Policy(max_cancellations_per_month=10_000, max_no_shows_per_month=10_000)
KINDS = (LotKind.INSTITUTIONAL, LotKind.COMMERCIAL)


def _rules(rng: random.Random) -> tuple[SharingRule, ...]:
    shared = {
        BerthCategory.ORDINARY: rng.randint(1, 6),
        BerthCategory.EV_CHARGING: rng.randint(0, 2),
    }
    choice = rng.randrange(8)
    if choice == 0:
        return presets.qingdao_institutional(shared)
    if choice == 1:
        return presets.mall(shared, {BerthCategory.ORDINARY: rng.randint(0, 3)})
    if choice == 2:
        return presets.hotel(shared)
    if choice == 3:
        return presets.office(shared)
    if choice == 4:  # off the quarter hours: the database answers for this car park
        return (
            SharingRule(
                WORKING_DAYS | DAYS_OFF, time(18, 10), time(7, 20), shared, end_day_offset=1
            ),
        )
    if choice == 5:  # days off only
        return (SharingRule(DAYS_OFF, time(0), time(0), shared, end_day_offset=1),)
    # Around the clock, on working days only or every day: windows cut by the grid's edges,
    # whose passes and must-leave-by the index works out from the rules.
    days = WORKING_DAYS if choice == 6 else WORKING_DAYS | DAYS_OFF
    return (SharingRule(days, time(0), time(0), shared, end_day_offset=1),)


def _world(database: Database, clock: FixedClock, rng: random.Random, lots: int) -> None:
    with database.session(write=True) as session:
        for n in range(lots):
            lot = make_lot(
                session,
                clock=clock,
                code=f"R-{n:03d}",
                kind=KINDS[n % 2],
                shared_berths=8,
                total_berths=12,
                tariff=DAY_NIGHT_TARIFF if n % 4 else None,
            )
            lot.lon = CENTRE[0] + rng.uniform(-0.03, 0.03)
            lot.lat = CENTRE[1] + rng.uniform(-0.03, 0.03)
            lot.berths.append(LotBerths(category=BerthCategory.EV_CHARGING, total=2))
            quiet = presets.QINGDAO_QUIET_HOURS if n % 3 == 0 else None
            schedules.set_schedule(lot, _rules(rng), quiet, clock=clock)
    # Night and weekend passes for June and July at a quarter of the car parks, applied for
    # before June began.
    clock.set(datetime(2022, 5, 31, 12, tzinfo=SHANGHAI))
    for kind in PassKind:
        for month in (date(2022, 6, 1), date(2022, 7, 1)):
            with database.session(write=True) as session:
                for code in (f"R-{n:03d}" for n in range(0, lots, 4)):
                    passes.offer_passes(session, code, kind, month, quota=2, price_fen=1)
                for n in range(5):
                    passes.apply(
                        session,
                        passes.PassApplicationRequest(
                            plate=f"鲁P{n:05d}",
                            kind=kind,
                            month=month,
                            lon=CENTRE[0],
                            lat=CENTRE[1],
                            max_walk_m=5_000,
                        ),
                        clock=clock,
                    )
                passes.allocate(session, kind, month, policy=POLICY, clock=clock)
    clock.set(NOW)


def _instant(rng: random.Random, *, aligned: bool) -> datetime:
    day = NOW.date() + timedelta(days=rng.randint(0, 9))
    minutes = rng.randrange(0, 24 * 60, 15 if aligned else 1)
    return datetime.combine(day, time(0), SHANGHAI) + timedelta(minutes=minutes)


def _stay(rng: random.Random) -> tuple[datetime, datetime]:
    """A stay most car parks share: a night (in by 22:00, out after 06:00) or a day visit;
    now and then any interval at all."""
    day = datetime.combine(NOW.date() + timedelta(days=rng.randint(0, 9)), time(0), SHANGHAI)
    step = 15 if rng.random() < 0.5 else 1
    roll = rng.random()
    if roll < 0.6:
        start = day + timedelta(minutes=rng.randrange(18 * 60, 22 * 60, step))
        end = day + timedelta(days=1, minutes=rng.randrange(6 * 60, 7 * 60 + 30, step))
    elif roll < 0.9:
        start = day + timedelta(minutes=rng.randrange(8 * 60, 15 * 60, step))
        end = start + timedelta(minutes=rng.randrange(30, 3 * 60, step))
    else:
        start = _instant(rng, aligned=step == 15)
        end = start + timedelta(minutes=rng.randrange(30, 14 * 60, step))
    return start, end


def _change(session: Session, rng: random.Random, clock: FixedClock, refs: list[str]) -> None:
    """One random change, through the services; refusals are part of the game."""
    roll = rng.random()
    code = f"R-{rng.randrange(LOTS):03d}"
    try:
        if roll < 0.70:
            start, end = _stay(rng)
            request = reservations.ReservationRequest(
                lot=code,
                plate=f"鲁B{rng.randrange(100_000):05d}",
                start=start,
                end=end,
                category=BerthCategory.ORDINARY
                if rng.random() < 0.9
                else BerthCategory.EV_CHARGING,
            )
            made = reservations.reserve(
                session, request, idempotency_key=None, policy=POLICY, clock=clock
            )
            if isinstance(made, Reservation):
                refs.append(made.ref)
        elif roll < 0.90 and refs:
            reservations.cancel(
                session, refs.pop(rng.randrange(len(refs))), policy=POLICY, clock=clock
            )
        elif roll < 0.97:
            lot = LotRepository(session).get_by_code(code, with_schedule=True)
            assert lot is not None
            quiet = presets.QINGDAO_QUIET_HOURS if rng.random() < 0.3 else None
            schedules.set_schedule(lot, _rules(rng), quiet, clock=clock)
        else:
            lot = LotRepository(session).get_by_code(code, with_schedule=True)
            assert lot is not None
            start = _instant(rng, aligned=False)
            schedules.suspend(
                lot,
                start=start,
                resume=start + timedelta(hours=rng.randint(1, 30)),
                reason="works",
                emergency=True,
                min_notice=timedelta(0),
                clock=clock,
            )
    except ParkshareError:
        session.rollback()


def _query(rng: random.Random) -> SearchQuery:
    aligned = rng.random() < 0.85
    start = max(_instant(rng, aligned=aligned), NOW + timedelta(minutes=15))
    if aligned:
        start = datetime.combine(start.date(), time(start.hour, start.minute // 15 * 15), SHANGHAI)
    minutes = rng.randrange(15, 16 * 60, 15 if aligned else 7)
    return SearchQuery(
        lon=CENTRE[0] + rng.uniform(-0.02, 0.02),
        lat=CENTRE[1] + rng.uniform(-0.02, 0.02),
        start=start,
        end=start + timedelta(minutes=minutes),
        min_free=rng.choice((1, 1, 2, 3, 5)),
        radius_m=rng.choice((1_000, 3_000, 8_000)),
        kind=rng.choice((None, None, LotKind.COMMERCIAL)),
        max_price_fen=rng.choice((None, None, 2_000)),
        limit=rng.choice((3, 10, 50)),
        coords=rng.choice((CoordSystem.WGS84, CoordSystem.GCJ02)),
        category=BerthCategory.ORDINARY if rng.random() < 0.9 else BerthCategory.EV_CHARGING,
    )


def _same(indexed: SearchResult, direct: SearchResult) -> bool:
    return indexed.hits == direct.hits


LOTS = 16


def _assert_same_grid(kept: SearchIndex, fresh: SearchIndex) -> None:
    assert kept.grid_start == fresh.grid_start and len(kept.lots) == len(fresh.lots)
    for lot in fresh.lots:
        a, b = kept.row_of[lot.id], fresh.row_of[lot.id]
        assert (kept.free[a] == fresh.free[b]).all(), lot.code
        assert (kept.run[a] == fresh.run[b]).all(), lot.code
        assert kept.lots[a].windows == fresh.lots[b].windows


@pytest.mark.timeout(600)
def test_the_index_answers_every_search_as_the_database_does(
    database: Database, clock: FixedClock
) -> None:
    rng = random.Random(2022)
    clock.set(NOW)
    _world(database, clock, rng, LOTS)
    with database.session() as session:
        index = SearchIndex.build(session, clock=clock, policy=POLICY)
    changes = 2_000 if database.url.startswith("sqlite") else 600
    refs: list[str] = []
    compared = answered_by_index = 0
    for step in range(changes):
        with database.session(write=True) as session:
            _change(session, rng, clock, refs)
        if step % 25:
            continue
        with database.session() as session:
            index = index.catch_up(session, clock=clock)
            if step % 200 == 0:  # what was kept up to date equals what is built afresh
                _assert_same_grid(index, SearchIndex.build(session, clock=clock, policy=POLICY))
            for _ in range(12):
                query = _query(rng)
                indexed = search(session, query, clock=clock, policy=POLICY, index=index)
                direct = search(session, query, clock=clock, policy=POLICY)
                assert _same(indexed, direct), (step, query)
                compared += 1
                slots = index.slot_range(query.start, query.end)
                answered_by_index += slots is not None and query.category is BerthCategory.ORDINARY
    with database.session() as session:
        held = session.query(Reservation).filter(Reservation.status.in_(HOLDING)).count()
    assert held > changes // 20  # the changes really filled the car parks
    assert compared >= 12 * changes // 25
    assert answered_by_index > compared // 2  # most searches were the index's to answer


def test_a_change_committed_elsewhere_is_seen_at_the_next_look(
    database: Database, clock: FixedClock
) -> None:
    clock.set(NOW)
    with database.session(write=True) as session:
        make_lot(session, clock=clock, code="A", shared_berths=1)
    with database.session() as session:
        index = SearchIndex.build(session, clock=clock, policy=POLICY)
    query = SearchQuery(
        lon=120.18,
        lat=35.96,
        start=datetime(2022, 6, 24, 19, 0, tzinfo=SHANGHAI),
        end=datetime(2022, 6, 24, 21, 0, tzinfo=SHANGHAI),
    )
    with database.session() as session:
        assert [
            h.code for h in search(session, query, clock=clock, policy=POLICY, index=index).hits
        ] == ["A"]
    other = Database(database.url)  # another process's connection
    with other.session(write=True) as session:
        reservations.reserve(
            session,
            reservations.ReservationRequest(
                lot="A", plate="鲁B12345", start=query.start, end=query.end
            ),
            idempotency_key=None,
            policy=POLICY,
            clock=clock,
        )
    other.dispose()
    with database.session() as session:
        index = index.catch_up(session, clock=clock, force=True)
        assert search(session, query, clock=clock, policy=POLICY, index=index).hits == ()


def test_a_new_day_or_a_calendar_override_rebuilds_the_index(
    database: Database, clock: FixedClock
) -> None:
    clock.set(NOW)
    with database.session(write=True) as session:
        make_lot(session, clock=clock, code="A")
    with database.session() as session:
        index = SearchIndex.build(session, clock=clock, policy=POLICY)
    with database.session(write=True) as session:
        schedules.override_day(
            session, date(2022, 6, 27), next(iter(DAYS_OFF)), note="x", clock=clock
        )
    with database.session() as session:
        rebuilt = index.catch_up(session, clock=clock, force=True)
    assert rebuilt is not index
    clock.set(NOW + timedelta(days=1))
    with database.session() as session:
        moved = rebuilt.catch_up(session, clock=clock, force=True)
    assert moved.grid_start == rebuilt.grid_start + timedelta(days=1)


def test_an_off_grid_interval_is_left_to_the_database() -> None:
    index = SearchIndex(
        grid_start=datetime(2022, 6, 21, tzinfo=SHANGHAI), slots=96 * 19, built_at=0
    )
    on = datetime(2022, 6, 24, 19, 0, tzinfo=SHANGHAI)
    assert index.slot_range(on, on + timedelta(hours=2)) == (96 * 3 + 76, 96 * 3 + 84)
    assert index.slot_range(on + timedelta(minutes=7), on + timedelta(hours=2)) is None
    in_utc = on.astimezone(UTC)  # passes count by Shanghai months: such a query goes the long way
    assert index.slot_range(in_utc, in_utc + timedelta(hours=2)) is None


def test_every_change_is_logged_once_per_car_park_and_old_entries_can_go(
    database: Database, clock: FixedClock
) -> None:
    clock.set(NOW)
    with database.session(write=True) as session:
        make_lot(session, clock=clock, code="A")
        make_lot(session, clock=clock, code="B")
    with database.session() as session:
        before = IndexRepository(session).last_change()
    with database.session(write=True) as session:
        for plate in ("鲁B11111", "鲁B22222"):
            reservations.reserve(
                session,
                reservations.ReservationRequest(
                    lot="A",
                    plate=plate,
                    start=datetime(2022, 6, 24, 19, tzinfo=SHANGHAI),
                    end=datetime(2022, 6, 24, 21, tzinfo=SHANGHAI),
                ),
                idempotency_key=None,
                policy=POLICY,
                clock=clock,
            )
    with database.session(write=True) as session:
        repository = IndexRepository(session)
        logged = repository.changes_after(before)
        lot_a = LotRepository(session).get_by_code("A")
        assert lot_a is not None and {lot for _, lot in logged} == {lot_a.id}
        assert repository.forget_changes_before(datetime.now(UTC) - timedelta(days=2)) == 0
        assert repository.forget_changes_before(datetime.now(UTC) + timedelta(seconds=1)) > 0
        assert repository.changes_after(0) == []


def test_cars_leaving_together_leave_no_count_that_never_was() -> None:
    grid = datetime(2022, 6, 24, tzinfo=SHANGHAI)
    at = grid + timedelta(hours=19)  # a slot boundary
    spans = [
        (grid + timedelta(hours=17), at),  # two leave at 19:00 …
        (grid + timedelta(hours=17), at),
        (grid + timedelta(hours=18), grid + timedelta(hours=20)),  # … one stays
        (at + timedelta(minutes=20), at + timedelta(minutes=25)),  # one comes and goes later
    ]
    held = _held_most([spans], grid, 96)[0]
    assert held[19 * 4 - 1] == 3  # 18:45–19:00: all three in
    assert held[19 * 4] == 1  # 19:00–19:15: only the one staying (never 2 at 19:00)
    assert held[19 * 4 + 1] == 2  # 19:15–19:30: and the short visit


def test_catching_up_never_waits_for_the_pool_while_holding_the_lock(
    database: Database, clock: FixedClock
) -> None:
    """A search may hold its database connection while it waits for the index's lock, so a
    catch-up must take its connection before the lock. With one pooled connection held by
    such a search, the catch-up used to hold the lock and wait for the pool: both waited until
    the pool gave up (the benchmark's server stopped answering under load)."""
    clock.set(NOW)
    with database.session(write=True) as session:
        make_lot(session, clock=clock, code="A")
    one = Database(database.url, pool_size=1, max_overflow=0, pool_timeout=3)
    with one.session() as session:
        index = SearchIndex.build(session, clock=clock, policy=POLICY)
    connected, catching_up = threading.Event(), threading.Event()
    waited: list[float] = []

    def search_holding_a_connection() -> None:
        with one.session() as session:
            session.connection()
            connected.set()
            catching_up.wait(5)
            timer.sleep(0.3)  # the catch-up is under way
            began = timer.monotonic()
            with index.lock:
                waited.append(timer.monotonic() - began)

    searcher = threading.Thread(target=search_holding_a_connection)
    searcher.start()
    assert connected.wait(5)
    catching_up.set()
    with one.session() as session:
        index.catch_up(session, clock=clock, force=True)  # TimeoutError when it deadlocks
    searcher.join(10)
    one.dispose()
    assert waited and waited[0] < 1.0
