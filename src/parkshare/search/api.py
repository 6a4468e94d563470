"""HTTP edge of search (public: drivers search before they sign in)."""

from __future__ import annotations

import logging
import threading
import time
from typing import Annotated

from fastapi import APIRouter, FastAPI, Query, Request
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from parkshare.clock import Clock, parse_instant
from parkshare.config import Policy
from parkshare.db import Database
from parkshare.deps import ClockDep, DatabaseDep, PolicyDep
from parkshare.geo import CoordSystem
from parkshare.lots.model import LotKind
from parkshare.schedules.rules import BerthCategory
from parkshare.search import rules
from parkshare.search.index import SearchIndex
from parkshare.search.schemas import SearchRead
from parkshare.search.service import search

router = APIRouter(tags=["search"])
log = logging.getLogger(__name__)


def build_index_in_background(
    app: FastAPI, database: Database, *, clock: Clock, policy: Policy
) -> threading.Thread:
    """Build the search index on a thread of its own, so that the server answers at once
    after a start or a restart; until the index is there (seconds at a province's size) a
    search takes the database path, with the same answers. ``app.state.search_index_state``
    says which: ``building``, ``ready`` or ``failed`` (the database path then goes on)."""
    app.state.search_index = None
    app.state.search_index_state = "building"

    def build() -> None:
        began = time.perf_counter()
        try:
            with database.session() as session:
                index = SearchIndex.build(session, clock=clock, policy=policy)
        except Exception:  # the server stays up and exact on the database path
            app.state.search_index_state = "failed"
            log.exception("search index build failed; searches use the database")
            return
        app.state.search_index = index
        app.state.search_index_state = "ready"
        seconds = time.perf_counter() - began
        log.info("search index ready: %d car parks in %.1f s", len(index.lots), seconds)

    thread = threading.Thread(target=build, name="search-index-build", daemon=True)
    thread.start()
    return thread


def current_index(request: Request, session: Session, clock: Clock) -> SearchIndex | None:
    """The app's search index, caught up with the database (None: the app runs without it,
    or it is still being built)."""
    index: SearchIndex | None = getattr(request.app.state, "search_index", None)
    if index is None:
        return None
    fresh = index.catch_up(session, clock=clock)
    request.app.state.search_index = fresh
    return fresh


@router.get("/search", response_model=SearchRead)
async def search_lots(
    request: Request,
    database: DatabaseDep,
    policy: PolicyDep,
    clock: ClockDep,
    lat: Annotated[float, Query(ge=-90, le=90, description="Latitude of the query point")],
    lon: Annotated[float, Query(ge=-180, le=180, description="Longitude of the query point")],
    start: Annotated[str, Query(alias="from", max_length=64, examples=["2022-06-24T19:00+08:00"])],
    end: Annotated[str, Query(alias="to", max_length=64, examples=["2022-06-25T07:00+08:00"])],
    min_free: Annotated[int, Query(ge=1, le=rules.MAX_MIN_FREE)] = 1,
    radius: Annotated[
        int, Query(ge=1, le=rules.MAX_RADIUS_M, description="Straight-line radius in metres")
    ] = rules.DEFAULT_RADIUS_M,
    kind: LotKind | None = None,
    max_price: Annotated[
        int | None, Query(ge=0, description="Highest price for the whole interval, in fen")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=rules.MAX_LIMIT)] = rules.DEFAULT_LIMIT,
    coords: Annotated[
        CoordSystem,
        Query(description="Datum of the query point and of the answer (GCJ-02 for Chinese maps)"),
    ] = CoordSystem.WGS84,
    category: BerthCategory = BerthCategory.ORDINARY,
) -> SearchRead:
    """The nearest car parks with ``min_free`` shared berths free over the whole of
    [from, to), nearest first. Distances are straight lines."""
    query = rules.SearchQuery(
        lon=lon,
        lat=lat,
        start=parse_instant(start, name="from"),
        end=parse_instant(end, name="to"),
        min_free=min_free,
        radius_m=radius,
        kind=kind,
        max_price_fen=max_price,
        limit=limit,
        coords=coords,
        category=category,
    )

    def answer() -> SearchRead:
        with database.session() as session:
            index = current_index(request, session, clock)
            return SearchRead.of(search(session, query, clock=clock, policy=policy, index=index))

    # One worker thread for the whole search: the event loop never waits on the database.
    return await run_in_threadpool(answer)
