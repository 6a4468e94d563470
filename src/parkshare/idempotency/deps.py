"""The Idempotency-Key of the HTTP API, as one dependency: a handler takes ``Idempotent`` and
writes with ``idempotent.write(database, work)`` instead of ``write(database, work)``.

Who is calling (the scope a key is looked up in): the signed-in account; a car-park system by
its ingest key; everyone else shares the anonymous scope, where an answer is replayed only to
the identical request (for registering and signing in that includes the password), so
anonymous clients should use random keys (a UUID)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated, Any

from fastapi import Depends, Header, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
from sqlalchemy.orm import Session

from parkshare.accounts.deps import CurrentPrincipal
from parkshare.clock import Clock
from parkshare.db import Database
from parkshare.deps import ClockDep, SettingsDep, write
from parkshare.idempotency import service
from parkshare.idempotency.service import Answer

REPLAYED_HEADER = "Idempotent-Replayed"
# Body fields that make a request secret: fingerprinted like a password (service._hasher).
SECRET_FIELDS = frozenset({"password"})

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        max_length=200,
        description="A retry with the same key (kept at least 24 h) gets the first answer and "
        "changes nothing; the same key with another request is refused (idempotency_key_reused)",
    ),
]


@dataclass(frozen=True)
class IdempotentCall:
    """One API call that may carry an Idempotency-Key, and what identifies its request."""

    key: str | None
    scope: str
    method: str
    route: str
    status: int  # the route's status of success
    path: dict[str, Any]
    query: list[tuple[str, str]]
    body: Any  # the JSON body; the SHA-256 of one that is not JSON
    secret: bool
    retention: timedelta
    clock: Clock

    def call(self, fingerprint_of: object = None) -> service.Call | None:
        """``None`` without a key. ``fingerprint_of`` stands for the body when the handler
        knows better what makes two requests the same (a plate respelled, an uploaded file)."""
        if not self.key:
            return None
        request = {
            "path": self.path,
            "query": self.query,
            "body": self.body if fingerprint_of is None else fingerprint_of,
        }
        canonical = json.dumps(request, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        return service.Call(
            self.scope, self.key, self.method, self.route, canonical, secret=self.secret
        )

    def write(
        self,
        database: Database,
        work: Callable[[Session], object],
        *,
        fingerprint_of: object = None,
    ) -> Response:
        """``deps.write`` with the key honoured. ``work`` returns the route's response model
        (answered with the route's status) or an ``Answer`` with another status."""
        call = self.call(fingerprint_of)

        def unit(session: Session) -> Answer:
            return service.run(
                session,
                call,
                lambda: self._answer(work(session)),
                retention=self.retention,
                now=self.clock.now(),
            )

        return respond(write(database, unit))

    def superseded(self, session: Session, handed_out: str) -> str | None:
        """For answers that are secrets: see ``service.superseded``."""
        return service.superseded(
            session,
            self.call(),
            handed_out,
            status=self.status,
            retention=self.retention,
            now=self.clock.now(),
        )

    def _answer(self, value: object) -> Answer:
        if isinstance(value, Answer):
            return value
        return Answer(self.status, jsonable_encoder(value))


def respond(answer: Answer) -> Response:
    headers = {REPLAYED_HEADER: "true"} if answer.replayed else None
    if answer.status == 204:
        return Response(status_code=204, headers=headers)
    return JSONResponse(answer.body, status_code=answer.status, headers=headers)


async def idempotent_call(
    request: Request,
    principal: CurrentPrincipal,
    settings: SettingsDep,
    clock: ClockDep,
    key: IdempotencyKey = None,
) -> IdempotentCall:
    route = request.scope.get("route")
    body_field = getattr(route, "body_field", None)
    body = None
    if key and body_field is not None:  # FastAPI has read it already: no second read
        body = _canonical_body(await request.body())
    if principal is not None:
        scope = f"account:{principal.account_id}"
    else:
        scope = _ingest_scope(request.headers.get("authorization", "")) or "anonymous"
    return IdempotentCall(
        key=key,
        scope=scope,
        method=request.method,
        route=getattr(route, "path", request.url.path),
        status=getattr(route, "status_code", None) or 200,
        path=dict(request.path_params),
        query=sorted(request.query_params.multi_items()),
        body=body,
        secret=body_field is not None and _declares_secret(body_field),
        retention=timedelta(hours=settings.idempotency_retention_hours),
        clock=clock,
    )


Idempotent = Annotated[IdempotentCall, Depends(idempotent_call)]


def _canonical_body(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return {"sha256": hashlib.sha256(raw).hexdigest()}


def _ingest_scope(header: str) -> str | None:
    """A car-park system by its ingest key: the key's SHA-256, so only its holder matches."""
    scheme, _, secret = header.partition(" ")
    if scheme.lower() == "bearer" and secret.strip().startswith("psk_"):
        return f"ingest:{hashlib.sha256(secret.strip().encode()).hexdigest()}"
    return None


def _declares_secret(body_field: Any) -> bool:
    model = getattr(getattr(body_field, "field_info", None), "annotation", None)
    if isinstance(model, type) and issubclass(model, BaseModel):
        return bool(SECRET_FIELDS & set(model.model_fields))
    return False
