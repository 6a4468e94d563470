"""Rendering pages: one Jinja2 environment, the layout's context, CSRF for forms."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.templating import Jinja2Templates
from starlette.responses import HTMLResponse

from parkshare.accounts.deps import check_csrf
from parkshare.accounts.principal import Principal
from parkshare.errors import CsrfFailed
from parkshare.web.i18n import choose_language, translate

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=HERE / "templates")
ANON_CSRF_COOKIE = "parkshare_csrf"  # double-submit token of the sign-in and register forms


def render(
    request: Request, template: str, *, status_code: int = 200, **context: Any
) -> HTMLResponse:
    """A page in the visitor's language. Templates get ``t(key, **values)``, ``lang``, ``user``
    (a Principal or None) and ``csrf`` (the token every form and fetch() sends back)."""
    lang = choose_language(request)
    user: Principal | None = getattr(request.state, "principal", None)
    anon_token = request.cookies.get(ANON_CSRF_COOKIE) or secrets.token_urlsafe(24)
    csrf = user.csrf_token if user else anon_token

    def t(key: str, **values: object) -> str:
        return translate(lang, key, **values)

    response = templates.TemplateResponse(
        request,
        template,
        {"t": t, "lang": lang, "user": user, "csrf": csrf, **context},
        status_code=status_code,
    )
    if user is None and ANON_CSRF_COOKIE not in request.cookies:
        response.set_cookie(
            ANON_CSRF_COOKIE, anon_token, httponly=True, samesite="strict", path="/"
        )
    return response


def check_form(request: Request, user: Principal | None, sent: str) -> None:
    """A form post must carry the page's CSRF token (the session's, or before sign-in the
    double-submit cookie's)."""
    if user is not None:
        check_csrf(user, sent)
        return
    expected = request.cookies.get(ANON_CSRF_COOKIE, "")
    if not expected or not secrets.compare_digest(expected, sent):
        raise CsrfFailed("The form expired; reload the page and try again.")
