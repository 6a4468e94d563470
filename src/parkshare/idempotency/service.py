"""Idempotency-Key: a retried call has its effect once and gets the first answer again.

The first success of a call that carries a key is recorded — the caller's scope, the key, a
fingerprint of the request and the answer — in the same transaction as its effect, so either
both are committed or neither is. A retry with the same key and the same request gets the
recorded answer and changes nothing; the same key with another request is refused
(``idempotency_key_reused``). That is also how a client resolves the in-doubt case (the commit
happened, the answer was lost): it retries.

Refusals (4xx) are not recorded: the transaction that refused changed nothing, and the caller
may fix the request and retry with the same key. Records count for ``retention`` (24 hours at
least); older ones are ignored here and deleted by ``parkshare purge``.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.orm import Session

from parkshare.errors import IdempotencyKeyReused
from parkshare.idempotency.model import IdempotencyRecord
from parkshare.idempotency.repository import IdempotencyRepository

# A request that carries a password is fingerprinted like a password, at the cost accounts use
# (accounts/service.py), so the records table never holds a fast hash of one.
_hasher = PasswordHasher(time_cost=2, memory_cost=19_456, parallelism=1)


@dataclass(frozen=True)
class Call:
    """A state-changing call that carries an Idempotency-Key."""

    scope: str  # who is calling (see IdempotencyRecord.scope)
    key: str
    method: str
    route: str  # the path template
    request: str  # what makes two calls the same request: path parameters, query, body
    secret: bool = False  # ``request`` holds a password

    def text(self) -> str:
        return f"{self.method} {self.route}\n{self.request}"


@dataclass(frozen=True)
class Answer:
    status: int
    body: Any = None  # JSON; None: no content
    replayed: bool = False


def run(
    session: Session,
    call: Call | None,
    work: Callable[[], Answer],
    *,
    retention: timedelta,
    now: datetime,
) -> Answer:
    """``work`` once per key: the first call runs it and records its answer, a retry gets
    that answer back. Call it inside the write transaction of the effect."""
    if call is None:
        return work()
    earlier = recall(session, call, retention=retention, now=now)
    if earlier is not None:
        assert earlier.status_code is not None  # set before the first call committed
        return Answer(earlier.status_code, earlier.response, replayed=True)
    # The record goes in first: a concurrent call with this key waits on its unique index,
    # then fails, and its retry (``deps.write``) finds the answer recorded here.
    record = _claim(session, call, now=now)
    answer = work()  # a refusal raises: the record is rolled back with everything else
    record.status_code = answer.status
    record.response = answer.body
    return answer


def recall(
    session: Session, call: Call, *, retention: timedelta, now: datetime
) -> IdempotencyRecord | None:
    """The record of an earlier call with this key, if kept; refused when that call was
    another request. A record past ``retention`` is deleted: the key starts afresh."""
    repository = IdempotencyRepository(session)
    record = repository.find(call.scope, call.key)
    if record is None:
        return None
    if record.created_at < now - retention:
        repository.forget_expired(record, now - retention)
        return None
    if not _matches(call, record):
        raise IdempotencyKeyReused(
            "This Idempotency-Key was used for a different request; use a new key."
        )
    return record


def superseded(
    session: Session,
    call: Call | None,
    handed_out: str,
    *,
    status: int,
    retention: timedelta,
    now: datetime,
) -> str | None:
    """For an answer that hands out a secret (a sign-in token, an ingest key), which is never
    recorded: a retry cannot get the same secret again, so it gets a new one and the first is
    withdrawn. Records ``handed_out`` (what names the new secret without being it: a token's
    SHA-256, a key's prefix) under the key, and returns what the previous call with this key
    recorded, for the caller to revoke: one Idempotency-Key, one live secret."""
    if call is None:
        return None
    record = recall(session, call, retention=retention, now=now)
    if record is None:
        record = _claim(session, call, now=now)
        previous = None
    else:
        previous = str(record.response["handed_out"])
    record.status_code = status
    record.response = {"handed_out": handed_out}
    return previous


def forget_before(session: Session, cutoff: datetime) -> int:
    """Delete the records made before ``cutoff`` (``parkshare purge``); returns how many."""
    return IdempotencyRepository(session).forget_before(cutoff)


def _claim(session: Session, call: Call, *, now: datetime) -> IdempotencyRecord:
    record = IdempotencyRecord(
        scope=call.scope,
        idempotency_key=call.key,
        method=call.method,
        route=call.route,
        request_hash=_fingerprint(call),
        status_code=None,
        response=None,
        created_at=now,
    )
    IdempotencyRepository(session).add(record)
    session.flush()
    return record


def _fingerprint(call: Call) -> str:
    if call.secret:
        return _hasher.hash(call.text())
    return hashlib.sha256(call.text().encode()).hexdigest()


def _matches(call: Call, record: IdempotencyRecord) -> bool:
    if call.secret:
        try:
            return _hasher.verify(record.request_hash, call.text())
        except (VerificationError, InvalidHashError):
            return False
    return hmac.compare_digest(record.request_hash, _fingerprint(call))
