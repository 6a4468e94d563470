"""A city- or province-scale demo network for benchmarks of the search path
(``parkshare demo --scale N``).

N car parks over Shandong's 16 cities (``scaled_sites``) with the West Coast demo's realism:
institutional and commercial car parks, their uses, schedules from the presets, quiet hours,
tariffs and berth categories; monthly passes, and a week of reservations from the clock's
now that never take more than a window's capacity (``scaled_bookings``).

Fast: the rows go into the real tables by bulk inserts (``scaled_repository``), each written
as the service that normally writes it would — ``set_schedule``, ``tariff_row``,
``reservations.book`` with its reminder in the outbox, ``passes.allocate`` with its notice —
but without the ORM per row and the car-park lock per booking: the network is built into an
empty database inside the caller's one unit of work, which no other writer sees until it
commits. Deterministic for a seed and a clock.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, time
from functools import cache

from sqlalchemy.orm import Session

from parkshare.clock import Clock
from parkshare.config import Policy
from parkshare.demo.accounts import DEMO_OPERATOR, add_demo_accounts
from parkshare.demo.scaled_bookings import (
    DAYTIME,
    FULL,
    Shape,
    horizon,
    plan_shape,
    shape_quiet_hours,
    shape_rules,
)
from parkshare.demo.scaled_commitments import Booker, ScaledLot, write_passes
from parkshare.demo.scaled_plates import Plates
from parkshare.demo.scaled_repository import Row, ScaledRepository
from parkshare.demo.scaled_sites import ScaledSite, scaled_sites
from parkshare.demo.sites import SiteKind, Use
from parkshare.fees.model import TariffRate, TariffRow
from parkshare.fees.tariff import RatePeriod, Tariff
from parkshare.lots.model import Lot, LotBerths, LotKind, LotStatus, Operator
from parkshare.lots.repository import LotRepository
from parkshare.schedules import service as schedules
from parkshare.schedules.model import SharingRuleBerths, SharingRuleRow, SharingSchedule
from parkshare.schedules.rules import SHANGHAI, BerthCategory, SharingRule

DEFAULT_SEED = 370_000  # Shandong's administrative division code
DAYS = 7  # reservations start within this many days from now


@dataclass(frozen=True)
class ScaledSummary:
    lots: int
    online: int
    operators: int
    berths: int  # physical, all categories
    shared_berths: int  # the car parks' declared (peak) shared berths
    pass_offers: int
    passes: int
    reservations: int
    demo_accounts: bool  # the demo sign-ins were added (their operator is in the network)


def build_scaled(
    session: Session,
    *,
    lots: int,
    clock: Clock,
    seed: int = DEFAULT_SEED,
    policy: Policy | None = None,
    days: int = DAYS,
) -> ScaledSummary:
    """Add a network of ``lots`` car parks, its passes and a week of reservations to an
    empty registry, in the caller's unit of work."""
    policy = policy or Policy()
    now = clock.now()
    sites = scaled_sites(lots, seed=seed, today=now.astimezone(SHANGHAI).date())
    store = ScaledRepository(session)
    operator_ids = _write_operators(store, sites, now)
    built = _write_lots(store, sites, operator_ids, now)
    span = horizon(now, days)
    calendar = schedules.calendar(session)
    plans = {
        shape: plan_shape(shape, calendar, span, horizon_days=policy.window_horizon_days)
        for shape in Shape
    }
    online = [lot for lot in built if lot.site.opened_on is not None]
    plates = Plates(random.Random(seed + 1))
    offers, passes = write_passes(store, online, plans, plates, seed=seed, now=now)
    booker = Booker(store, span, plates, seed=seed, now=now, policy=policy)
    reservations = booker.write(online, plans, passes)
    accounts = LotRepository(session).operator_by_name(DEMO_OPERATOR) is not None
    if accounts:
        add_demo_accounts(session, clock=clock)
    return ScaledSummary(
        lots=len(sites),
        online=len(online),
        operators=len(operator_ids),
        berths=sum(s.total_berths for s in sites),
        shared_berths=sum(sum(s.shared_berths.values()) for s in sites),
        pass_offers=offers,
        passes=sum(sum(held.values()) for held in passes.values()),
        reservations=reservations,
        demo_accounts=accounts,
    )


def shape_of(site: ScaledSite) -> Shape:
    if site.kind is SiteKind.INSTITUTIONAL:
        return Shape.INSTITUTIONAL
    return {Use.MALL: Shape.MALL, Use.HOTEL: Shape.HOTEL}.get(site.use, Shape.OFFICE)


def _lot_kind(site: ScaledSite) -> LotKind:
    return LotKind.INSTITUTIONAL if site.kind is SiteKind.INSTITUTIONAL else LotKind.COMMERCIAL


# --- the network: operators, car parks, berths, schedules, tariffs


def _write_operators(
    store: ScaledRepository, sites: list[ScaledSite], now: datetime
) -> dict[str, int]:
    rows: dict[str, Row] = {}
    for site in sites:
        rows.setdefault(
            site.operator_zh,
            {
                "name": site.operator_zh,
                "name_en": site.operator_en,
                "kind": _lot_kind(site),
                "contact_phone": site.contact_phone,
                "created_at": now,
            },
        )
    ids = store.insert_with_ids(Operator, list(rows.values()), key=("name",))
    return dict(zip(rows, ids, strict=True))


def _write_lots(
    store: ScaledRepository, sites: list[ScaledSite], operator_ids: dict[str, int], now: datetime
) -> list[ScaledLot]:
    rows = [_lot_row(site, operator_ids[site.operator_zh], now) for site in sites]
    ids = store.insert_with_ids(Lot, rows, key=("code",))
    built = [_lot(lot_id, site) for lot_id, site in zip(ids, sites, strict=True)]
    store.insert(LotBerths, [row for lot in built for row in _berth_rows(lot)])
    store.insert(SharingSchedule, [_schedule_row(lot, now) for lot in built])
    rules = [(lot, position, rule) for lot in built for position, rule in enumerate(_rules(lot))]
    rule_ids = store.insert_with_ids(
        SharingRuleRow,
        [
            {
                "lot_id": lot.id,
                "position": position,
                "day_types": ",".join(sorted(rule.day_types)),
                "start": rule.start,
                "end": rule.end,
                "end_day_offset": rule.end_day_offset,
            }
            for lot, position, rule in rules
        ],
        key=("lot_id", "position"),
    )
    store.insert(
        SharingRuleBerths,
        [
            {"rule_id": rule_id, "category": BerthCategory(c), "shared_berths": n}
            for rule_id, (_, _, rule) in zip(rule_ids, rules, strict=True)
            for c, n in sorted(rule.shared_berths.items())
        ],
    )
    _write_tariffs(store, built)
    return built


def _lot(lot_id: int, site: ScaledSite) -> ScaledLot:
    daytime = {c: int(n * site.daytime_share) for c, n in site.shared_berths.items()}
    return ScaledLot(
        id=lot_id,
        site=site,
        shape=shape_of(site),
        capacity={FULL: site.shared_berths, DAYTIME: daytime},
        tariff=tariff_for(site.kind, site.use, site.city.tier),
    )


def _rules(lot: ScaledLot) -> tuple[SharingRule, ...]:
    return shape_rules(lot.shape, lot.capacity[FULL], lot.capacity[DAYTIME])


def _lot_row(site: ScaledSite, operator_id: int, now: datetime) -> Row:
    return {
        "code": site.code,
        "name": site.name_zh,
        "name_en": site.name_en,
        "operator_id": operator_id,
        "kind": _lot_kind(site),
        "use": str(site.use),
        "area": site.area_zh,
        "area_en": site.area_en,
        "address": site.address_zh,
        "lon": site.lon,
        "lat": site.lat,
        "status": LotStatus.ONLINE if site.opened_on else LotStatus.ONBOARDING,
        "opened_on": site.opened_on,
        "contact_phone": site.contact_phone,
        "created_at": now,
        "updated_at": now,
        "version": 1,  # as set_schedule leaves a new car park
    }


def _berth_rows(lot: ScaledLot) -> list[Row]:
    shared = lot.site.shared_berths
    special = shared[BerthCategory.EV_CHARGING] + shared[BerthCategory.ACCESSIBLE]
    physical = {
        BerthCategory.ORDINARY: lot.site.total_berths - special,
        BerthCategory.EV_CHARGING: shared[BerthCategory.EV_CHARGING],
        BerthCategory.ACCESSIBLE: shared[BerthCategory.ACCESSIBLE],
    }
    return [{"lot_id": lot.id, "category": c, "total": n} for c, n in physical.items()]


def _schedule_row(lot: ScaledLot, now: datetime) -> Row:
    quiet = shape_quiet_hours(lot.shape)
    return {
        "lot_id": lot.id,
        "quiet_start": quiet.start if quiet else None,
        "quiet_end": quiet.end if quiet else None,
        "updated_at": now,
    }


@cache
def tariff_for(kind: SiteKind, use: Use, tier: int) -> Tariff:
    """The West Coast's prices, lower in smaller cities: institutions charge little, malls
    and hotels more by day."""
    factor = {1: 1.0, 2: 0.8}.get(tier, 0.65)
    if kind is SiteKind.INSTITUTIONAL:
        cap = 100 * round(1_000 * factor / 100)
        return Tariff(rates=(RatePeriod(time(0), 100),), free_minutes=30, daily_cap_fen=cap)
    day_rate = 50 * round({Use.MALL: 400, Use.HOTEL: 600}.get(use, 500) * factor / 50)
    return Tariff(
        rates=(RatePeriod(time(0), 100), RatePeriod(time(7), day_rate), RatePeriod(time(21), 100)),
        free_minutes=15 if use is Use.MALL else 30,
        billing_unit_minutes=30,
        daily_cap_fen=100 * round((3_000 if use is Use.MALL else 4_000) * factor / 100),
    )


def _write_tariffs(store: ScaledRepository, built: list[ScaledLot]) -> None:
    ids = store.insert_with_ids(
        TariffRow,
        [
            {
                "lot_id": lot.id,
                "free_minutes": lot.tariff.free_minutes,
                "billing_unit_minutes": lot.tariff.billing_unit_minutes,
                "daily_cap_fen": lot.tariff.daily_cap_fen,
            }
            for lot in built
        ],
        key=("lot_id",),
    )
    store.insert(
        TariffRate,
        [
            {"tariff_id": tariff_id, "start": p.start, "fen_per_hour": p.fen_per_hour}
            for tariff_id, lot in zip(ids, built, strict=True)
            for p in lot.tariff.rates
        ],
    )
