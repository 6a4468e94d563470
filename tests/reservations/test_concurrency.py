"""No overbooking, ever: many clients (threads and processes) race for the last berths of one
car park on a real database, with retries of the same request mixed in.

Afterwards: at every instant the committed reservations fit the capacity, every request got a
definite answer (booked, or a clear ``no_capacity``), and every retry got the original answer.
"""

from __future__ import annotations

import random
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from multiprocessing import get_context
from zoneinfo import ZoneInfo

from sqlalchemy import select

from parkshare.clock import FixedClock
from parkshare.config import Policy
from parkshare.db import Database
from parkshare.errors import NoCapacity
from parkshare.reservations.model import HOLDING, Reservation
from parkshare.reservations.service import ReservationRequest, reserve
from parkshare.schedules.presets import QINGDAO_QUIET_HOURS
from tests.factories import make_lot

SH = ZoneInfo("Asia/Shanghai")
NOW = datetime(2022, 6, 24, 9, tzinfo=SH)
CAPACITY = 5
THREAD_CLIENTS = 24
PROCESSES, PER_PROCESS = 3, 8
POLICY = Policy(max_cancellations_per_month=1000)


def spans() -> list[tuple[datetime, datetime]]:
    """Intervals inside the Friday 18:00 → Monday 07:30 window, entry and exit allowed."""
    starts = [datetime(2022, 6, 24, h, tzinfo=SH) for h in (19, 20, 21)]
    starts += [datetime(2022, 6, 25, h, tzinfo=SH) for h in (7, 9, 13)]
    result = []
    for start in starts:
        for hours in (1, 3, 10, 14, 20):
            end = start + timedelta(hours=hours)
            if not QINGDAO_QUIET_HOURS.forbids_exit_at(end, SH):
                result.append((start, end))
    return result


def attempt(url: str, client: int, seed: int) -> list[tuple[str, str, str]]:
    """One client: book once (sometimes retrying the same request). Returns its answers."""
    rng = random.Random(seed * 1000 + client)
    start, end = rng.choice(spans())
    request = ReservationRequest("L", f"鲁B{client:05d}", start, end)
    key = f"client-{client}"
    database = Database(url)
    answers = []
    try:
        for _ in range(2 if client % 3 == 0 else 1):
            try:
                with database.session(write=True) as session:
                    booked = reserve(
                        session, request, idempotency_key=key, policy=POLICY, clock=FixedClock(NOW)
                    )
                    answers.append((key, "booked", booked.ref))
            except NoCapacity:
                answers.append((key, "no_capacity", ""))
            except Exception as exc:  # any other outcome is what this test exists to catch
                answers.append((key, "error", f"{type(exc).__name__}: {exc}"))
    finally:
        database.dispose()
    return answers


def process_batch(url: str, first_client: int, count: int) -> list[tuple[str, str, str]]:
    with ThreadPoolExecutor(max_workers=4) as pool:
        batches = pool.map(lambda c: attempt(url, c, 7), range(first_client, first_client + count))
        return [answer for batch in batches for answer in batch]


def test_concurrent_clients_never_overbook(database: Database) -> None:
    with database.session(write=True) as session:
        make_lot(session, clock=FixedClock(NOW.astimezone(UTC)), code="L", shared_berths=CAPACITY)
    url = database.url

    with ProcessPoolExecutor(max_workers=PROCESSES, mp_context=get_context("spawn")) as procs:
        remote = [
            procs.submit(process_batch, url, 1000 + p * PER_PROCESS, PER_PROCESS)
            for p in range(PROCESSES)
        ]
        with ThreadPoolExecutor(max_workers=12) as threads:
            local = list(threads.map(lambda c: attempt(url, c, 7), range(THREAD_CLIENTS)))
        answers = [a for batch in local for a in batch] + [a for f in remote for a in f.result()]

    errors = [a for a in answers if a[1] == "error"]
    assert errors == [], errors
    clients = THREAD_CLIENTS + PROCESSES * PER_PROCESS
    assert len({key for key, _, _ in answers}) == clients  # every client got an answer

    by_key: dict[str, set[str]] = {}
    for key, outcome, ref in answers:
        if outcome == "booked":
            by_key.setdefault(key, set()).add(ref)
    assert all(len(refs) == 1 for refs in by_key.values()), "a retry got a second reservation"

    with database.session() as session:
        rows = list(session.scalars(select(Reservation).where(Reservation.status.in_(HOLDING))))
    assert {r.ref for r in rows} == {ref for refs in by_key.values() for ref in refs}
    for instant in {r.start for r in rows}:
        held = sum(1 for r in rows if r.start <= instant < r.end)
        assert held <= CAPACITY, f"{held} berths held at {instant} with {CAPACITY} shared"
    assert len(rows) >= CAPACITY  # the race was real: the car park did fill up
