"""The West Coast demo network: 32 institutional car parks with 2,940 shared berths and 85
commercial car parks with 14,623, inside Huangdao district, with schedules, tariffs and the
2022 targets that make the report print the article's figures.

Everything is derived from fixed seeds: two builds give the same database.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy.orm import Session

from parkshare.clock import Clock
from parkshare.demo.accounts import add_demo_accounts
from parkshare.demo.sites import Site, SiteKind, Use, west_coast_sites
from parkshare.fees.service import tariff_row
from parkshare.fees.tariff import RatePeriod, Tariff
from parkshare.lots.model import Lot, LotBerths, LotKind, LotStatus, Operator
from parkshare.lots.repository import LotRepository
from parkshare.reports.model import Target
from parkshare.schedules import presets
from parkshare.schedules.rules import BerthCategory, Berths, QuietHours, SharingRule
from parkshare.schedules.service import set_schedule

# The targets Qingdao set the district for 2022: the institutional task (met exactly) and the
# commercial networking task, over-fulfilled at 14,623 / 10,236 = 142.86%.
TARGETS_2022 = (
    (LotKind.INSTITUTIONAL, 32, 2_940),
    (LotKind.COMMERCIAL, None, 10_236),
)
OPENING_PERIOD = (date(2022, 1, 4), date(2022, 6, 20))  # all opened before the mid-year report


@dataclass(frozen=True)
class DemoSummary:
    lots: int
    shared_berths: int


def is_built(session: Session) -> bool:
    return LotRepository(session).count() > 0


def build(session: Session, *, clock: Clock) -> DemoSummary:
    """Add the West Coast network to an empty registry."""
    rng = random.Random(2022)
    now = clock.now()
    operators: dict[str, Operator] = {}
    for site in west_coast_sites():
        operator = operators.get(site.operator_zh)
        if operator is None:
            operator = Operator(
                name=site.operator_zh,
                name_en=site.operator_en,
                kind=_kind(site),
                contact_phone=site.contact_phone,
                created_at=now,
            )
            operators[site.operator_zh] = operator
            session.add(operator)
        lot = _lot(site, operator, rng, now)
        session.add(lot)
        set_schedule(lot, _rules(site), _quiet_hours(site), clock=clock)
        lot.tariff = tariff_row(_tariff(site))
    session.add_all(
        Target(year=2022, group=group, area="", lots=lots, berths=berths)
        for group, lots, berths in TARGETS_2022
    )
    session.flush()
    add_demo_accounts(session, clock=clock)
    sites = west_coast_sites()
    return DemoSummary(
        lots=len(sites), shared_berths=sum(sum(s.shared_berths.values()) for s in sites)
    )


def _kind(site: Site) -> LotKind:
    return LotKind.INSTITUTIONAL if site.kind is SiteKind.INSTITUTIONAL else LotKind.COMMERCIAL


def _lot(site: Site, operator: Operator, rng: random.Random, now: datetime) -> Lot:
    shared = _berths(site)
    special = shared[BerthCategory.EV_CHARGING] + shared[BerthCategory.ACCESSIBLE]
    physical = {
        BerthCategory.ORDINARY: site.total_berths - special,
        BerthCategory.EV_CHARGING: shared[BerthCategory.EV_CHARGING],
        BerthCategory.ACCESSIBLE: shared[BerthCategory.ACCESSIBLE],
    }
    first, last = OPENING_PERIOD
    opened = first + timedelta(days=rng.randrange((last - first).days + 1))
    return Lot(
        code=site.code,
        name=site.name_zh,
        name_en=site.name_en,
        operator=operator,
        kind=_kind(site),
        use=str(site.use),
        area=site.area_zh,
        area_en=site.area_en,
        address=site.address_zh,
        lon=site.lon,
        lat=site.lat,
        status=LotStatus.ONLINE,
        opened_on=opened,
        contact_phone=site.contact_phone,
        created_at=now,
        updated_at=now,
        berths=[LotBerths(category=c, total=n) for c, n in physical.items()],
    )


def _berths(site: Site) -> dict[BerthCategory, int]:
    return {c: site.shared_berths.get(str(c), 0) for c in BerthCategory}


def _rules(site: Site) -> tuple[SharingRule, ...]:
    shared = _berths(site)
    if site.kind is SiteKind.INSTITUTIONAL:
        return presets.qingdao_institutional(shared)
    if site.use is Use.MALL:
        return presets.mall(shared, daytime=_part(shared, 0.25))
    if site.use is Use.HOTEL:
        return presets.hotel(shared)
    return presets.office(shared)


def _part(shared: Berths, share: float) -> Berths:
    return {c: int(n * share) for c, n in shared.items()}


def _quiet_hours(site: Site) -> QuietHours | None:
    return presets.QINGDAO_QUIET_HOURS if site.kind is SiteKind.INSTITUTIONAL else None


def _tariff(site: Site) -> Tariff:
    """Plausible Huangdao prices: institutions charge little, malls and hotels more by day."""
    if site.kind is SiteKind.INSTITUTIONAL:
        return Tariff(rates=(RatePeriod(time(0), 100),), free_minutes=30, daily_cap_fen=1_000)
    day_rate = {Use.MALL: 400, Use.HOTEL: 600}.get(site.use, 500)
    return Tariff(
        rates=(RatePeriod(time(0), 100), RatePeriod(time(7), day_rate), RatePeriod(time(21), 100)),
        free_minutes=15 if site.use is Use.MALL else 30,
        billing_unit_minutes=30,
        daily_cap_fen=3_000 if site.use is Use.MALL else 4_000,
    )
