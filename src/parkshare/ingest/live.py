"""Live state of a car park, derived from what its system sent: free and occupied berths,
shared berths free now, the time of the last data, and online / stale / offline.

A count older than the stale threshold is never shown as live, and a flagged count is never
trusted."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy.orm import Session

from parkshare.availability.service import availability_at
from parkshare.errors import ParkshareError
from parkshare.ingest.repository import IngestRepository
from parkshare.lots.model import Lot

# A car whose exit never came (a missed camera read, a car towed away) must not fill a berth for
# ever: open sessions older than this no longer count as occupying one.
MAX_STAY = timedelta(hours=72)


class Link(StrEnum):
    ONLINE = "online"
    STALE = "stale"
    OFFLINE = "offline"
    NEVER = "never"  # no data has ever arrived


@dataclass(frozen=True)
class LiveState:
    lot: str
    link: Link
    last_data_at: datetime | None
    berths: int
    free: int | None  # physical free berths now, when a fresh trusted figure exists
    occupied: int | None
    free_source: str  # "count", "events" or ""
    shared_free_now: int | None  # shared berths free now (schedule, bookings, and physical)
    anomaly: str  # the latest count's problem, if any


def link_of(last: datetime | None, now: datetime, *, stale: timedelta, offline: timedelta) -> Link:
    if last is None:
        return Link.NEVER
    age = now - last
    if age <= stale:
        return Link.ONLINE
    return Link.STALE if age <= offline else Link.OFFLINE


def live_state(
    session: Session, lot: Lot, *, now: datetime, stale: timedelta, offline: timedelta
) -> LiveState:
    """``lot`` must be loaded with its schedule."""
    repository = IngestRepository(session)
    count = repository.latest_count(lot.id)
    last_event = repository.latest_event_at(lot.id)
    moments = [m for m in (count.at if count else None, last_event) if m is not None]
    last = max(moments) if moments else None
    link = link_of(last, now, stale=stale, offline=offline)
    berths = lot.total_berths
    occupied_by_events = repository.open_sessions(lot.id, entered_after=now - MAX_STAY)
    free: int | None = None
    source = ""
    fresh_count = count is not None and not count.anomaly and now - count.at <= stale
    if fresh_count and count is not None:
        free, source = count.free, "count"
    elif last_event is not None and now - last_event <= stale:
        free, source = max(0, berths - occupied_by_events), "events"
    return LiveState(
        lot=lot.code,
        link=link,
        last_data_at=last,
        berths=berths,
        free=free,
        occupied=berths - free if free is not None else None,
        free_source=source,
        shared_free_now=_shared_free_now(session, lot, now, free),
        anomaly=count.anomaly if count else "",
    )


def _shared_free_now(session: Session, lot: Lot, now: datetime, free: int | None) -> int | None:
    """Shared berths a driver could take now: what the schedule and bookings leave, and never
    more than are physically free."""
    try:
        answer = availability_at(session, lot, now, now + timedelta(minutes=1))
    except ParkshareError:  # e.g. the calendar does not cover today
        return None
    if not answer.servable:
        return 0
    shared = sum(answer.free_by_category.values())
    return min(shared, free) if free is not None else shared
