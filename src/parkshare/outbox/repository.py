"""All SQL about the outbox."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from parkshare.outbox.model import OutboxMessage
from parkshare.repository import Repository


class OutboxRepository(Repository):
    def by_key(self, key: str) -> OutboxMessage | None:
        statement = select(OutboxMessage).where(OutboxMessage.dedupe_key == key)
        return self.session.scalars(statement).one_or_none()

    def due(self, now: datetime, *, limit: int) -> list[OutboxMessage]:
        """Unsent, uncancelled messages due by ``now``, oldest first; rows another worker is
        sending are skipped (PostgreSQL ``SKIP LOCKED``), so deliverers can run side by side."""
        statement = (
            select(OutboxMessage)
            .where(
                OutboxMessage.sent_at.is_(None),
                OutboxMessage.cancelled_at.is_(None),
                OutboxMessage.due_at <= now,
            )
            .order_by(OutboxMessage.due_at, OutboxMessage.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return list(self.session.scalars(statement))
