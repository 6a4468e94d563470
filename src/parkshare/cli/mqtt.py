"""Command: the MQTT ingest worker (gate events and counts in, answers and whitelists out)."""

from __future__ import annotations

import logging.config
import signal
import socket
import threading
from typing import Annotated

import typer

from parkshare.cli.common import fail, ingest_app
from parkshare.config import get_settings
from parkshare.db import Database
from parkshare.errors import ParkshareError
from parkshare.ingest.mqtt import BrokerOptions, IngestWorker


@ingest_app.command("mqtt")
def ingest_mqtt(
    host: Annotated[str, typer.Option(help="MQTT broker host")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="MQTT broker port")] = 1883,
    group: Annotated[
        str, typer.Option(help="shared-subscription group: its workers split the stream")
    ] = "parkshare",
    client_id: Annotated[
        str | None,
        typer.Option(
            help="stable id of this worker: the broker keeps its session (and queues its "
            "messages) under it; one per worker (default: parkshare-<host name>)"
        ),
    ] = None,
    whitelist_every: Annotated[
        float, typer.Option(min=1, help="seconds between checks of the whitelists")
    ] = 60,
) -> None:
    """Ingest gate events and counts from MQTT, answer per item, publish whitelists (retained)
    until SIGTERM or Ctrl-C."""
    from parkshare.logs import log_config

    try:
        settings = get_settings()
        options = BrokerOptions(
            host=host,
            port=port,
            group=group,
            client_id=client_id or f"parkshare-{socket.gethostname()}",
            whitelist_every=whitelist_every,
        )
    except ValueError as exc:
        raise fail("invalid_configuration", str(exc)) from None
    except ParkshareError as exc:
        raise fail(exc.code, exc.message) from None
    logging.config.dictConfig(log_config())
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    database = Database(settings.database_url)
    try:
        database.migrate()
        worker = IngestWorker(database, settings.policy(), settings.clock(), options)
        worker.run(stop)
    finally:
        database.dispose()
