"""The operator console in the browser, on the shared demo server: the demo operator opens one
of their car parks, moves its working-day evening start, previews the coming week, saves and
sees the saved schedule; another operator's car park is refused; the console fits a phone.

Only car park HD-C-082 (far west, away from the landmarks the driver journeys search around)
is changed, and only by sharing from earlier: no other journey depends on it.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.web.conftest import DemoServer, page_width, shot, sign_in

pytestmark = pytest.mark.timeout(120)

OPERATOR, PASSWORD = "hengan", "operator-demo-2022"
MINE = "HD-C-082"  # an office car park of 青岛恒安物业服务有限公司: workdays from 19:00
NOT_MINE = "HD-I-003"  # the hospital's car park, another operator's
FRIDAY = "2026-11-27"  # the demo's today


def friday_periods(page: Any) -> list[str]:
    starts: list[str] = page.eval_on_selector_all(
        f"[data-testid=week] tr[data-date='{FRIDAY}'] .period",
        "spans => spans.map(s => s.dataset.start)",
    )
    return starts


def test_the_operator_moves_the_evening_start_previews_the_week_and_saves(
    page: Any, demo_server: DemoServer
) -> None:
    base = demo_server.base_url
    sign_in(page, base, OPERATOR, PASSWORD)
    assert page.url == f"{base}/console"  # operators land on their console
    assert page.locator("[data-testid=lots] tbody tr").count() == 17
    shot(page, "console-home")

    page.click(f"a[href='/console/lots/{MINE}']")
    page.wait_for_url(f"**/console/lots/{MINE}")
    assert page.locator("[data-testid=live]").is_visible()
    shot(page, "console-lot")

    page.click("[data-testid=edit-schedule]")
    page.wait_for_url(f"**/console/lots/{MINE}/schedule")
    assert page.input_value("input[name=r0_start]") == "19:00"
    assert friday_periods(page) == ["00:00", "19:00"]
    page.fill("input[name=r0_start]", "18:30")
    page.click("[data-testid=preview]")
    page.wait_for_load_state()
    assert page.get_attribute("[data-testid=week-section]", "data-proposed") == "yes"
    assert friday_periods(page) == ["00:00", "18:30"]
    windows = page.inner_text("[data-testid=windows]")
    assert re.search(r"11月27日 周五 18:30", windows), windows
    assert page.input_value("input[name=r0_start]") == "18:30"
    shot(page, "console-schedule-preview")

    page.click("[data-testid=save]")
    page.wait_for_url(f"**/console/lots/{MINE}/schedule?saved=1")
    assert page.locator("[data-testid=notice]").is_visible()
    assert page.get_attribute("[data-testid=week-section]", "data-proposed") == "no"
    assert page.input_value("input[name=r0_start]") == "18:30"
    assert friday_periods(page) == ["00:00", "18:30"]
    shot(page, "console-schedule-saved")

    page.click(f"a[href='/console/lots/{MINE}']")
    assert "18:30" in page.inner_text("[data-testid=rules]")


def test_another_operators_car_park_is_refused(page: Any, demo_server: DemoServer) -> None:
    sign_in(page, demo_server.base_url, OPERATOR, PASSWORD)
    response = page.goto(f"{demo_server.base_url}/console/lots/{NOT_MINE}")
    assert response.status == 403
    assert page.get_attribute(".error", "data-code") == "not_your_car_park"
    shot(page, "console-not-yours")


def test_the_console_fits_a_375_px_phone(mobile_page: Any, demo_server: DemoServer) -> None:
    sign_in(mobile_page, demo_server.base_url, OPERATOR, PASSWORD)
    for path, name in [
        ("/console", "console-375px"),
        (f"/console/lots/{MINE}", "console-lot-375px"),
        (f"/console/lots/{MINE}/schedule", "console-schedule-375px"),
        (f"/console/lots/{MINE}/statement", "console-statement-375px"),
    ]:
        mobile_page.goto(demo_server.base_url + path)
        assert page_width(mobile_page) <= 375, path
        shot(mobile_page, name)
