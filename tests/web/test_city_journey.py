"""The city dashboard in the browser, on the shared demo server: the administrator signs in and
sees the article's figures, the map of live states and the utilisation charts; a spreadsheet is
checked (and not imported: the demo stays as other journeys expect it); the page fits a 375 px
screen."""

from __future__ import annotations

from typing import Any

import pytest

from parkshare.interop.rows import COLUMNS
from tests.web.conftest import DemoServer, page_width, shot, sign_in

pytestmark = pytest.mark.timeout(120)
ADMIN = ("admin", "admin-demo-2022")


def cell(page: Any, testid: str) -> str:
    text: str = page.inner_text(f"[data-testid={testid}]")
    return text.strip()


def test_the_administrator_sees_the_programme_the_map_and_the_charts(
    page: Any, demo_server: DemoServer
) -> None:
    sign_in(page, demo_server.base_url, *ADMIN)
    assert page.url.endswith("/city")  # an administrator lands on the dashboard

    assert page.inner_text("h1") == "城市看板"
    assert cell(page, "lots-institutional") == "32"
    assert cell(page, "berths-institutional") == "2,940"
    assert cell(page, "lots-commercial") == "85"
    assert cell(page, "berths-commercial") == "14,623"
    assert cell(page, "completion-commercial") == "142.86%"
    assert cell(page, "completion-institutional") == "100.00%"
    targets = page.inner_text("[data-testid=targets]")
    assert "完成率142.86%（超额完成）" in targets

    assert page.locator("svg#city-map g.marker").count() == 117
    assert page.locator("svg#city-map g.marker.live").count() > 0
    assert page.locator("svg#city-map g.marker.not_networked").count() > 0
    assert page.locator("[data-testid=legend] .dot").count() == 4
    live, stale, offline = (int(cell(page, f"count-{s}")) for s in ("live", "stale", "offline"))
    assert live > 90 and stale >= 2 and offline >= 3  # a few links dropped a while ago
    assert live + stale + offline == int(cell(page, "networked")) == 111
    assert cell(page, "count-not_networked") == "6"

    assert page.locator("[data-testid=chart-hours] rect.bar").count() > 12
    assert page.locator("[data-testid=chart-areas] rect.bar").count() > 0
    assert page.locator("[data-testid=chart-groups] rect.bar").count() == 2
    assert cell(page, "use-total").endswith("%")
    shot(page, "city-dashboard")

    page.locator("svg#city-map g.marker.live").first.dispatch_event("click")
    page.wait_for_url("**/city/lots/HD-*")
    assert page.get_attribute("[data-testid=lot-state]", "data-state") == "live"
    shot(page, "city-car-park")


def test_a_spreadsheet_is_checked_before_anything_is_imported(
    page: Any, demo_server: DemoServer, tmp_path: Any
) -> None:
    header = ",".join(column.label for column in COLUMNS)
    values = {
        "code": "HD-T-901",
        "name": "测试停车场",
        "operator": "测试单位",
        "kind": "institutional",
        "area": "长江路街道",
        "lon": "120.18",
        "lat": "35.96",
        "ordinary": "50",
        "status": "online",
        "schedule": "qingdao_institutional",
        "shared_ordinary": "20",
    }
    good = tmp_path / "new-car-park.csv"
    good.write_text(header + "\n" + ",".join(values.get(c.key, "") for c in COLUMNS) + "\n")
    gbk = tmp_path / "excel-gbk.csv"
    gbk.write_bytes((header + "\n").encode("gbk"))
    sign_in(page, demo_server.base_url, *ADMIN)

    page.set_input_files("[data-testid=import-form] input[type=file]", str(good))
    page.click("[data-testid=import-form] button[type=submit]")

    assert cell(page, "rows") == "1" and cell(page, "rows-ok") == "1"
    assert page.is_visible("[data-testid=confirm]")  # not clicked: the demo stays as it is
    shot(page, "city-import-checked")

    page.set_input_files("[data-testid=import-form] input[type=file]", str(gbk))
    page.click("[data-testid=import-form] button[type=submit]")

    assert page.get_attribute("[data-testid=import-refusal]", "data-code") == "bad_encoding"
    assert "CSV UTF-8" in page.inner_text("[data-testid=import-refusal]")
    shot(page, "city-import-refused")


def test_the_registry_exports_download_for_the_administrator(
    page: Any, demo_server: DemoServer
) -> None:
    sign_in(page, demo_server.base_url, *ADMIN)

    csv = page.request.get(
        demo_server.base_url + page.get_attribute("[data-testid=export-csv]", "href")
    )
    xlsx = page.request.get(
        demo_server.base_url + page.get_attribute("[data-testid=export-xlsx]", "href")
    )

    assert csv.status == 200 and csv.body().startswith(b"\xef\xbb\xbf")
    assert "HD-C-001" in csv.body().decode("utf-8-sig")
    assert xlsx.status == 200 and xlsx.body().startswith(b"PK")


def test_the_dashboard_fits_a_375_px_screen(mobile_page: Any, demo_server: DemoServer) -> None:
    sign_in(mobile_page, demo_server.base_url, *ADMIN)
    mobile_page.goto(demo_server.base_url + "/city")

    assert mobile_page.is_visible("[data-testid=targets]")
    assert page_width(mobile_page) <= 375
    shot(mobile_page, "city-dashboard-375px")
