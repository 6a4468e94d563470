"""Pure values of a car park (schedule, tariff, status), cached per process.

Deciding a booking needs the car park's schedule and tariff; loading them through the ORM
costs most of a booking. They change rarely, so they are cached per database and process —
and every use checks the cached ``version`` against the car park's row, read under the lock
that decides the booking. A stale cache is never used.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from sqlalchemy.orm import Session

from parkshare.errors import LotNotFound
from parkshare.fees.service import tariff_of
from parkshare.fees.tariff import Tariff
from parkshare.lots.model import Lot, LotStatus
from parkshare.lots.repository import LotRepository
from parkshare.lots.service import get_lot
from parkshare.schedules.rules import Schedule
from parkshare.schedules.service import schedule_of


@dataclass(frozen=True)
class LotProfile:
    id: int
    code: str
    version: int
    status: LotStatus
    schedule: Schedule
    tariff: Tariff | None


def profile_of(lot: Lot) -> LotProfile:
    """The values of a car park loaded with its schedule and tariff."""
    return LotProfile(
        id=lot.id,
        code=lot.code,
        version=lot.version,
        status=lot.status,
        schedule=schedule_of(lot),
        tariff=tariff_of(lot),
    )


class LotProfiles:
    def __init__(self) -> None:
        self._by_code: dict[str, LotProfile] = {}
        self._guard = threading.Lock()

    def locked(self, session: Session, code: str) -> LotProfile:
        """Lock the car park (see ``LotRepository.lock``) and return its current values."""
        row = LotRepository(session).lock_by_code(code)
        if row is None:
            raise LotNotFound(f"No car park has the code {code!r}.", lot=code)
        lot_id, version = row
        with self._guard:
            cached = self._by_code.get(code)
        if cached is not None and cached.id == lot_id and cached.version == version:
            return cached
        profile = profile_of(get_lot(session, code))
        with self._guard:
            self._by_code[code] = profile
        return profile


def profiles(session: Session) -> LotProfiles:
    """The cache of the session's database (a fresh one for a bare session)."""
    cache = session.info.setdefault("cache", {})
    found = cache.get("lot_profiles")
    if not isinstance(found, LotProfiles):
        found = cache["lot_profiles"] = LotProfiles()
    return found
