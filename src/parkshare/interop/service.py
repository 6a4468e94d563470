"""Use cases of interoperability: the open feeds (ParkAPI, DATEX II) and the registry as a
spreadsheet (export, and an import that is all or nothing)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from parkshare.availability.service import availability_at
from parkshare.calendar import OfficialCalendar
from parkshare.clock import Clock
from parkshare.config import Settings
from parkshare.errors import ImportInvalid, ParkshareError
from parkshare.geo import CoordSystem
from parkshare.ingest.live import live_state
from parkshare.interop.datex2 import datex2_status_publication
from parkshare.interop.parkapi import parkapi_feed
from parkshare.interop.presets import CUSTOM, has_rules, preset_of, preset_rules
from parkshare.interop.rows import (
    COLUMNS,
    MAX_PROBLEMS,
    LotRecord,
    RowProblem,
    export_row,
    validate_table,
)
from parkshare.interop.sites import FeedSite, SharingNow, peak_by_category
from parkshare.interop.spreadsheet import read_table, write_xlsx
from parkshare.lots.model import Lot, LotBerths, LotStatus, Operator
from parkshare.lots.repository import LotRepository
from parkshare.schedules import service as schedules
from parkshare.schedules.rules import window_at

# --- the feeds ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Thresholds:
    stale: timedelta
    offline: timedelta

    @classmethod
    def of(cls, settings: Settings) -> Thresholds:
        return cls(
            stale=timedelta(minutes=settings.live_stale_after_minutes),
            offline=timedelta(minutes=settings.live_offline_after_minutes),
        )


def feed_sites(session: Session, *, now: datetime, thresholds: Thresholds) -> list[FeedSite]:
    """Every car park open to the public (online or suspended; not those still onboarding),
    by code, with its live state and whether sharing is open now."""
    lots = [
        lot
        for lot in LotRepository(session).all_with_rules()
        if lot.status is not LotStatus.ONBOARDING
    ]
    calendar = schedules.calendar(session)
    return [
        FeedSite(
            lot=lot,
            live=live_state(
                session, lot, now=now, stale=thresholds.stale, offline=thresholds.offline
            ),
            sharing=_sharing_now(session, lot, now, calendar),
        )
        for lot in sorted(lots, key=lambda lot: lot.code)
    ]


def _sharing_now(
    session: Session, lot: Lot, now: datetime, calendar: OfficialCalendar
) -> SharingNow:
    try:
        answer = availability_at(session, lot, now, now + timedelta(minutes=1), calendar=calendar)
        window = window_at(schedules.schedule_of(lot), calendar, now, horizon_days=1)
    except ParkshareError:  # e.g. the official calendar does not cover today
        return SharingNow(open=None, shared=None)
    online = lot.status is LotStatus.ONLINE
    shared = sum(window.shared_at(now).values()) if window is not None and online else 0
    return SharingNow(open=answer.servable, shared=shared)


def parkapi_export(session: Session, *, now: datetime, thresholds: Thresholds) -> dict[str, Any]:
    return parkapi_feed(feed_sites(session, now=now, thresholds=thresholds))


def datex2_export(session: Session, *, now: datetime, thresholds: Thresholds) -> bytes:
    sites = feed_sites(session, now=now, thresholds=thresholds)
    return datex2_status_publication(sites, published_at=now)


# --- the registry as a spreadsheet ----------------------------------------------------------


def export_registry(session: Session) -> bytes:
    """Every car park, by code, as an .xlsx workbook with the import's columns."""
    lots = sorted(LotRepository(session).all_with_rules(), key=lambda lot: lot.code)
    rows = (export_row(lot, preset_of(lot, peak_by_category(lot))) for lot in lots)
    return write_xlsx([column.label for column in COLUMNS], rows, title="停车场 car parks")


@dataclass(frozen=True)
class ImportResult:
    rows: int
    created: int
    updated: int
    operators_created: int
    dry_run: bool
    ignored_columns: list[str] = field(default_factory=list)


def import_registry(
    session: Session,
    data: bytes,
    *,
    filename: str = "",
    coords: CoordSystem = CoordSystem.WGS84,
    dry_run: bool = False,
    clock: Clock,
) -> ImportResult:
    """Create the car parks whose codes are new and update the others, or, if any row is bad,
    change nothing and raise ``ImportInvalid`` listing every problem."""
    validated = validate_table(read_table(data, filename=filename), coords=coords)
    records = [record for _, record in validated.records]
    existing = _existing(session, records, lock=not dry_run)
    problems = validated.problems + _conflicts(validated.records, existing)
    if problems:
        raise ImportInvalid(
            f"{len(problems)} problem(s) found: nothing was imported.",
            problems=[problem.model_dump() for problem in problems[:MAX_PROBLEMS]],
            problem_count=len(problems),
            ignored_columns=validated.ignored_columns,
        )
    operators_created = 0 if dry_run else _apply(session, records, existing, clock=clock)
    created = sum(1 for record in records if record.code not in existing)
    return ImportResult(
        rows=len(records),
        created=created,
        updated=len(records) - created,
        operators_created=operators_created,
        dry_run=dry_run,
        ignored_columns=validated.ignored_columns,
    )


def _existing(session: Session, records: Sequence[LotRecord], *, lock: bool) -> dict[str, Lot]:
    """The registry's car parks by code; those the import updates are locked first (a
    schedule change takes the car park's lock, as bookings do) and then read again."""
    repository = LotRepository(session)
    lots = {lot.code: lot for lot in repository.all_with_rules()}
    updated = sorted(record.code for record in records if record.code in lots)
    if lock and updated:
        for code in updated:
            repository.lock(lots[code].id)
        session.expire_all()
        lots = {lot.code: lot for lot in repository.all_with_rules()}
    return lots


def _conflicts(
    records: Sequence[tuple[int, LotRecord]], existing: dict[str, Lot]
) -> list[RowProblem]:
    """Problems only the registry reveals: rules to keep that do not exist, or that share
    more berths than the row leaves."""
    problems: list[RowProblem] = []
    for number, record in records:
        lot = existing.get(record.code)
        if lot is None:
            if record.schedule == CUSTOM:
                problem = "a new car park has no rules to keep: name a preset, or leave it blank"
                problems.append(RowProblem(row=number, column="schedule", problem=problem))
            continue
        if record.preset is not None:
            continue
        for category, shared in peak_by_category(lot).items():
            if shared > record.berths[category]:
                problem = (
                    f"its sharing rules share {shared} {category} berths; name a preset to "
                    "change them, or keep at least that many"
                )
                problems.append(RowProblem(row=number, column=str(category), problem=problem))
    return problems


def _apply(
    session: Session, records: Sequence[LotRecord], existing: dict[str, Lot], *, clock: Clock
) -> int:
    """Write every record; returns how many operators were created."""
    now = clock.now()
    repository = LotRepository(session)
    operators: dict[str, Operator] = {}
    created = 0
    for record in records:
        operator = operators.get(record.operator) or repository.operator_by_name(record.operator)
        if operator is None:
            operator = Operator(
                name=record.operator,
                name_en=record.operator_en,
                kind=record.kind,
                contact_phone=record.contact_phone,
                created_at=now,
            )
            session.add(operator)
            created += 1
        operators[record.operator] = operator
        lot = existing.get(record.code)
        if lot is None:
            lot = Lot(code=record.code, created_at=now, berths=[])
            session.add(lot)
        _fill(lot, record, operator, now)
        if record.preset is not None:
            _schedule(session, lot, record, clock=clock)
    session.flush()
    return created


def _schedule(session: Session, lot: Lot, record: LotRecord, *, clock: Clock) -> None:
    assert record.preset is not None
    rules, quiet_hours = preset_rules(record.preset, record.shared)
    if lot.id is not None and lot.rules and has_rules(lot, rules, quiet_hours):
        return
    schedules.set_schedule(lot, rules, quiet_hours, clock=clock)


def _fill(lot: Lot, record: LotRecord, operator: Operator, now: datetime) -> None:
    lot.name, lot.name_en = record.name, record.name_en
    lot.operator = operator
    lot.kind, lot.use, lot.status = record.kind, record.use, record.status
    lot.area, lot.area_en, lot.address = record.area, record.area_en, record.address
    lot.lon, lot.lat = record.lon, record.lat
    lot.opened_on, lot.contact_phone = record.opened_on, record.contact_phone
    lot.updated_at = now
    rows = {row.category: row for row in lot.berths}
    for category, total in record.berths.items():
        if category in rows:
            rows[category].total = total
        elif total:
            lot.berths.append(LotBerths(category=category, total=total))
