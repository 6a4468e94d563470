"""Commands of networking: ingest keys and the privacy retention sweep."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

import typer
from rich.table import Table

from parkshare.cli.common import app, console, ingest_app, unit_of_work
from parkshare.idempotency import service as idempotency
from parkshare.ingest import events, keys
from parkshare.ingest.repository import IngestRepository
from parkshare.search.index_repository import IndexRepository

CHANGE_LOG_KEPT = timedelta(days=2)


@ingest_app.command("key-create")
def key_create(
    name: Annotated[str, typer.Option(help="the system the key is for")],
    lot: Annotated[list[str], typer.Option(help="a car park code; repeat for several")],
) -> None:
    """Create an ingest key for a car-park system; the key is shown once."""
    with unit_of_work(write=True) as (session, settings):
        key, secret = keys.create_key(session, name=name, lot_codes=lot, clock=settings.clock())
        console.print(f"key {key.prefix} for {', '.join(sorted(set(lot)))}:")
        console.print(secret, highlight=False, soft_wrap=True)
        console.print("Store it now: it cannot be shown again.")


@ingest_app.command("key-revoke")
def key_revoke(prefix: str) -> None:
    """Revoke an ingest key: it stops working at once."""
    with unit_of_work(write=True) as (session, settings):
        keys.revoke(session, prefix, clock=settings.clock())
    console.print(f"key {prefix} revoked")


@ingest_app.command("keys")
def key_list() -> None:
    """Ingest keys and their last activity."""
    with unit_of_work() as (session, _):
        rows = IngestRepository(session).all_keys()
        table = Table("prefix", "name", "created", "last used", "revoked")
        for key in rows:
            table.add_row(
                key.prefix,
                key.name,
                f"{key.created_at:%Y-%m-%d %H:%M}",
                f"{key.last_used_at:%Y-%m-%d %H:%M}" if key.last_used_at else "—",
                f"{key.revoked_at:%Y-%m-%d %H:%M}" if key.revoked_at else "",
            )
    console.print(table)


@ingest_app.command("purge")
def purge() -> None:
    """Erase plates of gate events older than PARKSHARE_PLATE_RETENTION_DAYS (privacy), the
    search index's change log older than two days (indexes rebuild daily), and the API's
    Idempotency-Key records older than PARKSHARE_IDEMPOTENCY_RETENTION_HOURS."""
    with unit_of_work(write=True) as (session, settings):
        now = settings.clock().now()
        erased = events.erase_old_plates(
            session, retention=timedelta(days=settings.plate_retention_days), now=now
        )
        hours = settings.idempotency_retention_hours
        records = idempotency.forget_before(session, now - timedelta(hours=hours))
        # The change log is technical, stamped with the wall clock (not PARKSHARE_NOW).
        forgotten = IndexRepository(session).forget_changes_before(
            datetime.now(UTC) - CHANGE_LOG_KEPT
        )
    console.print(f"erased the plates of {erased} events")
    console.print(f"dropped {forgotten} entries of the search index's change log")
    console.print(f"deleted {records} Idempotency-Key records older than {hours} hours")


@app.command("purge")
def purge_everything() -> None:
    """Retention sweep: the same as `parkshare ingest purge` (run it daily)."""
    purge()
