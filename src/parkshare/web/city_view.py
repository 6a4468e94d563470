"""What the city dashboard shows, gathered from the services: the targets, every car park's
live state and the utilisation of shared berths, as values ready for the templates."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy.orm import Session

from parkshare.config import Settings
from parkshare.ingest.live import Link, LiveState, live_state
from parkshare.lots.model import Lot, LotKind
from parkshare.lots.repository import LotRepository
from parkshare.reports.repository import TargetRepository
from parkshare.reports.service import TargetRow, targets_report
from parkshare.reports.utilisation import HOURS, UtilisationReport
from parkshare.web.charts import BarChart, ColumnChart, bar_chart, column_chart
from parkshare.web.i18n import translate
from parkshare.web.map import Marker

TARGET_YEARS_BACK = 10  # how far back the dashboard looks for the latest year with targets
STATE_OF_LINK = {
    Link.ONLINE: "live",
    Link.STALE: "stale",
    Link.OFFLINE: "offline",
    Link.NEVER: "not_networked",
}
STATES = ("live", "stale", "offline", "not_networked")


def number(value: int | None) -> str:
    """12345 → "12,345"; None → "—"."""
    return "—" if value is None else f"{value:,}"


def percent(value: Decimal | None) -> str:
    """142.86 → "142.86%"; None → "—"."""
    return "—" if value is None else f"{value:.2f}%"


# --- targets --------------------------------------------------------------------------------


@dataclass(frozen=True)
class TargetLine:
    group: LotKind
    lots: str
    lots_target: str
    berths: str
    berths_target: str
    completion: str
    over: bool  # the target was exceeded
    raw: TargetRow


@dataclass(frozen=True)
class Programme:
    year: int | None
    lines: tuple[TargetLine, ...]
    total_lots: str
    total_berths: str


def target_year(session: Session, today: date, asked: int | None) -> int | None:
    """The year asked for, else the latest year (up to ten back) with targets."""
    if asked is not None:
        return asked
    repository = TargetRepository(session)
    for year in range(today.year, today.year - TARGET_YEARS_BACK - 1, -1):
        if repository.for_year(year, area=""):
            return year
    return None


def programme(session: Session, year: int | None) -> Programme:
    if year is None:
        return Programme(None, (), "0", "0")
    report = targets_report(session, year)
    lines = tuple(
        TargetLine(
            group=row.group,
            lots=number(row.lots),
            lots_target=number(row.lots_target),
            berths=number(row.berths),
            berths_target=number(row.berths_target),
            completion=percent(row.completion_percent),
            over=row.completion_percent is not None and row.completion_percent > 100,
            raw=row,
        )
        for row in report.rows
    )
    return Programme(year, lines, number(report.total_lots), number(report.total_berths))


def statement(line: TargetLine, lang: str) -> str:
    """The line said the way the West Coast article says it."""
    text = translate(lang, f"city.statement.{line.group}", lots=line.lots, berths=line.berths)
    if line.raw.completion_percent is not None:
        text += translate(lang, "city.statement.rate", percent=line.completion)
        if line.over:
            text += translate(lang, "city.statement.over")
    return text


# --- the network now ------------------------------------------------------------------------


@dataclass(frozen=True)
class LotNow:
    lot: Lot
    live: LiveState
    state: str  # live, stale, offline, not_networked


@dataclass(frozen=True)
class Network:
    lots: tuple[LotNow, ...]
    counts: dict[str, int]  # by state
    shared_free: int

    @property
    def networked(self) -> int:
        return len(self.lots) - self.counts.get("not_networked", 0)


def thresholds(settings: Settings) -> tuple[timedelta, timedelta]:
    return (
        timedelta(minutes=settings.live_stale_after_minutes),
        timedelta(minutes=settings.live_offline_after_minutes),
    )


def lot_now(session: Session, lot: Lot, *, now: datetime, settings: Settings) -> LotNow:
    stale, offline = thresholds(settings)
    live = live_state(session, lot, now=now, stale=stale, offline=offline)
    return LotNow(lot, live, STATE_OF_LINK[live.link])


def network(session: Session, *, now: datetime, settings: Settings) -> Network:
    lots = sorted(LotRepository(session).all_with_rules(), key=lambda lot: lot.code)
    states = tuple(lot_now(session, lot, now=now, settings=settings) for lot in lots)
    counts = Counter(state.state for state in states)
    shared_free = sum(s.live.shared_free_now or 0 for s in states)
    return Network(states, {state: counts.get(state, 0) for state in STATES}, shared_free)


def markers(states: tuple[LotNow, ...], lang: str) -> list[Marker]:
    return [
        Marker(
            code=s.lot.code,
            label=f"{lot_name(s.lot, lang)} ({s.lot.code})",
            lon=s.lot.lon,
            lat=s.lot.lat,
            state=s.state,
            detail=_marker_detail(s, lang),
            href=f"/city/lots/{s.lot.code}",
        )
        for s in states
    ]


def _marker_detail(state: LotNow, lang: str) -> str:
    text = translate(lang, f"state.{state.state}")
    if state.live.shared_free_now is not None:
        text += " · " + translate(lang, "city.map.free", free=number(state.live.shared_free_now))
    return text


def lot_name(lot: Lot, lang: str) -> str:
    return lot.name_en if lang == "en" and lot.name_en else lot.name


def area_name(area: str, area_en: str, lang: str) -> str:
    return area_en if lang == "en" and area_en else area


# --- utilisation ----------------------------------------------------------------------------


@dataclass(frozen=True)
class HourRow:
    hour: str  # "08:00"
    offered: str
    occupied: str
    percent: str


@dataclass(frozen=True)
class UseView:
    report: UtilisationReport
    total: str
    offered: str
    occupied: str
    hours: ColumnChart
    hour_rows: tuple[HourRow, ...]
    areas: BarChart
    groups: BarChart


def _float(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def berth_hours(value: float) -> str:
    return f"{value:,.1f}"


def _with_lots(name: str, lots: int, lang: str) -> str:
    return f"{name} · {translate(lang, 'city.use.lots', lots=lots)}"


def use_view(report: UtilisationReport, lang: str) -> UseView:
    labels = [f"{hour:02d}" for hour in range(HOURS)]
    by_hour = report.by_hour
    hours = column_chart([_float(s.percent) for s in by_hour], labels, label_every=3)
    rows = tuple(
        HourRow(
            f"{hour:02d}:00", berth_hours(s.offered), berth_hours(s.occupied), percent(s.percent)
        )
        for hour, s in enumerate(by_hour)
    )
    areas = bar_chart(
        [
            (_with_lots(area_name(a.area, a.area_en, lang), a.lots, lang), _float(a.share.percent))
            for a in report.by_area
        ]
    )
    groups = bar_chart(
        [
            (
                _with_lots(translate(lang, f"city.group.{g.group}"), g.lots, lang),
                _float(g.share.percent),
            )
            for g in report.by_group
        ]
    )
    total = report.total
    return UseView(
        report=report,
        total=percent(total.percent),
        offered=berth_hours(total.offered),
        occupied=berth_hours(total.occupied),
        hours=hours,
        hour_rows=rows,
        areas=areas,
        groups=groups,
    )
