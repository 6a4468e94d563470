"""Security headers on pages and API answers, and the session cookie's flags, in development
and in production."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from parkshare.app import create_app
from parkshare.clock import FixedClock
from parkshare.db import Database
from tests.factories import API_SETTINGS, make_account

STRICT = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def _signed_in(client: TestClient, login: str) -> str:
    """Sign in through the form as a browser would; the Set-Cookie header of the answer."""
    form = client.get("/login").text
    csrf = re.findall(r'name="csrf_token" value="([^"]+)"', form)[0]
    answer = client.post(
        "/login",
        data={"login": login, "password": "correct-horse-7", "csrf_token": csrf},
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text
    return next(c for c in answer.headers.get_list("set-cookie") if "parkshare_session" in c)


@pytest.mark.parametrize("environment", ["development", "production"])
def test_pages_and_answers_carry_the_security_headers_and_cookie_flags(
    database: Database, clock: FixedClock, environment: str
) -> None:
    with database.session(write=True) as session:
        admin = make_account(session, clock=clock)
        login = admin.login
    settings = API_SETTINGS.model_copy(update={"environment": environment, "now": None})
    production = environment == "production"
    with TestClient(create_app(settings, database, clock), base_url="https://testserver") as client:
        page = client.get("/login")
        api = client.get("/api/v1/lots")
        for answer in (page, api):
            for name, value in STRICT.items():
                assert answer.headers[name] == value
            policy = answer.headers["Content-Security-Policy"]
            assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy
            assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
            assert ("Strict-Transport-Security" in answer.headers) is production
        assert page.headers["Cache-Control"] == "no-store"  # a page may be personal
        cookie = _signed_in(client, login).lower()
        assert "httponly" in cookie and "samesite=lax" in cookie and "path=/" in cookie
        assert ("secure" in cookie.split("; ")) is production
