"""HTTP edge of networking: keys, pushed events and counts, the whitelist, live state."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Body, Header, Response
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from parkshare.accounts import access
from parkshare.accounts.deps import SignedIn
from parkshare.deps import ClockDep, DatabaseDep, PolicyDep, SessionDep, SettingsDep, write
from parkshare.errors import InvalidInput, LotNotInScope, NotFound
from parkshare.idempotency.deps import Idempotent
from parkshare.ingest import events, keys
from parkshare.ingest.live import Link, live_state
from parkshare.ingest.model import IngestKey
from parkshare.ingest.repository import IngestRepository
from parkshare.ingest.schemas import MAX_BATCH, BatchRead
from parkshare.ingest.whitelist import whitelist
from parkshare.lots.schemas import local
from parkshare.lots.service import get_lot

router = APIRouter(tags=["networking"])

Authorization = Annotated[
    str | None, Header(description="Bearer psk_… (the car-park system's ingest key)")
]
Batch = Annotated[
    list[Any],
    Body(description=f"Up to {MAX_BATCH} items; each is accepted or rejected on its own"),
]


def _bearer(header: str | None) -> str | None:
    if header and header.lower().startswith("bearer "):
        return header[7:].strip()
    return None


def _check_size(items: list[Any]) -> None:
    if len(items) > MAX_BATCH:
        raise InvalidInput(f"A batch holds at most {MAX_BATCH} items; this one has {len(items)}.")


class KeyCreate(BaseModel):
    name: str = Field(min_length=1, max_length=120)
    lots: list[str] = Field(min_length=1, max_length=1_000)


class KeyRead(BaseModel):
    prefix: str
    name: str
    created_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None

    @classmethod
    def of(cls, key: IngestKey) -> KeyRead:
        return cls(
            prefix=key.prefix,
            name=key.name,
            created_at=local(key.created_at),
            revoked_at=local(key.revoked_at) if key.revoked_at else None,
            last_used_at=local(key.last_used_at) if key.last_used_at else None,
        )


class KeyCreated(KeyRead):
    key: str = Field(description="Shown once: store it in the car-park system now")
    lots: list[str]


class PermitRead(BaseModel):
    plate: str
    source: str
    ref: str
    valid_from: datetime
    valid_until: datetime


class WhitelistRead(BaseModel):
    lot: str
    version: str
    generated_at: datetime
    permits: list[PermitRead]


class LiveRead(BaseModel):
    lot: str
    link: Link
    last_data_at: datetime | None
    berths: int
    free: int | None
    occupied: int | None
    free_source: str
    shared_free_now: int | None
    anomaly: str


@router.post("/ingest/keys", response_model=KeyCreated, status_code=201)
def create_key(
    body: KeyCreate,
    principal: SignedIn,
    database: DatabaseDep,
    clock: ClockDep,
    idempotent: Idempotent,
) -> KeyCreated:
    """A key for a car-park system; operator staff only for their own car parks.

    A retry with the same Idempotency-Key gets a new key and the key the first try made is
    revoked: the answer is a secret, so it is never kept (only the key's prefix), and one
    Idempotency-Key leaves one live ingest key."""

    def work(session: Session) -> KeyCreated:
        access.require_lots(principal, session, body.lots)
        key, secret = keys.create_key(session, name=body.name, lot_codes=body.lots, clock=clock)
        earlier = idempotent.superseded(session, key.prefix)
        if earlier is not None:
            keys.revoke(session, earlier, clock=clock)
        return KeyCreated(**KeyRead.of(key).model_dump(), key=secret, lots=sorted(set(body.lots)))

    return write(database, work)


@router.get("/ingest/keys", response_model=list[KeyRead])
def list_keys(principal: SignedIn, session: SessionDep) -> list[KeyRead]:
    """Keys with their last activity; operator staff see keys of their own car parks only."""
    repository = IngestRepository(session)
    own = access.own_lot_ids(principal, session)
    return [
        KeyRead.of(key)
        for key in repository.all_keys()
        if own is None or _within(repository, key, own)
    ]


def _within(repository: IngestRepository, key: IngestKey, lot_ids: set[int]) -> bool:
    scope = set(repository.key_lots(key.id).values())
    return bool(scope) and scope <= lot_ids


@router.post("/ingest/keys/{prefix}/revoke", response_model=KeyRead)
def revoke_key(
    prefix: str, principal: SignedIn, database: DatabaseDep, clock: ClockDep, idempotent: Idempotent
) -> Response:
    def work(session: Session) -> KeyRead:
        repository = IngestRepository(session)
        key = repository.key_by_prefix(prefix)
        own = access.own_lot_ids(principal, session)
        if key is not None and own is not None and not _within(repository, key, own):
            raise NotFound(f"No ingest key {prefix!r}.")
        return KeyRead.of(keys.revoke(session, prefix, clock=clock))

    return idempotent.write(database, work)


@router.post("/ingest/events", response_model=BatchRead)
def push_events(
    items: Batch,
    database: DatabaseDep,
    policy: PolicyDep,
    clock: ClockDep,
    idempotent: Idempotent,
    authorization: Authorization = None,
) -> Response:
    """Gate events ``{event_id, lot, plate, direction: in|out, at, gate}``. Replays are
    duplicates, never double-counted; late and out-of-order events are paired correctly.

    Idempotent without a header, by ``(lot, event_id)``; with an Idempotency-Key a retried
    batch also gets its first answer back (accepted, not duplicates)."""
    _check_size(items)

    def work(session: Session) -> BatchRead:
        key = keys.authenticate(session, _bearer(authorization), clock=clock)
        return BatchRead.of(events.ingest_events(session, key, items, policy=policy, clock=clock))

    return idempotent.write(database, work)


@router.post("/ingest/counts", response_model=BatchRead)
def push_counts(
    items: Batch,
    database: DatabaseDep,
    clock: ClockDep,
    idempotent: Idempotent,
    authorization: Authorization = None,
) -> Response:
    """Free-berth counts ``{lot, free, total?, at}``; impossible values are flagged.
    Idempotent without a header, by ``(lot, at)``; an Idempotency-Key also replays the answer."""
    _check_size(items)

    def work(session: Session) -> BatchRead:
        key = keys.authenticate(session, _bearer(authorization), clock=clock)
        return BatchRead.of(events.ingest_counts(session, key, items, clock=clock))

    return idempotent.write(database, work)


@router.get("/ingest/lots/{code}/whitelist", response_model=WhitelistRead)
def get_whitelist(
    code: str, database: DatabaseDep, clock: ClockDep, authorization: Authorization = None
) -> WhitelistRead:
    """Plates allowed in, with their validity, for the key's own car parks only."""

    def work(session: Session) -> WhitelistRead:
        key = keys.authenticate(session, _bearer(authorization), clock=clock)
        if code not in key.lots:
            raise LotNotInScope(f"This key may not read car park {code!r}.")
        listing = whitelist(session, get_lot(session, code), clock=clock)
        return WhitelistRead(
            lot=listing.lot,
            version=listing.version,
            generated_at=local(listing.generated_at),
            permits=[
                PermitRead(
                    plate=p.plate,
                    source=p.source,
                    ref=p.ref,
                    valid_from=local(p.valid_from),
                    valid_until=local(p.valid_until),
                )
                for p in listing.permits
            ],
        )

    return write(database, work)  # records the key's last use


@router.get("/lots/{code}/live", response_model=LiveRead)
def get_live(code: str, session: SessionDep, settings: SettingsDep, clock: ClockDep) -> LiveRead:
    state = live_state(
        session,
        get_lot(session, code),
        now=clock.now(),
        stale=timedelta(minutes=settings.live_stale_after_minutes),
        offline=timedelta(minutes=settings.live_offline_after_minutes),
    )
    return LiveRead(
        **{**vars(state), "last_data_at": local(state.last_data_at) if state.last_data_at else None}
    )
