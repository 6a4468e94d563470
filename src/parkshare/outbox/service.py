"""Queue messages in the caller's transaction; deliver the due ones after commit."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

import httpx
from sqlalchemy.orm import Session

from parkshare.clock import Clock
from parkshare.outbox.model import OutboxMessage
from parkshare.outbox.repository import OutboxRepository

log = logging.getLogger("parkshare.outbox")

Channel = Callable[[OutboxMessage], None]


def enqueue(
    session: Session,
    *,
    topic: str,
    key: str,
    payload: dict[str, Any],
    due_at: datetime,
    clock: Clock,
    fresh_key: bool = False,
) -> OutboxMessage:
    """Queue a message once per ``key`` (a second call with the same key returns the first).
    ``fresh_key``: the caller knows the key is new (it names a row created just now)."""
    existing = None if fresh_key else OutboxRepository(session).by_key(key)
    if existing is not None:
        return existing
    message = OutboxMessage(
        topic=topic, dedupe_key=key, payload=payload, due_at=due_at, created_at=clock.now()
    )
    session.add(message)
    return message


def cancel(session: Session, key: str, *, clock: Clock) -> None:
    """Withdraw a queued message that has not been sent (e.g. the reminder of a cancellation)."""
    message = OutboxRepository(session).by_key(key)
    if message is not None and message.sent_at is None:
        message.cancelled_at = clock.now()


def deliver_due(session: Session, *, channel: Channel, clock: Clock, limit: int = 100) -> int:
    """Send due messages through ``channel``; a failure is recorded and retried next time."""
    sent = 0
    for message in OutboxRepository(session).due(clock.now(), limit=limit):
        message.attempts += 1
        try:
            channel(message)
        except Exception as exc:  # any channel failure: keep the message for the next run
            message.last_error = f"{type(exc).__name__}: {exc}"[:500]
            log.warning("outbox message %s failed: %s", message.id, message.last_error)
            continue
        message.sent_at = clock.now()
        sent += 1
    return sent


def log_channel(message: OutboxMessage) -> None:
    """The channel of the first release: a log line (payloads carry masked plates only)."""
    log.info("notify %s %s", message.topic, message.payload)


def webhook_channel(url: str, *, timeout: float = 5.0) -> Channel:
    """POST each message as JSON to ``url``; any answer but 2xx is a failure to retry."""

    def send(message: OutboxMessage) -> None:
        body = {
            "id": message.id,
            "topic": message.topic,
            "payload": message.payload,
            "due_at": message.due_at.isoformat(),
        }
        headers = {"Idempotency-Key": message.dedupe_key}  # receivers can drop repeats
        httpx.post(url, json=body, headers=headers, timeout=timeout).raise_for_status()

    return send
