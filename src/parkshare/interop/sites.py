"""What the open-format feeds say about one car park at one instant: its registry entry, its
live state and whether sharing is open now. Pure values; the service builds them.

Both feeds speak to drivers, so they count *shared* berths: the capacity a driver could ever
use (the schedule's peak), the berths shared at this instant, and the shared berths free now.
A count is realtime only while the car park's link is online and a fresh, trusted figure
exists; a stale or offline car park shows no free count at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from parkshare.ingest.live import Link, LiveState
from parkshare.lots.model import Lot
from parkshare.schedules.rules import BerthCategory


@dataclass(frozen=True)
class SharingNow:
    """``open``: a driver may enter now (inside a window, not suspended, not in quiet hours);
    ``shared``: berths the schedule shares at this instant. ``None`` when unknown (e.g. the
    official calendar does not cover today)."""

    open: bool | None
    shared: int | None


@dataclass(frozen=True)
class FeedSite:
    lot: Lot  # loaded with its operator, berths and schedule
    live: LiveState
    sharing: SharingNow

    @property
    def realtime(self) -> bool:
        return (
            self.live.link is Link.ONLINE
            and self.live.free is not None
            and self.live.shared_free_now is not None
            and self.live.last_data_at is not None
            and self.sharing.open is not None
            and self.sharing.shared is not None
        )


def peak_by_category(lot: Lot) -> dict[BerthCategory, int]:
    """The most berths of each category any of the car park's rules shares."""
    peak = dict.fromkeys(BerthCategory, 0)
    for row in lot.rules:
        for berths in row.berths:
            peak[berths.category] = max(peak[berths.category], berths.shared_berths)
    return peak


def utc_text(instant: datetime) -> str:
    """ISO 8601 in UTC to the second, with a ``Z``: what both feed formats expect."""
    return instant.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
