"""Commands: simulate (a day of gate traffic, replayed through the real ingest path)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import Annotated

import typer
from rich.table import Table

from parkshare.cli.common import app, console, fail
from parkshare.config import Settings, get_settings
from parkshare.db import Database
from parkshare.demo.replay import Outcome, Plan, run
from parkshare.errors import ParkshareError


class Via(StrEnum):
    HTTP = "http"
    MQTT = "mqtt"


@app.command()
def simulate(
    day: Annotated[
        str, typer.Option("--date", help="The local day to simulate: YYYY-MM-DD, or today.")
    ] = "2022-06-28",
    via: Annotated[Via, typer.Option(help="http (a running server) or mqtt (a broker).")] = (
        Via.HTTP
    ),
    speed: Annotated[
        float, typer.Option(min=0, help="Times faster than real time; 0: as fast as possible.")
    ] = 60.0,
    url: Annotated[str, typer.Option(help="The server's base URL (--via http).")] = (
        "http://127.0.0.1:8000"
    ),
    mqtt_host: Annotated[str, typer.Option(help="The broker (--via mqtt).")] = "127.0.0.1",
    mqtt_port: Annotated[int, typer.Option(help="The broker's port.")] = 1883,
    key: Annotated[
        str | None, typer.Option(help="An ingest key (psk_…); without it one is created.")
    ] = None,
    seed: Annotated[int, typer.Option(help="Another seed, another day.")] = 1,
    lot: Annotated[
        list[str] | None, typer.Option(help="Only this car park; repeat for several.")
    ] = None,
    start: Annotated[
        str | None,
        typer.Option(help="Replay from HH:MM (or now) of the day; what came before goes at once."),
    ] = None,
    tick: Annotated[
        float | None,
        typer.Option(min=1, help="Seconds of the day per push (default: a push a wall second)."),
    ] = None,
) -> None:
    """Simulate a day of gate traffic at the car parks and send it to a server.

    One realistic day (--date, --seed) of entries, exits and free-berth counts for the
    registry's car parks in PARKSHARE_DATABASE_URL, with a few duplicates, late events and
    overstays, goes through the real ingest path: HTTP batches to --url, or MQTT messages
    to the broker (--via mqtt, answered by a running `parkshare ingest mqtt`). Without --key
    a new ingest key is created for these car parks, and printed.

    The server refuses events more than 5 minutes ahead of its own clock. Two ways to run the
    demo (build it first: parkshare demo):

    History, fast: start `parkshare serve` with no frozen clock (no PARKSHARE_NOW), then
    `parkshare simulate --date 2022-06-28 --speed 60`. 2022 is in the past, so everything is
    accepted and the day's sessions and occupancy fill in within about 24 minutes. The live
    state (/api/v1/lots/CODE/live) compares data with the server's clock, so it calls these
    car parks offline: the history moves, the live view does not.

    The day opens with some 15,000 cars already inside (their entries go first) and peaks
    at about 4.5 items per simulated second in the rush hours: 270 a second at --speed 60.
    If the server cannot keep up, the progress line says how far behind the replay is.

    Live: `parkshare simulate --date today --start now --speed 1` against the same server
    sends the day so far at once, then every event when it happens: the live state, and any
    map drawn from it, moves in real time. A server frozen with PARKSHARE_NOW accepts events
    up to 5 minutes after that instant only.
    """
    settings = _settings()
    clock = settings.clock()
    simulated = _day(day, clock.now().astimezone(settings.tz).date())
    plan = Plan(
        day=simulated,
        via=via.value,
        speed=speed,
        tick=timedelta(seconds=tick) if tick else None,
        start=_start(start, simulated, settings),
        url=url,
        mqtt_host=mqtt_host,
        mqtt_port=mqtt_port,
        key=key,
        seed=seed,
        lots=tuple(lot or ()),
    )
    database = Database(settings.database_url)
    try:
        outcome = run(plan, database=database, clock=clock, console=console)
    except ParkshareError as exc:
        raise fail(exc.code, exc.message) from None
    finally:
        database.dispose()
    _report(outcome, plan)
    if outcome.tally.failed - outcome.tally.reasons["no_answer"]:
        raise typer.Exit(1)


def _settings() -> Settings:
    try:
        return get_settings()
    except ValueError as exc:
        raise fail("invalid_configuration", str(exc)) from None


def _day(text: str, today: date) -> date:
    if text == "today":
        return today
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise fail("invalid_input", f"--date {text!r} is not YYYY-MM-DD or today.") from None


def _start(text: str | None, day: date, settings: Settings) -> datetime | None:
    if text is None:
        return None
    if text == "now":
        return settings.clock().now().astimezone(settings.tz)
    try:
        return datetime.combine(day, time.fromisoformat(text), settings.tz)
    except ValueError:
        raise fail("invalid_input", f"--start {text!r} is not HH:MM or now.") from None


def _report(outcome: Outcome, plan: Plan) -> None:
    tally, summary = outcome.tally, outcome.summary
    title = f"{summary.day} ({summary.day_type}), seed {summary.seed}"
    table = Table("", "", title=title + (": stopped early" if outcome.stopped else ""))
    table.add_row("car parks", f"{len(summary.lots)}")
    table.add_row("gate events on the day", f"{summary.events:,}")
    table.add_row("cars inside at midnight", f"{summary.carried_over:,}")
    table.add_row("peak occupancy", f"{sum(lot.peak_occupancy for lot in summary.lots):,}")
    table.add_row("overstays", f"{sum(lot.overstays for lot in summary.lots):,}")
    table.add_row("items sent", f"{tally.sent:,} in {tally.batches:,} batches via {plan.via}")
    table.add_row("accepted", f"{tally.accepted:,}")
    table.add_row("duplicates", f"{tally.duplicates:,} (resent on purpose: {summary.duplicates:,})")
    table.add_row("rejected", f"{tally.rejected:,}")
    table.add_row("flagged counts", f"{tally.flagged:,}")
    if tally.failed:
        table.add_row("no answer", f"{tally.failed:,}")
    rate = tally.sent / outcome.seconds if outcome.seconds else 0.0
    table.add_row("wall time", f"{outcome.seconds:,.1f} s ({rate:,.0f} items/s)")
    console.print(table)
    if tally.reasons:
        reasons = ", ".join(f"{code} {n:,}" for code, n in tally.reasons.most_common())
        console.print(f"reasons: {reasons}", highlight=False)
    if tally.reasons["no_answer"] and plan.via == "mqtt":
        console.print("No answer from an ingest worker: is `parkshare ingest mqtt` running?")
