"""Browser tests: the West Coast demo served by ``parkshare serve`` and driven in Debian's
headless Chromium through Playwright. A page fails its test if it asks for anything outside
the demo server or logs a JavaScript error."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import httpx
import pytest

from parkshare.logs import PLATE_LIKE, redact
from tests.conftest import server_missing

DEMO_NOW = "2026-11-27T16:00:00+08:00"  # a Friday afternoon, Asia/Shanghai
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-output" / "screenshots"
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@dataclass
class DemoServer:
    base_url: str
    database_url: str
    log: Path


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture(scope="session")
def demo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    """The demo built into a fresh SQLite file and served on a free loopback port."""
    folder = tmp_path_factory.mktemp("demo")
    database_url = f"sqlite:///{folder / 'parkshare.db'}"
    env = {
        **os.environ,
        "PARKSHARE_DATABASE_URL": database_url,
        "PARKSHARE_NOW": DEMO_NOW,
        "PARKSHARE_ENVIRONMENT": "development",
    }
    cli = [sys.executable, "-m", "parkshare"]
    subprocess.run([*cli, "demo"], env=env, check=True, capture_output=True, timeout=300)
    port = _free_port()
    log = folder / "server.log"
    with log.open("wb") as output:
        server = subprocess.Popen(
            [*cli, "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    base_url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(base_url, server, log)
        yield DemoServer(base_url=base_url, database_url=database_url, log=log)
    finally:
        server.terminate()
        server.wait(timeout=20)
    leaks = _secrets_in(log.read_text(encoding="utf-8", errors="replace"))
    assert not leaks, f"the server's log of the browser journeys holds secrets or plates: {leaks}"


# Everything the journeys send that must never be written down: the passwords they type,
# tokens and keys (by their prefixes), and plates in full (what ``redact`` would mask).
JOURNEY_PASSWORDS = ("admin-demo-2022", "operator-demo-2022", "driver-demo-2022", "west-coast-2026")
SECRET = re.compile(r"\b(?:pst|psk)_[A-Za-z0-9_-]{8,}")


def _secrets_in(text: str) -> list[str]:
    """What a log should not hold, each shown masked (the test's own output is a log too)."""
    found = [f"password {p[:3]}…" for p in JOURNEY_PASSWORDS if p in text]
    found += [f"token {m.group()[:6]}…" for m in SECRET.finditer(text)]
    found += [f"plate {redact(m.group())}" for m in PLATE_LIKE.finditer(unquote(text))]
    return found


def _wait_until_up(base_url: str, server: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"parkshare serve exited:\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(f"{base_url}/api/v1/lots?limit=1", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    pytest.fail(f"parkshare serve did not answer within 60 s:\n{log.read_text()[-3000:]}")


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    executable = shutil.which("chromium")
    if executable is None:
        server_missing("browser tests need Debian's chromium (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@dataclass
class Watch:
    """What a page asked for outside the demo server, and the JavaScript errors it logged."""

    origin: str
    outside: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def check(self) -> None:
        assert self.outside == [], f"the page asked for outside resources: {self.outside}"
        assert self.errors == [], f"the page logged JavaScript errors: {self.errors}"


def _page(browser: Any, demo_server: DemoServer, **context: Any) -> Iterator[Any]:
    ctx = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai", **context)
    watch = Watch(origin=demo_server.base_url)

    def route(request_route: Any) -> None:
        url: str = request_route.request.url
        if url.startswith((watch.origin + "/", "data:", "blob:")) or url == watch.origin:
            request_route.continue_()
        else:
            watch.outside.append(url)
            request_route.abort()

    ctx.route("**/*", route)
    page = ctx.new_page()
    page.set_default_timeout(45_000)  # a loaded 2-core CI box can take seconds per page
    page.on("pageerror", lambda error: watch.errors.append(str(error)))
    page.on("console", lambda message: _console(watch, message))
    page.on("response", lambda response: _asset_failed(watch, response))
    yield page
    ctx.close()
    watch.check()


def _console(watch: Watch, message: Any) -> None:
    # A 4xx page (a refused form, a 403) is the app's answer, not a broken page; failed assets
    # are caught by _asset_failed.
    if message.type == "error" and not message.text.startswith("Failed to load resource"):
        watch.errors.append(message.text)


ASSET_TYPES = frozenset({"stylesheet", "script", "image", "font", "media"})


def _asset_failed(watch: Watch, response: Any) -> None:
    if response.status >= 400 and response.request.resource_type in ASSET_TYPES:
        watch.errors.append(f"{response.status} for {response.url}")


@pytest.fixture
def page(browser: Any, demo_server: DemoServer) -> Iterator[Any]:
    yield from _page(browser, demo_server, viewport={"width": 1280, "height": 860})


@pytest.fixture
def mobile_page(browser: Any, demo_server: DemoServer) -> Iterator[Any]:
    yield from _page(
        browser,
        demo_server,
        viewport={"width": 375, "height": 812},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
    )


def shot(page: Any, name: str) -> Path:
    """A full-page screenshot under test-output/screenshots/."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def sign_in(page: Any, base_url: str, login: str, password: str) -> None:
    page.goto(f"{base_url}/login")
    page.fill("input[name=login]", login)
    page.fill("input[name=password]", password)
    page.click("form[action='/login'] button[type=submit]")
    page.wait_for_load_state()


def page_width(page: Any) -> int:
    width: int = page.evaluate("document.documentElement.scrollWidth")
    return width
