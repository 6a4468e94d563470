"""The shared pages in the browser: start page, sign-in, language switch, narrow screens."""

from __future__ import annotations

from typing import Any

import pytest

from tests.web.conftest import DemoServer, page_width, shot, sign_in

pytestmark = pytest.mark.timeout(120)


def test_start_page_counts_the_demo_network_and_loads_only_local_assets(
    page: Any, demo_server: DemoServer
) -> None:
    page.goto(demo_server.base_url + "/")
    assert "117" in page.inner_text(".figures")
    # the stylesheet (served here) applied
    assert page.evaluate("getComputedStyle(document.querySelector('.topbar')).display") == "flex"
    shot(page, "start-page")


def test_language_switch_turns_the_pages_english_and_back(
    page: Any, demo_server: DemoServer
) -> None:
    page.goto(demo_server.base_url + "/login")
    assert page.inner_text("h1") == "登录"
    page.click("[data-testid=language]")
    assert page.inner_text("h1") == "Sign in"
    page.click("[data-testid=language]")
    assert page.inner_text("h1") == "登录"


def test_english_browser_gets_english_pages(browser: Any, demo_server: DemoServer) -> None:
    context = browser.new_context(locale="en-GB", extra_http_headers={"Accept-Language": "en-GB"})
    english = context.new_page()
    english.goto(demo_server.base_url + "/login")
    assert english.inner_text("h1") == "Sign in"
    context.close()


def test_wrong_password_is_refused_with_a_message(page: Any, demo_server: DemoServer) -> None:
    sign_in(page, demo_server.base_url, "hengan", "not-the-password")
    assert page.get_attribute("[role=alert]", "data-code") == "wrong_credentials"
    assert page.context.cookies() and not any(
        c["name"] == "parkshare_session" for c in page.context.cookies()
    )


def test_sign_in_sets_an_http_only_session_cookie_and_sign_out_ends_it(
    page: Any, demo_server: DemoServer
) -> None:
    sign_in(page, demo_server.base_url, "13800138000", "driver-demo-2022")
    cookie = next(c for c in page.context.cookies() if c["name"] == "parkshare_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"
    assert page.evaluate("document.cookie").find("parkshare_session") == -1
    page.goto(demo_server.base_url + "/")
    page.click("[data-testid=logout]")
    assert not any(c["name"] == "parkshare_session" for c in page.context.cookies())


def test_sign_in_page_fits_a_375_px_screen(mobile_page: Any, demo_server: DemoServer) -> None:
    mobile_page.goto(demo_server.base_url + "/login")
    assert page_width(mobile_page) <= 375
    shot(mobile_page, "sign-in-375px")
