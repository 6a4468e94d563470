"""Commands of booking: reserve, cancel, passes, fees, the periodic sweep and the outbox."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from parkshare.cli.common import (
    Format,
    FormatOption,
    app,
    console,
    fees_app,
    local_instant,
    outbox_app,
    passes_app,
    print_json,
    unit_of_work,
)
from parkshare.fees.api import StatementRead, parse_month
from parkshare.fees.statement import statement
from parkshare.geo import CoordSystem
from parkshare.outbox import service as outbox
from parkshare.passes import service as passes
from parkshare.passes.api import AllocationRead, ApplicationRead
from parkshare.passes.model import PassKind
from parkshare.reservations import lifecycle
from parkshare.reservations import service as reservations
from parkshare.reservations.model import Reservation
from parkshare.reservations.schemas import ReservationRead, WaitlistRead
from parkshare.schedules.rules import BerthCategory

FromOption = Annotated[str, typer.Option("--from", help="ISO date-time; local time if no offset")]
ToOption = Annotated[str, typer.Option("--to", help="ISO date-time; local time if no offset")]


@app.command()
def reserve(
    lot: str,
    plate: str,
    start: FromOption,
    end: ToOption,
    category: Annotated[BerthCategory, typer.Option()] = BerthCategory.ORDINARY,
    waitlist: Annotated[bool, typer.Option(help="wait for a berth if full")] = False,
    request_id: Annotated[
        str | None, typer.Option(help="retrying with the same id returns the same booking")
    ] = None,
    format: FormatOption = Format.TABLE,
) -> None:
    """Reserve a shared berth at a car park for a plate."""
    with unit_of_work(write=True) as (session, settings):
        request = reservations.ReservationRequest(
            lot=lot,
            plate=plate,
            start=local_instant(start, settings, "--from"),
            end=local_instant(end, settings, "--to"),
            category=category,
            waitlist=waitlist,
        )
        outcome = reservations.reserve(
            session,
            request,
            idempotency_key=request_id,
            policy=settings.policy(),
            clock=settings.clock(),
        )
        result: ReservationRead | WaitlistRead = (
            ReservationRead.of(outcome, lot)
            if isinstance(outcome, Reservation)
            else WaitlistRead.of(outcome, lot)
        )
    if format is Format.JSON:
        print_json(result)
    elif isinstance(result, ReservationRead):
        console.print(
            f"Reserved {result.ref}: {result.plate} at {lot} from {result.start:%Y-%m-%d %H:%M} "
            f"to {result.end:%Y-%m-%d %H:%M}; must leave by {result.must_leave_by:%Y-%m-%d %H:%M}."
        )
    else:
        console.print(f"{lot} is full; waiting as {result.ref}. You will be told if a berth frees.")


@app.command()
def cancel(ref: str, format: FormatOption = Format.TABLE) -> None:
    """Cancel a reservation (free until the policy's lead time, then a fee)."""
    with unit_of_work(write=True) as (session, settings):
        cancelled = reservations.cancel(
            session, ref, policy=settings.policy(), clock=settings.clock()
        )
        result = ReservationRead.of(cancelled, "")
    if format is Format.JSON:
        print_json(result)
    else:
        console.print(f"Cancelled {ref}; fee {result.cancel_fee_fen / 100:.2f} yuan.")


@app.command()
def sweep() -> None:
    """Release no-shows (their berths go to the waitlist) and record overstays. Run it every
    few minutes (cron or a systemd timer)."""
    with unit_of_work(write=True) as (session, settings):
        policy, clock = settings.policy(), settings.clock()
        released = lifecycle.release_no_shows(session, policy=policy, clock=clock)
        overstays = lifecycle.detect_overstays(session, policy=policy, clock=clock)
    console.print(f"released {len(released)} no-shows; recorded {len(overstays)} overstays")


@passes_app.command("offer")
def passes_offer(
    lot: str,
    kind: PassKind,
    month: Annotated[str, typer.Option(help="YYYY-MM")],
    quota: Annotated[int, typer.Option(min=0)],
    price_fen: Annotated[int, typer.Option(min=0, help="price in fen (分)")],
) -> None:
    """Offer passes of a kind at a car park for a month."""
    with unit_of_work(write=True) as (session, _):
        offer = passes.offer_passes(
            session, lot, kind, parse_month(month), quota=quota, price_fen=price_fen
        )
        console.print(f"{lot} offers {offer.quota} {kind} passes for {offer.month:%Y-%m}.")


@passes_app.command("apply")
def passes_apply(
    plate: str,
    kind: PassKind,
    month: Annotated[str, typer.Option(help="YYYY-MM")],
    lon: Annotated[float, typer.Option(help="home longitude")],
    lat: Annotated[float, typer.Option(help="home latitude")],
    coords: Annotated[CoordSystem, typer.Option()] = CoordSystem.WGS84,
    max_walk_m: Annotated[int, typer.Option()] = 1_000,
    format: FormatOption = Format.TABLE,
) -> None:
    """Apply for a monthly pass."""
    with unit_of_work(write=True) as (session, settings):
        request = passes.PassApplicationRequest(
            plate=plate,
            kind=kind,
            month=parse_month(month),
            lon=lon,
            lat=lat,
            coords=coords,
            max_walk_m=max_walk_m,
        )
        result = ApplicationRead.of(passes.apply(session, request, clock=settings.clock()))
    if format is Format.JSON:
        print_json(result)
    else:
        console.print(f"Application {result.ref} for {result.month} is {result.status}.")


@passes_app.command("allocate")
def passes_allocate(
    month: Annotated[str, typer.Option(help="YYYY-MM")],
    kind: Annotated[PassKind, typer.Option()] = PassKind.NIGHT,
    format: FormatOption = Format.TABLE,
) -> None:
    """Allocate the month's passes optimally and compare with first-come-first-served."""
    with unit_of_work(write=True) as (session, settings):
        report = passes.allocate(
            session, kind, parse_month(month), policy=settings.policy(), clock=settings.clock()
        )
    result = AllocationRead(
        kind=report.kind,
        month=f"{report.month:%Y-%m}",
        applicants=report.applicants,
        quota=report.quota,
        served=report.served,
        total_walk_m=round(report.total_walk_m, 1),
        fcfs_served=report.fcfs_served,
        fcfs_total_walk_m=round(report.fcfs_total_walk_m, 1),
        solver_seconds=round(report.solver_seconds, 4),
    )
    if format is Format.JSON:
        print_json(result)
        return
    table = Table("", "served", "total walk (m)", title=f"{kind} passes {result.month}")
    table.add_row("optimal", str(result.served), f"{result.total_walk_m:,.0f}")
    table.add_row(
        "first come first served", str(result.fcfs_served), f"{result.fcfs_total_walk_m:,.0f}"
    )
    console.print(table)
    console.print(f"{result.applicants} applicants, {result.quota} passes available")


@fees_app.command("statement")
def fees_statement(
    lot: str,
    month: Annotated[str, typer.Option(help="YYYY-MM")],
    format: FormatOption = Format.TABLE,
) -> None:
    """Fees of a car park by day for a month."""
    with unit_of_work() as (session, _):
        result = StatementRead.of(statement(session, lot, parse_month(month)))
    if format is Format.JSON:
        print_json(result)
        return
    table = Table("day", "completed", "parking", "overstay", "cancel", "passes", "total (yuan)")
    for day in [*result.days, result.total]:
        label = "total" if day is result.total else f"{day.day:%m-%d}"
        table.add_row(
            label,
            str(day.completed),
            f"{day.parking_fen / 100:.2f}",
            f"{day.overstay_fen / 100:.2f}",
            f"{day.cancellation_fen / 100:.2f}",
            f"{day.pass_fen / 100:.2f}",
            f"{day.total_fen / 100:.2f}",
        )
    console.print(table)


@outbox_app.command("deliver")
def outbox_deliver() -> None:
    """Send due notifications (reminders, waitlist bookings, passes, suspensions) to
    PARKSHARE_NOTIFY_WEBHOOK_URL, or to the log when it is unset."""
    with unit_of_work(write=True) as (session, settings):
        url = settings.notify_webhook_url
        channel = outbox.webhook_channel(url) if url else outbox.log_channel
        sent = outbox.deliver_due(session, channel=channel, clock=settings.clock())
    console.print(f"delivered {sent} messages")
