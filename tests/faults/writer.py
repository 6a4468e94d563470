"""A writer the SQLite campaign kills in the middle of its transaction (run as
``python -m tests.faults.writer DATABASE_URL N``).

It books through the reservations service (key ``uncommitted-N``), then inserts gate events
``uncommitted-N-…`` in a loop with a tiny page cache, so uncommitted pages spill into the
write-ahead log while it holds the write lock. It prints ``writing`` once it is inside and
never commits: SIGKILL ends it. Nothing it wrote may ever be seen."""

from __future__ import annotations

import itertools
import sys

from sqlalchemy import insert, select, text

import parkshare.models  # noqa: F401  (every table, so foreign keys resolve)
from parkshare.clock import FixedClock
from parkshare.config import Policy
from parkshare.db import Database
from parkshare.ingest.model import GateEvent
from parkshare.lots.model import Lot
from parkshare.reservations.service import ReservationRequest, reserve
from tests.faults.traffic import NOW, STAY, WRITER_PLATES

BOOKING_LOT, EVENT_LOT = "FI-B1", "FI-EH"


def main(url: str, n: int) -> None:
    database = Database(url)
    clock = FixedClock(NOW)
    with database.session(write=True) as session:
        session.execute(text("PRAGMA cache_size=8"))  # pages: spill early, into the WAL
        request = ReservationRequest(BOOKING_LOT, f"{WRITER_PLATES}{n:05d}", *STAY)
        reserve(session, request, idempotency_key=f"uncommitted-{n}", policy=Policy(), clock=clock)
        lot_id = session.execute(select(Lot.id).where(Lot.code == EVENT_LOT)).scalar_one()
        for batch in itertools.count():
            rows = [
                {
                    "lot_id": lot_id,
                    "event_id": f"uncommitted-{n}-{batch}-{i}",
                    "plate": None,
                    "plate_masked": "",
                    "direction": "in",
                    "at": NOW,
                    "gate": "",
                    "received_at": NOW,
                }
                for i in range(200)
            ]
            session.execute(insert(GateEvent.__table__), rows)  # type: ignore[arg-type]
            session.flush()
            if batch == 0:
                print("writing", flush=True)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
