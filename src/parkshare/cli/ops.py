"""Commands of operations: the invariant check, backup and restore."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from parkshare.cli.common import Format, FormatOption, app, console, fail, unit_of_work
from parkshare.config import Settings, get_settings
from parkshare.errors import ParkshareError
from parkshare.ops import backup as backups
from parkshare.ops.invariants import InvariantReport, check

ForceOption = Annotated[bool, typer.Option("--force", help="replace what is there")]


@app.command("check")
def check_command(
    everything: Annotated[
        bool,
        typer.Option(
            "--all",
            help="also sweep commitments that already ended (judged by today's schedules)",
        ),
    ] = False,
    format: FormatOption = Format.TABLE,
) -> None:
    """Check the database's invariants: no overbooking, derived rows agree with their
    sources, unique keys unique. Exits 1 when anything is wrong."""
    with unit_of_work() as (session, settings):
        report = check(session, now=None if everything else settings.clock().now())
    if format is Format.JSON:
        body = {"ok": report.ok, "counts": report.counts, "problems": list(report.problems)}
        sys.stdout.write(json.dumps(body, ensure_ascii=False, indent=2) + "\n")
    else:
        print_report(report)
    if not report.ok:
        raise fail("invariants_broken", f"{len(report.problems)} problem(s) found.")


def print_report(report: InvariantReport) -> None:
    table = Table("table", "rows")
    for name, rows in report.counts.items():
        table.add_row(name, f"{rows:,}")
    console.print(table)
    for problem in report.problems:
        console.print(f"[red]problem[/] {escape(problem)}", highlight=False)
    if report.ok:
        console.print("Invariants hold.")


@app.command("backup")
def backup_command(path: Path, force: ForceOption = False) -> None:
    """Copy the SQLite database to PATH while the server may be writing (consistent, checked,
    renamed into place). PostgreSQL: pg_dump, see docs/backup.md."""
    settings = _settings()
    try:
        copied = backups.backup(
            settings.database_url, path, force=force, now=settings.clock().now()
        )
    except ParkshareError as exc:
        raise fail(exc.code, exc.message) from None
    _print_copy("Backed up to", copied)


@app.command("restore")
def restore_command(path: Path, force: ForceOption = False) -> None:
    """Replace the SQLite database by the backup at PATH (stop the server first); the
    replaced database is kept as <name>.before-restore."""
    settings = _settings()
    try:
        copied = backups.restore(
            settings.database_url, path, force=force, now=settings.clock().now()
        )
    except ParkshareError as exc:
        raise fail(exc.code, exc.message) from None
    _print_copy("Restored", copied)
    if copied.migrated_from:
        console.print(f"Migrated from schema revision {copied.migrated_from}.")
    if copied.previous:
        console.print(f"The replaced database is kept as {copied.previous}.", soft_wrap=True)


def _settings() -> Settings:
    try:
        return get_settings()
    except ValueError as exc:
        raise fail("invalid_configuration", str(exc)) from None


def _print_copy(what: str, copied: backups.Copied) -> None:
    rows = sum(copied.report.counts.values())
    summary: dict[str, Any] = {
        "size": f"{copied.size_bytes / 2**20:.1f} MiB",
        "rows": f"{rows:,} in the main tables",
        "seconds": copied.seconds,
        "revision": copied.revision,
    }
    console.print(f"{what} {escape(str(copied.path))}: integrity ok.", soft_wrap=True)
    console.print(", ".join(f"{k} {v}" for k, v in summary.items()), soft_wrap=True)
    print_report(copied.report)
    if not copied.report.ok:
        raise fail("invariants_broken", f"{len(copied.report.problems)} problem(s) found.")
