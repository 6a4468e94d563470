"""All SQL about idempotency records."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select

from parkshare.idempotency.model import IdempotencyRecord
from parkshare.repository import Repository


class IdempotencyRepository(Repository):
    def find(self, scope: str, key: str) -> IdempotencyRecord | None:
        statement = select(IdempotencyRecord).where(
            IdempotencyRecord.scope == scope, IdempotencyRecord.idempotency_key == key
        )
        return self.session.scalars(statement).one_or_none()

    def forget_expired(self, record: IdempotencyRecord, cutoff: datetime) -> None:
        """Delete a record made before ``cutoff``, by a statement that checks it again: a
        concurrent transaction that replaced the record first leaves nothing to delete here."""
        statement = delete(IdempotencyRecord).where(
            IdempotencyRecord.id == record.id, IdempotencyRecord.created_at < cutoff
        )
        self.session.execute(statement, execution_options={"synchronize_session": False})
        self.session.expunge(record)

    def forget_before(self, cutoff: datetime) -> int:
        """Delete every record made before ``cutoff``; returns how many."""
        statement = delete(IdempotencyRecord).where(IdempotencyRecord.created_at < cutoff)
        result = self.session.execute(statement)
        return int(getattr(result, "rowcount", 0) or 0)
