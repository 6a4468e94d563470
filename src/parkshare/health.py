"""Is the service up: for load balancers, the fault-injection tests and the benchmarks."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import text
from starlette.concurrency import run_in_threadpool

from parkshare.deps import DatabaseDep

router = APIRouter(tags=["health"])


class HealthRead(BaseModel):
    status: Literal["ok", "degraded"]
    database: Literal["ok", "unreachable"]
    search_index: Literal["ready", "building", "failed", "off"]


@router.get(
    "/health",
    response_model=HealthRead,
    responses={503: {"model": HealthRead, "description": "The database does not answer"}},
)
async def health(request: Request, database: DatabaseDep) -> HealthRead | JSONResponse:
    """``ok`` when the database answers; 503 and ``degraded`` when it does not. Searches are
    answered while the search index is ``building`` (from the database, more slowly)."""

    def ping() -> bool:
        try:
            with database.session() as session:
                session.execute(text("SELECT 1"))
        except Exception:  # any failure to reach it is the answer, not an error of ours
            return False
        return True

    reachable = await run_in_threadpool(ping)
    answer = HealthRead(
        status="ok" if reachable else "degraded",
        database="ok" if reachable else "unreachable",
        search_index=getattr(request.app.state, "search_index_state", "off"),
    )
    if not reachable:
        return JSONResponse(answer.model_dump(), status_code=503)
    return answer
