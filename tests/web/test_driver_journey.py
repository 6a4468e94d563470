"""A driver's journey in the browser, on the West Coast demo (now: Friday 2026-11-27 16:00):
register, search for tonight near a landmark, see the car parks on the list and the map,
reserve in two taps, find the reservation with its must-leave-by warning under /me; the map
as a place picker; the search page on a 375 px phone."""

from __future__ import annotations

import secrets
from typing import Any

import pytest

from tests.web.conftest import DemoServer, page_width, shot

pytestmark = pytest.mark.timeout(120)

TANGDAO_TONIGHT = "/find?place=tangdao-bay-park&when=tonight"


def new_driver() -> tuple[str, str]:
    """A phone number and a new-energy plate no other test uses."""
    number = secrets.randbelow(10**8)
    return f"137{number:08d}", f"鲁BD{number % 10**5:05d}"


def test_a_new_driver_finds_tonights_berth_and_reserves_it_in_two_taps(
    page: Any, demo_server: DemoServer
) -> None:
    base = demo_server.base_url
    phone, plate = new_driver()
    page.goto(f"{base}/register")
    page.fill("input[name=phone]", phone)
    page.fill("input[name=password]", "west-coast-2026")
    page.fill("input[name=plate]", plate)
    page.click("form[action='/register'] button[type=submit]")
    page.wait_for_url(f"{base}/find")
    shot(page, "driver-1-registered")

    page.select_option("#find-place", "tangdao-bay-park")
    page.check("input[name=when][value=tonight]")
    assert not page.is_visible("[data-testid=custom-window]")  # only for "custom"
    page.click("[data-testid=search]")
    page.wait_for_url("**/find?place=tangdao-bay-park*when=tonight*")
    results = page.locator("[data-testid=result]")
    assert results.count() >= 1
    assert page.locator("#find-map .marker").count() == results.count()
    assert page.locator("#find-map .pin").count() == 1
    assert "直线距离" in page.inner_text("[data-testid=distance-note]")
    first = results.first
    code = first.get_attribute("data-code")
    assert code == "HD-I-003"  # the hospital's car park, 130 m from the park, shares tonight
    shot(page, "driver-2-results")

    first.locator("[data-testid=reserve]").click()  # tap 1
    page.wait_for_url("**/find/reserve?*")
    warning = page.inner_text("[data-testid=confirmation] [data-testid=must-leave-by]")
    assert "11月30日（周一）07:30" in warning  # Friday's window runs to Monday morning
    assert page.input_value("[data-testid=plate]") == plate
    shot(page, "driver-3-confirm")

    page.click("[data-testid=confirm]")  # tap 2
    page.wait_for_url("**/me/reservations/*?booked=1")
    assert page.is_visible("[data-testid=booked]")
    shot(page, "driver-4-booked")

    page.click("nav a[href='/me']")
    page.wait_for_url(f"{base}/me")
    booking = page.locator("[data-testid=booking]").first
    assert booking.get_attribute("data-status") == "booked"
    assert code in booking.inner_text() or "第二人民医院" in booking.inner_text()
    assert "11月30日（周一）07:30" in booking.locator("[data-testid=must-leave-by]").inner_text()
    assert plate in page.inner_text("[data-testid=plates]")
    shot(page, "driver-5-my-bookings")


def test_a_click_on_the_map_searches_around_that_point(page: Any, demo_server: DemoServer) -> None:
    page.goto(f"{demo_server.base_url}{TANGDAO_TONIGHT}")
    box = page.locator("#find-map").bounding_box()
    page.mouse.click(box["x"] + 12, box["y"] + box["height"] - 12)  # a corner, off the markers
    page.wait_for_url("**coords=gcj02*")
    url = page.url
    assert "place=&" in url and "lat=35." in url and "lon=120." in url
    assert page.locator("#find-map .pin").count() == 1
    assert page.is_visible("[data-testid=results]")
    shot(page, "driver-map-pick")


def test_the_search_page_fits_a_375_px_phone(mobile_page: Any, demo_server: DemoServer) -> None:
    mobile_page.goto(f"{demo_server.base_url}{TANGDAO_TONIGHT}")
    assert page_width(mobile_page) <= 375
    reserve = mobile_page.locator("[data-testid=reserve]").first
    reserve.scroll_into_view_if_needed()
    assert reserve.is_visible()
    box = reserve.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 375
    shot(mobile_page, "driver-find-375px")
