"""What every command shares: the Typer apps, output formats, and the unit of work.

Every command that prints data takes ``--format json`` and prints the same shapes as the
HTTP API. Errors print ``error [code]: message`` and exit with status 1.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

import typer
from pydantic import BaseModel
from rich.console import Console
from rich.markup import escape
from sqlalchemy.orm import Session

from parkshare.clock import parse_instant
from parkshare.config import Settings, get_settings
from parkshare.db import Database
from parkshare.errors import ParkshareError

app = typer.Typer(help="parkshare: off-peak shared parking (错时共享停车).", no_args_is_help=True)
lots_app = typer.Typer(help="Car parks in the registry.", no_args_is_help=True)
report_app = typer.Typer(help="Reports for the city.", no_args_is_help=True)
calendar_app = typer.Typer(help="The official calendar and its overrides.", no_args_is_help=True)
passes_app = typer.Typer(help="Monthly passes (包月).", no_args_is_help=True)
fees_app = typer.Typer(help="Fees and statements.", no_args_is_help=True)
outbox_app = typer.Typer(help="Queued notifications.", no_args_is_help=True)
ingest_app = typer.Typer(help="Networking: keys, MQTT, retention.", no_args_is_help=True)
export_app = typer.Typer(help="Open-format exports for other platforms.", no_args_is_help=True)
accounts_app = typer.Typer(
    help="Accounts: administrators and operator staff.", no_args_is_help=True
)
app.add_typer(lots_app, name="lots")
app.add_typer(report_app, name="report")
app.add_typer(calendar_app, name="calendar")
app.add_typer(passes_app, name="passes")
app.add_typer(fees_app, name="fees")
app.add_typer(outbox_app, name="outbox")
app.add_typer(ingest_app, name="ingest")
app.add_typer(export_app, name="export")
app.add_typer(accounts_app, name="accounts")

console = Console()


class Format(StrEnum):
    TABLE = "table"
    JSON = "json"


FormatOption = Annotated[Format, typer.Option("--format", help="table (default) or json")]


def fail(code: str, message: str) -> typer.Exit:
    Console(stderr=True).print(
        f"[bold red]error[/] {escape(f'[{code}]: {message}')}", highlight=False
    )
    return typer.Exit(1)


@contextmanager
def unit_of_work(*, write: bool = False) -> Iterator[tuple[Session, Settings]]:
    """Open the configured database (migrated), one transaction, errors made readable."""
    try:
        settings = get_settings()
    except ValueError as exc:
        raise fail("invalid_configuration", str(exc)) from None
    database = Database(settings.database_url)
    try:
        database.migrate()
        with database.session(write=write) as session:
            yield session, settings
    except ParkshareError as exc:
        raise fail(exc.code, exc.message) from None
    finally:
        database.dispose()


def local_instant(text: str, settings: Settings, name: str) -> datetime:
    """The CLI reads a time without an offset as local time (Asia/Shanghai)."""
    return parse_instant(text, assume_tz=settings.tz, name=name)


def print_json(model: BaseModel | list[Any]) -> None:
    data: Any
    if isinstance(model, BaseModel):
        data = model.model_dump(mode="json")
    else:
        data = [item.model_dump(mode="json") for item in model]
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")
