"""The change log the search index follows: one row per car park whose availability may have
changed (a reservation, a pass, its schedule, berths, tariff or status), written in the same
transaction as the change by an ORM hook, so no service has to remember it. A row without a
car park (a calendar override) means "everything"."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Integer, event, insert
from sqlalchemy.orm import Mapped, Session, mapped_column

from parkshare.db import Base, UTCDateTime
from parkshare.fees.model import TariffRow
from parkshare.lots.model import Lot, LotBerths
from parkshare.passes.model import ParkingPass
from parkshare.reservations.model import Reservation
from parkshare.schedules.model import (
    CalendarOverride,
    SharingRuleRow,
    SharingSchedule,
    SuspensionRow,
)

EVERYTHING = -1  # the lot id that stands for "every car park" in the set of changes
BY_LOT_ID = (
    Reservation,
    ParkingPass,
    LotBerths,
    SharingRuleRow,
    SharingSchedule,
    SuspensionRow,
    TariffRow,
)

# Set when this process commits a change, so its own index catches up at the next search
# instead of waiting for its polling interval.
committed_here = threading.Event()


class LotChange(Base):
    __tablename__ = "lot_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    lot_id: Mapped[int | None] = mapped_column(Integer)  # None: every car park
    at: Mapped[datetime] = mapped_column(UTCDateTime())


def changed_lots(objects: Any) -> set[int]:
    lots: set[int] = set()
    for instance in objects:
        if isinstance(instance, Lot):
            lots.add(instance.id)
        elif isinstance(instance, BY_LOT_ID):
            lots.add(instance.lot_id)
        elif isinstance(instance, CalendarOverride):
            lots.add(EVERYTHING)
    lots.discard(None)  # type: ignore[arg-type,unused-ignore]  # not flushed: nothing to follow
    return lots


@event.listens_for(Session, "after_flush")
def _record(session: Session, _context: Any) -> None:
    lots = changed_lots([*session.new, *session.dirty, *session.deleted])
    if not lots:
        return
    at = datetime.now(UTC)
    rows = [{"lot_id": None if lot == EVERYTHING else lot, "at": at} for lot in sorted(lots)]
    session.connection().execute(insert(LotChange), rows)
    session.info["lots_changed"] = True


@event.listens_for(Session, "after_commit")
def _committed(session: Session) -> None:
    if session.info.pop("lots_changed", False):
        committed_here.set()
