"""Who is asking, and may they: the dependencies every API router and web page uses."""

from __future__ import annotations

import secrets
from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from parkshare.accounts import access, service
from parkshare.accounts.principal import Principal, Role
from parkshare.deps import ClockDep, DatabaseDep
from parkshare.errors import CsrfFailed, Forbidden, NotSignedIn

SESSION_COOKIE = "parkshare_session"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


async def current_principal(
    request: Request, database: DatabaseDep, clock: ClockDep
) -> Principal | None:
    """The account behind the request's bearer token (API clients) or session cookie (the web
    app); ``None`` when anonymous. An account token (``pst_…``) that is not valid is an error,
    not anonymity. Other bearer tokens (ingest keys, ``psk_…``) are not accounts: the ingest
    routes check them themselves, and elsewhere they count as anonymous. An anonymous request
    (most searches) costs no database work and no worker thread."""
    header = request.headers.get("authorization", "")
    scheme, _, secret = header.partition(" ")
    if scheme.lower() == "bearer" and secret.strip().startswith("pst_"):
        token, kind = secret.strip(), "api"
    elif cookie := request.cookies.get(SESSION_COOKIE):
        token, kind = cookie, "session"
    else:
        return None

    def look_up() -> Principal | None:
        with database.session() as session:
            return service.principal_for(session, token, kind=kind, clock=clock)

    principal = await run_in_threadpool(look_up)
    if principal is None and kind == "api":
        raise NotSignedIn("This token is not valid (expired, revoked or mistyped).")
    return principal


CurrentPrincipal = Annotated[Principal | None, Depends(current_principal)]


async def authorize(request: Request, database: DatabaseDep, principal: CurrentPrincipal) -> None:
    """Apply the route's entry of the access table (``accounts/access.py``). A web session
    changing anything through the API must also send its CSRF token in ``X-CSRF-Token``."""
    route = request.scope.get("route")
    rule = access.RULES.get(getattr(route, "name", ""))
    if rule is None:
        raise Forbidden("This endpoint has no access rule yet, so nobody may call it.")
    if principal is not None and principal.via == "cookie" and request.method not in SAFE_METHODS:
        check_csrf(principal, request.headers.get(CSRF_HEADER, ""))
    access.check_role(rule, principal)
    if access.scoped(rule) and principal is not None:
        caller, path = principal, dict(request.path_params)

        def check_scope() -> None:
            with database.session() as session:
                access.check_scope(rule, caller, path, session)

        await run_in_threadpool(check_scope)


def check_csrf(principal: Principal, sent: str) -> None:
    if not principal.csrf_token or not secrets.compare_digest(sent, principal.csrf_token):
        raise CsrfFailed("The form expired or came from another site; reload the page and retry.")


async def signed_in(principal: CurrentPrincipal) -> Principal:
    if principal is None:
        raise NotSignedIn("Sign in first.")
    return principal


SignedIn = Annotated[Principal, Depends(signed_in)]


# --- web pages


class PageRedirect(Exception):
    """Raised by page guards: the app answers with a 303 to ``location``."""

    def __init__(self, location: str) -> None:
        super().__init__(location)
        self.location = location


async def page_user(request: Request, principal: CurrentPrincipal) -> Principal | None:
    request.state.principal = principal
    return principal


PageUser = Annotated[Principal | None, Depends(page_user)]


def require_page(*roles: Role):  # type: ignore[no-untyped-def]
    """A page dependency: anonymous visitors go to the sign-in page and come back; a signed-in
    account of another role gets 403 (``Forbidden``, rendered as a page)."""

    async def guard(request: Request, user: PageUser) -> Principal:
        if user is None:
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            raise PageRedirect(f"/login?next={quote(target, safe='')}")
        if user.role not in roles:
            raise Forbidden(f"This page is not for a {user.role} account.")
        return user

    return guard
