"""The web app: server-rendered pages (Jinja2) with a little JavaScript, every asset served
here. Page groups: ``pages`` (start, sign-in, language), ``driver``, ``console`` (operators),
``city`` (administrators)."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI, Request
from fastapi.staticfiles import StaticFiles
from starlette.responses import HTMLResponse

from parkshare.config import Settings
from parkshare.errors import ParkshareError
from parkshare.web import city, console, driver, pages
from parkshare.web.render import HERE, render
from parkshare.web.security import SecurityHeaders

router = APIRouter(include_in_schema=False)
router.include_router(pages.router)
router.include_router(driver.router)
router.include_router(console.router)
router.include_router(city.router)


def mount(app: FastAPI, settings: Settings) -> None:
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    app.include_router(router)
    app.add_middleware(
        SecurityHeaders, tile_url=settings.map_tile_url, hsts=settings.secure_cookies
    )


def error_page(request: Request, exc: ParkshareError) -> HTMLResponse:
    return render(
        request,
        "error.html",
        status_code=exc.status,
        status=exc.status,
        code=exc.code,
        message=exc.message,
    )
