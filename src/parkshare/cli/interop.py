"""Commands of interoperability: the open feeds, and the registry as a spreadsheet."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from parkshare.cli.common import (
    Format,
    FormatOption,
    console,
    export_app,
    fail,
    lots_app,
    print_json,
    unit_of_work,
)
from parkshare.errors import ImportInvalid, UploadTooLarge
from parkshare.geo import CoordSystem
from parkshare.interop import service
from parkshare.interop.schemas import ImportReport
from parkshare.interop.service import Thresholds
from parkshare.interop.spreadsheet import MAX_UPLOAD_BYTES

OutputOption = Annotated[
    Path | None, typer.Option("--output", "-o", help="Write to this file (default: stdout)")
]


def _emit(data: bytes, output: Path | None) -> None:
    if output is None:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    else:
        output.write_bytes(data)
        console.print(f"wrote {output} ({len(data):,} bytes)")


@export_app.command("parkapi")
def export_parkapi(output: OutputOption = None) -> None:
    """Car parks as ParkAPI v3 parking sites (JSON); free counts only while live."""
    with unit_of_work() as (session, settings):
        feed = service.parkapi_export(
            session, now=settings.clock().now(), thresholds=Thresholds.of(settings)
        )
    _emit((json.dumps(feed, ensure_ascii=False, indent=2) + "\n").encode("utf-8"), output)


@export_app.command("datex2")
def export_datex2(output: OutputOption = None) -> None:
    """Car parks as a DATEX II v3 parking status publication (XML)."""
    with unit_of_work() as (session, settings):
        xml = service.datex2_export(
            session, now=settings.clock().now(), thresholds=Thresholds.of(settings)
        )
    _emit(xml, output)


@lots_app.command("export")
def lots_export(file: Annotated[Path, typer.Argument(help="The .xlsx file to write")]) -> None:
    """Write every car park to an .xlsx workbook (the columns the import reads)."""
    with unit_of_work() as (session, _):
        data = service.export_registry(session)
    file.write_bytes(data)
    console.print(f"wrote {file} ({len(data):,} bytes)")


@lots_app.command("import")
def lots_import(
    file: Annotated[Path, typer.Argument(help=".xlsx, or .csv in UTF-8", exists=True)],
    dry_run: Annotated[bool, typer.Option(help="Check and count; write nothing.")] = False,
    coords: Annotated[
        CoordSystem, typer.Option(help="Datum of rows with no coords value: wgs84 or gcj02")
    ] = CoordSystem.WGS84,
    format: FormatOption = Format.TABLE,
) -> None:
    """Create or update car parks from a spreadsheet; nothing is imported if any row is bad."""
    if file.stat().st_size > MAX_UPLOAD_BYTES:
        too_large = UploadTooLarge(f"{file} is larger than {MAX_UPLOAD_BYTES:,} bytes.")
        raise fail(too_large.code, too_large.message)
    data = file.read_bytes()
    with unit_of_work(write=not dry_run) as (session, settings):
        try:
            result = service.import_registry(
                session,
                data,
                filename=file.name,
                coords=coords,
                dry_run=dry_run,
                clock=settings.clock(),
            )
        except ImportInvalid as invalid:
            _print_problems(invalid, format)
            raise typer.Exit(1) from None
    report = ImportReport.of(result)
    if format is Format.JSON:
        print_json(report)
        return
    verb = "would create" if dry_run else "created"
    console.print(
        f"{report.rows} rows: {verb} {report.created}, "
        f"{'would update' if dry_run else 'updated'} {report.updated} car parks"
        + (f", {report.operators_created} new operators" if not dry_run else "")
    )
    if report.ignored_columns:
        console.print(f"ignored columns: {', '.join(report.ignored_columns)}")


def _print_problems(invalid: ImportInvalid, format: Format) -> None:
    if format is Format.JSON:
        sys.stdout.write(json.dumps(invalid.to_dict(), ensure_ascii=False, indent=2) + "\n")
        return
    table = Table("row", "column", "problem", title=invalid.message)
    for problem in invalid.details.get("problems", []):
        table.add_row(str(problem["row"]), problem["column"], problem["problem"])
    console.print(table)
    shown, total = len(invalid.details.get("problems", [])), invalid.details["problem_count"]
    if shown < total:
        console.print(f"(the first {shown} of {total} problems)")
