"""The start page, sign-in, registration, sign-out and the language switch."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from parkshare.accounts import service as accounts
from parkshare.accounts.api import client_address
from parkshare.accounts.deps import SESSION_COOKIE, PageUser
from parkshare.accounts.model import Account
from parkshare.accounts.principal import Role
from parkshare.deps import ClockDep, DatabaseDep, SessionDep, SettingsDep, write
from parkshare.errors import ParkshareError
from parkshare.lots.repository import LotRepository
from parkshare.schedules.service import peak_shared_berths
from parkshare.web.i18n import LANG_COOKIE, LANGUAGES
from parkshare.web.render import check_form, render

router = APIRouter()

Text = Annotated[str, Form(max_length=200)]
Next = Annotated[str, Form(max_length=500)]


def safe_next(target: str, default: str = "/") -> str:
    """Only a path on this site (never //evil.example or https://…) as a redirect target."""
    parts = urlsplit(target)
    if not target.startswith("/") or target.startswith("//") or parts.scheme or parts.netloc:
        return default
    return target


def landing(role: Role) -> str:
    return {Role.DRIVER: "/find", Role.OPERATOR: "/console", Role.ADMIN: "/city"}.get(role, "/")


@router.get("/", response_class=HTMLResponse)
def home(request: Request, user: PageUser, session: SessionDep) -> HTMLResponse:
    lots = LotRepository(session).all_with_rules()
    berths = sum(peak_shared_berths(lot) for lot in lots)
    return render(request, "home.html", lots=len(lots), berths=berths)


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, user: PageUser, next: str = "") -> Response:
    if user is not None:
        return RedirectResponse(safe_next(next, landing(user.role)), status_code=303)
    return render(request, "login.html", next=safe_next(next, ""), login="", error=None)


@router.post("/login", response_class=HTMLResponse)
def login(
    request: Request,
    user: PageUser,
    database: DatabaseDep,
    settings: SettingsDep,
    clock: ClockDep,
    login: Annotated[str, Form(max_length=40)],
    password: Text,
    csrf_token: Text = "",
    next: Next = "",
) -> Response:
    check_form(request, user, csrf_token)
    client = client_address(request)

    def work(session: Session) -> tuple[Account | None, str, ParkshareError | None]:
        outcome = accounts.sign_in(
            session, login=login, password=password, client=client, clock=clock
        )
        if outcome.account is None:
            return None, "", outcome.refusal
        secret = accounts.issue_token(session, outcome.account, kind="session", clock=clock)
        return outcome.account, secret, None

    account, secret, refusal = write(database, work)
    if account is None:
        assert refusal is not None
        return render(
            request,
            "login.html",
            status_code=refusal.status,
            next=safe_next(next, ""),
            login=login,
            error=refusal,
        )
    return _signed_in(
        safe_next(next, landing(account.role)), secret, secure=settings.secure_cookies
    )


@router.get("/register", response_class=HTMLResponse)
def register_page(request: Request, user: PageUser, next: str = "") -> HTMLResponse:
    form = {"phone": "", "name": "", "plate": ""}
    return render(request, "register.html", next=safe_next(next, ""), form=form, error=None)


@router.post("/register", response_class=HTMLResponse)
def register(
    request: Request,
    user: PageUser,
    database: DatabaseDep,
    settings: SettingsDep,
    clock: ClockDep,
    phone: Annotated[str, Form(max_length=20)],
    password: Text,
    plate: Annotated[str, Form(max_length=20)],
    name: Annotated[str, Form(max_length=80)] = "",
    csrf_token: Text = "",
    next: Next = "",
) -> Response:
    check_form(request, user, csrf_token)

    def work(session: Session) -> str:
        account = accounts.register_driver(
            session, phone=phone, password=password, name=name, clock=clock
        )
        accounts.add_plate(session, account.id, plate, clock=clock)
        return accounts.issue_token(session, account, kind="session", clock=clock)

    try:
        secret = write(database, work)
    except ParkshareError as refusal:  # nothing was stored: show the form again with why
        form = {"phone": phone, "name": name, "plate": plate}
        return render(
            request,
            "register.html",
            status_code=refusal.status,
            next=safe_next(next, ""),
            form=form,
            error=refusal,
        )
    return _signed_in(safe_next(next, "/find"), secret, secure=settings.secure_cookies)


def _signed_in(target: str, secret: str, *, secure: bool) -> Response:
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        secret,
        max_age=int(accounts.SESSION_FOR.total_seconds()),
        httponly=True,
        samesite="lax",
        secure=secure,
        path="/",
    )
    return response


@router.post("/logout")
def logout(
    request: Request,
    user: PageUser,
    database: DatabaseDep,
    clock: ClockDep,
    csrf_token: Text = "",
) -> Response:
    if user is not None:
        check_form(request, user, csrf_token)
        secret = request.cookies.get(SESSION_COOKIE, "")

        def work(session: Session) -> None:
            accounts.revoke_token(session, secret, clock=clock)

        write(database, work)
    response = RedirectResponse("/", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/lang/{code}")
def switch_language(code: str, request: Request) -> Response:
    back = safe_next(urlsplit(request.headers.get("referer", "/")).path or "/")
    response = RedirectResponse(back, status_code=303)
    if code in LANGUAGES:
        response.set_cookie(LANG_COOKIE, code, max_age=365 * 86_400, samesite="lax", path="/")
    return response
