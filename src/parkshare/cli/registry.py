"""Commands of the registry: the demo, serving, car parks, availability, calendar, reports."""

from __future__ import annotations

import json
import sys
import time
from datetime import date, timedelta
from typing import Annotated

import typer
from rich.table import Table

from parkshare.availability.schemas import AvailabilityRead
from parkshare.availability.service import lot_availability
from parkshare.calendar import DayType
from parkshare.cli.common import (
    Format,
    FormatOption,
    app,
    calendar_app,
    console,
    fail,
    local_instant,
    lots_app,
    print_json,
    report_app,
    unit_of_work,
)
from parkshare.config import get_settings
from parkshare.db import Database
from parkshare.demo import activity, scaled, westcoast
from parkshare.demo.accounts import DEMO_ACCOUNTS, DEMO_OPERATOR
from parkshare.lots import service as lots
from parkshare.lots.model import LotKind, LotStatus
from parkshare.lots.schemas import LotDetail, LotRead
from parkshare.reports.schemas import TargetsReportRead
from parkshare.reports.service import targets_report
from parkshare.reservations import service as reservations
from parkshare.schedules import service as schedules
from parkshare.schedules.rules import BerthCategory


@app.command()
def demo(
    rebuild: Annotated[bool, typer.Option(help="Drop everything and build again.")] = False,
    traffic: Annotated[
        bool, typer.Option(help="Replay yesterday's and today's gate traffic (about 20 s).")
    ] = True,
    scale: Annotated[
        int | None,
        typer.Option(
            min=1,
            max=200_000,
            help="Build a network of N car parks over Shandong instead, with monthly passes "
            "and a week of reservations from now (for benchmarks; no traffic replay).",
        ),
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of the --scale network.")] = scaled.DEFAULT_SEED,
) -> None:
    """Build the West Coast demo network (only when the database is empty, or with --rebuild)."""
    settings = get_settings()
    if settings.environment == "production":
        raise fail(
            "demo_in_production", "The demo (with its known passwords) is not for production."
        )
    database = Database(settings.database_url)
    try:
        if rebuild:
            database.reset()
        database.migrate()
        if scale is not None:
            _demo_scaled(database, lots=scale, seed=seed)
            return
        with database.session(write=True) as session:
            if westcoast.is_built(session):
                console.print("The demo database is already built (use --rebuild to start over).")
                return
            summary = westcoast.build(session, clock=settings.clock())
        console.print(
            f"Built the West Coast demo: {summary.lots} car parks, "
            f"{summary.shared_berths:,} shared berths."
        )
        console.print("Demo sign-ins (local demonstration only):")
        for account in DEMO_ACCOUNTS:
            console.print(f"  {account.role:<8} {account.login:<12} {account.password}")
        if not traffic:
            return
        replayed = activity.replay_recent_activity(
            database, clock=settings.clock(), policy=settings.policy()
        )
        if replayed.skipped:
            console.print(f"No gate traffic replayed: {replayed.skipped}")
            return
        console.print(
            f"Replayed gate traffic of {replayed.day} and today until now: "
            f"{replayed.events:,} events, {replayed.counts:,} counts ({replayed.seconds:.0f} s)."
        )
    finally:
        database.dispose()


def _demo_scaled(database: Database, *, lots: int, seed: int) -> None:
    settings = get_settings()
    started = time.perf_counter()
    with database.session(write=True) as session:
        if westcoast.is_built(session):
            console.print("The demo database is already built (use --rebuild to start over).")
            return
        summary = scaled.build_scaled(
            session, lots=lots, clock=settings.clock(), seed=seed, policy=settings.policy()
        )
    seconds = time.perf_counter() - started
    console.print(
        f"Built a network of {summary.lots:,} car parks over Shandong in {seconds:.1f} s: "
        f"{summary.online:,} online, {summary.operators:,} operators, {summary.berths:,} "
        f"berths ({summary.shared_berths:,} shared), {summary.pass_offers:,} pass offers, "
        f"{summary.passes:,} passes, {summary.reservations:,} reservations over the next "
        f"{scaled.DAYS} days."
    )
    if summary.demo_accounts:
        console.print(f"Demo sign-ins (local demonstration only; operator {DEMO_OPERATOR}):")
        for account in DEMO_ACCOUNTS:
            console.print(f"  {account.role:<8} {account.login:<12} {account.password}")
    else:
        console.print(f"No demo sign-ins: their operator {DEMO_OPERATOR} is not in this network.")
    console.print("No gate traffic replayed: the replay follows the West Coast network.")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
) -> None:
    """Serve the HTTP API (/api/v1, docs at /docs) and the web pages."""
    import uvicorn

    from parkshare.app import create_app
    from parkshare.logs import log_config

    uvicorn.run(create_app(get_settings()), host=host, port=port, log_config=log_config())


@lots_app.command("list")
def lots_list(
    kind: Annotated[
        LotKind | None, typer.Option(help="institutional, commercial, residential")
    ] = None,
    area: Annotated[str | None, typer.Option(help="街道 (sub-district), e.g. 长江路街道")] = None,
    status: Annotated[LotStatus | None, typer.Option()] = None,
    format: FormatOption = Format.TABLE,
) -> None:
    """List car parks."""
    with unit_of_work() as (session, _):
        page = lots.list_lots(session, kind=kind, area=area, status=status, limit=lots.MAX_PAGE)
        items = [LotRead.of(lot) for lot in page.items]
    if format is Format.JSON:
        print_json(items)
        return
    table = Table("code", "name", "kind", "area", "shared", "total", "status")
    for item in items:
        table.add_row(
            item.code,
            item.name,
            item.kind,
            item.area,
            f"{item.shared_berths:,}",
            f"{item.total_berths:,}",
            item.status,
        )
    console.print(table)
    console.print(f"{len(items)} car parks, {sum(i.shared_berths for i in items):,} shared berths")


@lots_app.command("show")
def lots_show(code: str, format: FormatOption = Format.TABLE) -> None:
    """Show one car park with its sharing schedule."""
    with unit_of_work() as (session, _):
        detail = LotDetail.of(lots.get_lot(session, code))
    if format is Format.JSON:
        print_json(detail)
        return
    console.print(f"[bold]{detail.code}[/] {detail.name} ({detail.name_en})")
    console.print(f"{detail.kind} · {detail.use} · {detail.area} · {detail.address}")
    console.print(f"operator: {detail.operator.name} · status: {detail.status}")
    console.print(f"berths: {detail.total_berths}, shared (peak): {detail.shared_berths}")
    table = Table("day types", "from", "until", "shared berths")
    for rule in detail.schedule.rules:
        until = f"{rule.end:%H:%M}" + (f" (+{rule.end_day_offset}d)" if rule.end_day_offset else "")
        shared = ", ".join(f"{c}: {n}" for c, n in rule.shared_berths.items() if n)
        table.add_row(", ".join(rule.day_types), f"{rule.start:%H:%M}", until, shared)
    console.print(table)
    if quiet := detail.schedule.quiet_hours:
        console.print(f"quiet hours (no entry or exit): {quiet.start:%H:%M}–{quiet.end:%H:%M}")


@lots_app.command("suspend")
def lots_suspend(
    code: str,
    start: Annotated[str, typer.Option("--from", help="ISO date-time; local time if no offset")],
    resume: Annotated[str, typer.Option("--until", help="announced resume time")],
    reason: Annotated[str, typer.Option(help="shown to drivers")],
    emergency: Annotated[bool, typer.Option(help="skip the notice period")] = False,
) -> None:
    """Suspend sharing at a car park for a period (an event, an emergency)."""
    with unit_of_work(write=True) as (session, settings):
        row, hit = reservations.suspend_sharing(
            session,
            code,
            start=local_instant(start, settings, "--from"),
            resume=local_instant(resume, settings, "--until"),
            reason=reason,
            emergency=emergency,
            min_notice=timedelta(minutes=settings.suspension_min_notice_minutes),
            clock=settings.clock(),
        )
        console.print(
            f"Sharing at {code} suspended from {row.start:%Y-%m-%d %H:%M} UTC; "
            f"{len(hit)} reservations told."
        )


@app.command()
def availability(
    code: str,
    start: Annotated[str, typer.Option("--from", help="ISO date-time; local time if no offset")],
    end: Annotated[str, typer.Option("--to", help="ISO date-time; local time if no offset")],
    category: Annotated[BerthCategory, typer.Option()] = BerthCategory.ORDINARY,
    format: FormatOption = Format.TABLE,
) -> None:
    """Free shared berths at a car park over [from, to), with its must-leave-by time."""
    with unit_of_work() as (session, settings):
        answer = lot_availability(
            session,
            code,
            local_instant(start, settings, "--from"),
            local_instant(end, settings, "--to"),
            category=category,
            horizon_days=settings.window_horizon_days,
        )
        result = AvailabilityRead.of(code, answer)
    if format is Format.JSON:
        print_json(result)
        return
    if result.servable:
        leave = f"{result.must_leave_by:%Y-%m-%d %H:%M}" if result.must_leave_by else "open-ended"
        console.print(f"free: {result.free} {result.category} · must leave by {leave}")
    else:
        console.print(f"reason: {result.reason} — {result.reason_message}")


@report_app.command("targets")
def report_targets(
    year: Annotated[int, typer.Option(min=2000, max=2100)], format: FormatOption = Format.TABLE
) -> None:
    """Openings in a year against the city's targets, by group."""
    with unit_of_work() as (session, _):
        report = TargetsReportRead.of(targets_report(session, year))
    if format is Format.JSON:
        print_json(report)
        return
    table = Table("group", "car parks", "berths", "berth target", "completion", title=f"{year}")
    for row in report.rows:
        done = f"{row.completion_percent:.2f}%" if row.completion_percent is not None else "—"
        target = f"{row.berths_target:,}" if row.berths_target else "—"
        table.add_row(row.label_zh, str(row.lots), f"{row.berths:,}", target, done)
    table.add_row("合计 all", str(report.total_lots), f"{report.total_berths:,}", "", "")
    console.print(table)


@calendar_app.command("show")
def calendar_show(
    start: Annotated[str, typer.Argument(help="first date, YYYY-MM-DD")],
    days: Annotated[int, typer.Option(min=1, max=366)] = 7,
    format: FormatOption = Format.TABLE,
) -> None:
    """Day types from a date on (official calendar plus overrides)."""
    first = _parse_date(start)
    with unit_of_work() as (session, _):
        calendar = schedules.calendar(session)
        rows = [(first + timedelta(days=n)) for n in range(days)]
        types = [(day, calendar.day_type(day)) for day in rows]
    if format is Format.JSON:
        sys.stdout.write(
            json.dumps([{"date": d.isoformat(), "day_type": t} for d, t in types]) + "\n"
        )
        return
    table = Table("date", "weekday", "day type")
    for day, day_type in types:
        table.add_row(day.isoformat(), f"{day:%a}", day_type)
    console.print(table)


@calendar_app.command("override")
def calendar_override(
    day: Annotated[str, typer.Argument(help="YYYY-MM-DD")],
    day_type: Annotated[DayType, typer.Argument(help="the day type to apply")],
    note: Annotated[str, typer.Option(help="why")] = "",
) -> None:
    """Set the day type of one date over the official calendar."""
    with unit_of_work(write=True) as (session, settings):
        schedules.override_day(
            session, _parse_date(day), day_type, note=note, clock=settings.clock()
        )
    console.print(f"{day} is now a {day_type}.")


def _parse_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise fail("invalid_date", f"{text!r} is not a date such as 2022-10-01.") from None
