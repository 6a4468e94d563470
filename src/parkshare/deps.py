"""Typed FastAPI dependencies shared by every router.

Dependencies that only read the app's state are ``async``: FastAPI runs a plain ``def``
dependency on a worker thread, and those hops (a dozen per request) cost more than a search
from the index. Anything that touches the database stays a plain function or goes through
``run_in_threadpool``."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Annotated, TypeVar

from fastapi import Depends, Request
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from parkshare.clock import Clock
from parkshare.config import Policy, Settings
from parkshare.db import Database

T = TypeVar("T")


async def get_database(request: Request) -> Database:
    database: Database = request.app.state.database
    return database


async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_session(database: Annotated[Database, Depends(get_database)]) -> Iterator[Session]:
    """A read unit of work per request (writes take ``Database.session(write=True)``)."""
    with database.session() as session:
        yield session


async def get_clock(request: Request) -> Clock:
    clock: Clock = request.app.state.clock
    return clock


async def get_policy(settings: Annotated[Settings, Depends(get_settings)]) -> Policy:
    return settings.policy()


def write(database: Database, work: Callable[[Session], T]) -> T:
    """Run ``work`` in one write transaction. A unique-constraint race (two requests with one
    Idempotency-Key committing at once) is retried once: the retry sees the winner's row.
    API handlers write through ``idempotency.deps.IdempotentCall.write``, which calls this."""
    for attempt in range(2):
        try:
            with database.session(write=True) as session:
                return work(session)
        except IntegrityError:
            if attempt:
                raise
    raise AssertionError("unreachable")


SessionDep = Annotated[Session, Depends(get_session)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
DatabaseDep = Annotated[Database, Depends(get_database)]
ClockDep = Annotated[Clock, Depends(get_clock)]
PolicyDep = Annotated[Policy, Depends(get_policy)]
