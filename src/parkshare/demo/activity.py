"""Recent gate traffic for the demo, so that the city dashboard shows utilisation and live
states that come from data, not from constants.

The demo network is not all networked the same way, as in a real district:

- a few institutional car parks in the towns have no system linked yet (*not networked*);
- one car park per area (街道) sends its gate events (*gate-networked*): for those the day
  before the clock's "now" is simulated (``demo.simulator``) and replayed in full, then today
  up to now, through the real ingest service (``ingest.events.ingest_events``, in process:
  the service the HTTP and MQTT edges call), in batches as a gate system pushes them;
- every networked car park sends its free-berth counts: those of the last half hour before now
  are replayed (``ingest_counts``), which is what its live state reads;
- a few lost their link a while ago: their data stops then, and they show as stale or offline.

Who is what is drawn from a fixed seed: two runs on the same clock give the same database.
Only the sends due by now are replayed (the simulator's late and resent events included).
"""

from __future__ import annotations

import random
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from parkshare.clock import Clock
from parkshare.config import Policy
from parkshare.db import Database
from parkshare.demo.replay import load_lots
from parkshare.demo.simulator import WARM_UP_DAYS, Send, SimLot, simulate_day
from parkshare.errors import CalendarNotCovered
from parkshare.ingest import events, keys
from parkshare.ingest.schemas import MAX_BATCH
from parkshare.lots.repository import LotRepository
from parkshare.schedules import service as schedules
from parkshare.schedules.rules import SHANGHAI, DayTypes

NOT_NETWORKED = 6  # institutional car parks in the towns (镇) without a linked system
STALE_LINKS = 2  # networked car parks whose link dropped 15–50 minutes ago
OFFLINE_LINKS = 3  # … and 2–8 hours ago
COUNTS_FOR = timedelta(minutes=30)  # the free-berth counts replayed, before the link's end
KEY_NAME = "演示：停车场系统 demo car-park systems"


@dataclass(frozen=True)
class Networking:
    """Which car parks send what, and until when (the link's end, ``now`` when it is up)."""

    gates: tuple[str, ...]  # send gate events (and counts)
    counts: tuple[str, ...]  # send counts only
    not_networked: tuple[str, ...]
    link_until: dict[str, datetime]

    @property
    def networked(self) -> tuple[str, ...]:
        return tuple(sorted((*self.gates, *self.counts)))


@dataclass(frozen=True)
class ActivitySummary:
    day: date  # the full day replayed
    networking: Networking
    events: int  # gate events accepted (duplicates are not counted)
    duplicates: int
    counts: int
    seconds: float
    skipped: str = ""  # why nothing was replayed


def plan_networking(
    lots: Sequence[SimLot], areas: dict[str, str], *, now: datetime, seed: int
) -> Networking:
    """Draw who is networked how (``areas``: car park code → area)."""
    rng = random.Random(f"{seed}:activity")
    codes = sorted(lot.code for lot in lots)
    kinds = {lot.code: lot.kind for lot in lots}
    towns = [c for c in codes if kinds[c] == "institutional" and areas[c].endswith("镇")]
    left_out = set(rng.sample(towns, min(NOT_NETWORKED, len(towns))))
    networked = [c for c in codes if c not in left_out]
    by_area: dict[str, list[str]] = defaultdict(list)
    for code in networked:
        by_area[areas[code]].append(code)
    gates = {rng.choice(by_area[area]) for area in sorted(by_area)}
    troubled = rng.sample(networked, STALE_LINKS + OFFLINE_LINKS)
    link_until = {code: now for code in networked}
    for index, code in enumerate(troubled):
        minutes = rng.randint(15, 50) if index < STALE_LINKS else rng.randint(120, 480)
        link_until[code] = now - timedelta(minutes=minutes)
    return Networking(
        gates=tuple(sorted(gates)),
        counts=tuple(c for c in networked if c not in gates),
        not_networked=tuple(sorted(left_out)),
        link_until=link_until,
    )


def replay_recent_activity(
    database: Database, *, clock: Clock, policy: Policy, seed: int = 1
) -> ActivitySummary:
    """Replay yesterday's gate traffic and today's up to now (see the module's docstring).
    About 17,000 events and 700 counts: 15–25 s on a laptop. Days the official calendar does
    not cover cannot be simulated: then nothing is replayed and ``skipped`` says why."""
    began = time.monotonic()
    now = clock.now()
    today = now.astimezone(SHANGHAI).date()
    yesterday = today - timedelta(days=1)
    with database.session() as session:
        lots = load_lots(session)
        calendar = schedules.calendar(session)
        areas = {lot.code: lot.area for lot in LotRepository(session).all_with_rules()}
    plan = plan_networking(lots, areas, now=now, seed=seed)
    try:  # the simulator looks at the days around the one it simulates
        for offset in range(-WARM_UP_DAYS - 1, 5):
            calendar.day_type(today + timedelta(days=offset))
    except CalendarNotCovered as exc:
        return ActivitySummary(yesterday, plan, 0, 0, 0, time.monotonic() - began, exc.message)
    gate_lots = [lot for lot in lots if lot.code in set(plan.gates)]
    networked = [lot for lot in lots if lot.code in set(plan.networked)]
    secret = _create_key(database, plan, clock=clock)
    ingest = _Ingest(database, secret, policy=policy, clock=clock)
    day = simulate_day(gate_lots, yesterday, seed=seed, calendar=calendar)
    for items in _by_lot(s for s in day.sends if s.kind == "events").values():
        ingest.events(items)
    events_today, counts_today = sends_due(networked, today, seed, calendar, plan)
    for items in events_today.values():
        ingest.events(items)
    for items in counts_today.values():
        ingest.counts(items)
    return ActivitySummary(
        day=yesterday,
        networking=plan,
        events=ingest.accepted,
        duplicates=ingest.duplicates,
        counts=ingest.counted,
        seconds=time.monotonic() - began,
    )


Items = dict[str, list[dict[str, Any]]]


def sends_due(
    lots: list[SimLot], day: date, seed: int, calendar: DayTypes, plan: Networking
) -> tuple[Items, Items]:
    """Today's events of the gate-networked car parks and the counts of the last half hour,
    as sent by the end of each car park's link, by car park."""
    due = []
    for send in simulate_day(lots, day, seed=seed, calendar=calendar).sends:
        until = plan.link_until[send.lot]
        if send.send_at > until:
            continue
        wanted = (
            send.lot in plan.gates
            if send.kind == "events"
            else send.send_at > until - COUNTS_FOR  # counts: only the latest matter
        )
        if wanted:
            due.append(send)
    events_due = _by_lot(s for s in due if s.kind == "events")
    counts_due = _by_lot(s for s in due if s.kind == "counts")
    return events_due, counts_due


def _by_lot(sends: Iterable[Send]) -> Items:
    items: Items = defaultdict(list)
    for send in sends:
        items[send.lot].append(send.item)
    return dict(items)


def _create_key(database: Database, plan: Networking, *, clock: Clock) -> str:
    with database.session(write=True) as session:
        _, secret = keys.create_key(
            session, name=KEY_NAME, lot_codes=list(plan.networked), clock=clock
        )
    return secret


class _Ingest:
    """Batches of one car park through the ingest service, a write transaction each (as the
    HTTP edge does), with the tally of what was accepted."""

    def __init__(self, database: Database, secret: str, *, policy: Policy, clock: Clock) -> None:
        self.database, self.secret, self.policy, self.clock = database, secret, policy, clock
        self.accepted = self.duplicates = self.counted = 0

    def events(self, items: list[dict[str, Any]]) -> None:
        for batch in _batches(items):
            with self.database.session(write=True) as session:
                key = keys.authenticate(session, self.secret, clock=self.clock)
                result = events.ingest_events(
                    session, key, batch, policy=self.policy, clock=self.clock
                )
            self.accepted += len(result.accepted)
            self.duplicates += len(result.duplicates)

    def counts(self, items: list[dict[str, Any]]) -> None:
        for batch in _batches(items):
            with self.database.session(write=True) as session:
                key = keys.authenticate(session, self.secret, clock=self.clock)
                result = events.ingest_counts(session, key, batch, clock=self.clock)
            self.counted += len(result.accepted)


def _batches(items: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    return [items[first : first + MAX_BATCH] for first in range(0, len(items), MAX_BATCH)]
