"""The outbox delivers after commit, once per key, and keeps what a channel failed to send."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest

from parkshare.clock import FixedClock
from parkshare.db import Database
from parkshare.outbox import service as outbox
from parkshare.outbox.model import OutboxMessage

NOW = datetime(2022, 6, 24, 10, tzinfo=UTC)


class Receiver(BaseHTTPRequestHandler):
    received: ClassVar[list[dict[str, object]]] = []
    status = 204

    def do_POST(self) -> None:
        length = int(self.headers["Content-Length"])
        Receiver.received.append(json.loads(self.rfile.read(length)))
        self.send_response(Receiver.status)
        self.end_headers()

    def log_message(self, *args: object) -> None:  # keep test output quiet
        pass


@pytest.fixture
def webhook() -> Iterator[str]:
    Receiver.received, Receiver.status = [], 204
    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook"
    server.shutdown()
    server.server_close()


def queue(database: Database, key: str, due: datetime) -> None:
    with database.session(write=True) as session:
        outbox.enqueue(
            session, topic="t", key=key, payload={"n": key}, due_at=due, clock=FixedClock(NOW)
        )


def test_same_key_is_queued_once(database: Database) -> None:
    queue(database, "a", NOW)
    queue(database, "a", NOW)
    with database.session() as session:
        assert session.query(OutboxMessage).count() == 1


def test_due_messages_reach_the_webhook_once(database: Database, webhook: str) -> None:
    queue(database, "now", NOW)
    queue(database, "later", NOW + timedelta(hours=1))
    clock = FixedClock(NOW)
    for _ in range(2):
        with database.session(write=True) as session:
            outbox.deliver_due(session, channel=outbox.webhook_channel(webhook), clock=clock)
    assert [m["payload"] for m in Receiver.received] == [{"n": "now"}]


def test_a_failed_delivery_is_kept_and_retried(database: Database, webhook: str) -> None:
    queue(database, "x", NOW)
    clock = FixedClock(NOW)
    Receiver.status = 500
    with database.session(write=True) as session:
        assert (
            outbox.deliver_due(session, channel=outbox.webhook_channel(webhook), clock=clock) == 0
        )
    with database.session() as session:
        message = session.query(OutboxMessage).one()
        assert message.sent_at is None and message.attempts == 1
        assert "500" in message.last_error
    Receiver.status = 204
    with database.session(write=True) as session:
        assert (
            outbox.deliver_due(session, channel=outbox.webhook_channel(webhook), clock=clock) == 1
        )
    assert len(Receiver.received) == 2


def test_cancelled_messages_are_not_sent(database: Database, webhook: str) -> None:
    queue(database, "gone", NOW)
    clock = FixedClock(NOW)
    with database.session(write=True) as session:
        outbox.cancel(session, "gone", clock=clock)
    with database.session(write=True) as session:
        assert (
            outbox.deliver_due(session, channel=outbox.webhook_channel(webhook), clock=clock) == 0
        )
    assert Receiver.received == []
