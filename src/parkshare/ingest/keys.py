"""Per-system ingest keys: shown once, stored hashed, scoped to car parks, revocable.

A key looks like ``psk_<prefix>_<secret>``. The prefix finds the row; the SHA-256 of the
whole key is compared in constant time. A 32-byte random secret needs no slow password hash.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from sqlalchemy.orm import Session

from parkshare.clock import Clock
from parkshare.errors import InvalidInput, NotFound, ParkshareError
from parkshare.ingest.model import IngestKey, IngestKeyLot
from parkshare.ingest.repository import IngestRepository
from parkshare.lots.service import get_lot


class Unauthorised(ParkshareError):
    code = "unauthorised"
    status = 401


@dataclass(frozen=True)
class AuthorisedKey:
    id: int
    prefix: str
    lots: dict[str, int]  # code → id of the car parks it may write for


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create_key(
    session: Session, *, name: str, lot_codes: list[str], clock: Clock
) -> tuple[IngestKey, str]:
    """A new key for the given car parks; the returned secret is never shown again."""
    if not name.strip():
        raise InvalidInput("Name the system this key is for.")
    if not lot_codes:
        raise InvalidInput("A key must be scoped to at least one car park.")
    lots = [get_lot(session, code, with_schedule=False) for code in sorted(set(lot_codes))]
    prefix = secrets.token_hex(4)
    secret = f"psk_{prefix}_{secrets.token_urlsafe(32)}"
    key = IngestKey(
        name=name.strip(), prefix=prefix, secret_hash=_digest(secret), created_at=clock.now()
    )
    session.add(key)
    session.flush()
    session.add_all(IngestKeyLot(key_id=key.id, lot_id=lot.id) for lot in lots)
    session.flush()
    return key, secret


def authenticate(session: Session, presented: str | None, *, clock: Clock) -> AuthorisedKey:
    """The key behind a presented secret; revoked and unknown keys are refused alike."""
    refused = Unauthorised("A valid ingest key is required (Authorization: Bearer psk_…).")
    if not presented or not presented.startswith("psk_") or presented.count("_") < 2:
        raise refused
    prefix = presented.split("_", 2)[1]
    key = IngestRepository(session).key_by_prefix(prefix)
    if key is None or key.revoked_at is not None:
        raise refused
    if not hmac.compare_digest(key.secret_hash, _digest(presented)):
        raise refused
    key.last_used_at = clock.now()
    return AuthorisedKey(key.id, key.prefix, IngestRepository(session).key_lots(key.id))


def revoke(session: Session, prefix: str, *, clock: Clock) -> IngestKey:
    key = IngestRepository(session).key_by_prefix(prefix)
    if key is None:
        raise NotFound(f"No ingest key {prefix!r}.")
    if key.revoked_at is None:
        key.revoked_at = clock.now()
    return key
