"""The FastAPI application factory. Nothing connects at import time: the database is opened
(and migrated) when the app starts."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi_offline import FastAPIOffline
from starlette.exceptions import HTTPException

from parkshare import web
from parkshare.accounts.api import router as accounts_router
from parkshare.accounts.deps import PageRedirect, authorize
from parkshare.availability.api import router as availability_router
from parkshare.clock import Clock
from parkshare.config import Settings, get_settings
from parkshare.credit.api import router as credit_router
from parkshare.db import Database
from parkshare.errors import ErrorRead, ParkshareError, PlainHttpError
from parkshare.fees.api import router as fees_router
from parkshare.health import router as health_router
from parkshare.ingest.api import router as ingest_router
from parkshare.interop.api import router as interop_router
from parkshare.lots.api import router as lots_router
from parkshare.passes.api import router as passes_router
from parkshare.reports.api import router as reports_router
from parkshare.reservations.api import router as reservations_router
from parkshare.schedules.api import router as schedules_router
from parkshare.search.api import build_index_in_background
from parkshare.search.api import router as search_router

API_PREFIX = "/api/v1"
INDEX_BUILD_STOP_WAIT_S = 30.0  # a server stopped while building its index waits this long
# Every router of the HTTP API, mounted under API_PREFIX; each is authorised by the access
# table (accounts/access.py).
API_ROUTERS = (
    search_router,  # first: the most frequent request is matched at once
    accounts_router,
    interop_router,  # before lots: /lots/export.xlsx is not a car park code
    lots_router,
    availability_router,
    reservations_router,
    schedules_router,
    passes_router,
    credit_router,
    fees_router,
    ingest_router,
    reports_router,
    health_router,
)
# Every API answer in 4xx is an ``ErrorRead``, whatever the route (the handlers below).
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    "4XX": {"model": ErrorRead, "description": "Refused: `code` says why, `message` how to fix it"}
}


def create_app(
    settings: Settings | None = None,
    database: Database | None = None,
    clock: Clock | None = None,
) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        db = database or Database(settings.database_url)
        db.migrate()
        app.state.database = db
        app.state.search_index_state = "off"
        builder = None
        if settings.search_index:
            builder = build_index_in_background(
                app, db, clock=app.state.clock, policy=settings.policy()
            )
        yield
        if builder is not None:  # its connection goes back to the pool before the pool goes
            builder.join(timeout=INDEX_BUILD_STOP_WAIT_S)
        if database is None:
            db.dispose()

    app = FastAPIOffline(
        title="parkshare",
        summary="Off-peak shared parking (错时共享停车): car parks, sharing windows, availability.",
        version="0.1.0",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.clock = clock or settings.clock()
    for router in API_ROUTERS:
        app.include_router(
            router,
            prefix=API_PREFIX,
            dependencies=[Depends(authorize)],
            responses=ERROR_RESPONSES,
        )
    web.mount(app, settings)
    _add_error_handlers(app)
    return app


def _add_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ParkshareError)
    async def business_error(request: Request, exc: ParkshareError) -> Response:
        if not request.url.path.startswith(API_PREFIX):
            return web.error_page(request, exc)
        return JSONResponse(exc.to_dict(), status_code=exc.status)

    @app.exception_handler(PageRedirect)
    async def page_redirect(_request: Request, exc: PageRedirect) -> Response:
        return RedirectResponse(exc.location, status_code=303)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [
            {"field": ".".join(str(p) for p in error["loc"]), "problem": error["msg"]}
            for error in exc.errors()
        ]
        message = "; ".join(f"{p['field']}: {p['problem']}" for p in problems)
        body = {"code": "invalid_input", "message": message, "details": {"errors": problems}}
        return JSONResponse(body, status_code=422)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> Response:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        if not request.url.path.startswith((API_PREFIX, "/static/")):
            page = PlainHttpError(exc.status_code, code, str(exc.detail))
            return web.error_page(request, page)
        return JSONResponse(
            {"code": code, "message": str(exc.detail)},
            status_code=exc.status_code,
            headers=exc.headers,
        )
