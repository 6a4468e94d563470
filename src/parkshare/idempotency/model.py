"""What an Idempotency-Key answered: one row per caller and key, kept at least a day."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from parkshare.db import Base, UTCDateTime


class IdempotencyRecord(Base):
    """Written in the same transaction as the call's effect, so either both are committed or
    neither is: a retry after a lost answer finds the record exactly when the effect happened."""

    __tablename__ = "idempotency_records"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Who called: ``account:<id>``, ``ingest:<SHA-256 of the ingest key>`` or ``anonymous``.
    # A key is looked up only within its caller's scope.
    scope: Mapped[str] = mapped_column(String(80))
    idempotency_key: Mapped[str] = mapped_column(String(200))
    method: Mapped[str] = mapped_column(String(10))
    route: Mapped[str] = mapped_column(String(200))  # the path template, /api/v1/lots/{code}/…
    # SHA-256 of the request (path parameters, query, body); an argon2 hash when the body
    # carries a password, so that no fast hash of a password is ever stored.
    request_hash: Mapped[str] = mapped_column(String(200))
    # The answer replayed to a retry. Set before the transaction commits (``None`` only while
    # the first call runs, which no other transaction sees).
    status_code: Mapped[int | None] = mapped_column(Integer)
    response: Mapped[Any] = mapped_column(JSON, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)

    __table_args__ = (UniqueConstraint("scope", "idempotency_key"),)
