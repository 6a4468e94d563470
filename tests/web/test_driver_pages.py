"""The driver pages on both databases: search rendered server-side, reserving in two taps
(once, however often the confirmation is posted), my reservations, plates and passes, who may
see what, CSRF, refusals shown translated with their codes, both languages."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from datetime import datetime
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from shapely.geometry import Point
from sqlalchemy import func, select

from parkshare.accounts import service as accounts
from parkshare.accounts.principal import Role
from parkshare.app import create_app
from parkshare.clock import FixedClock
from parkshare.db import Database
from parkshare.demo.sites import huangdao_boundary, west_coast_sites
from parkshare.geo import haversine_m, wgs84_to_gcj02
from parkshare.reservations.model import Reservation, ReservationStatus
from parkshare.web.landmarks import LANDMARKS
from tests.factories import API_SETTINGS as SETTINGS
from tests.factories import DAY_NIGHT_TARIFF, make_account, make_lot

SH = ZoneInfo("Asia/Shanghai")
LOT = "T-001"  # make_lot puts every car park at 120.18, 35.96 (WGS-84)
LOT_LON, LOT_LAT = 120.18, 35.96
PLATE = "鲁B12345"
TONIGHT = "/find?place=district-government&when=tonight"  # ~0.4 km from the car park
# Friday 2022-06-24, 16:00: tonight is 19:00 → Saturday 07:30, inside the institutional window
# Friday 18:00 → Monday 07:30.
NOW = datetime(2022, 6, 24, 16, 0, tzinfo=SH)


@pytest.fixture
def client(database: Database, clock: FixedClock) -> Iterator[TestClient]:
    clock.set(NOW)
    with database.session(write=True) as session:
        make_lot(session, clock=clock, code=LOT, shared_berths=2, tariff=DAY_NIGHT_TARIFF)
    with TestClient(create_app(SETTINGS, database, clock)) as test_client:
        yield test_client


def sign_in(
    client: TestClient,
    database: Database,
    clock: FixedClock,
    *,
    role: Role = Role.DRIVER,
    plates: tuple[str, ...] = (PLATE,),
) -> str:
    """Sign a new account in on ``client`` (its session cookie); returns its CSRF token."""
    with database.session(write=True) as session:
        account = make_account(session, clock=clock, role=role, plates=plates)
        secret = accounts.issue_token(session, account, kind="session", clock=clock)
        principal = accounts.principal_for(session, secret, kind="session", clock=clock)
    assert principal is not None
    client.cookies.set("parkshare_session", secret)
    return principal.csrf_token


def hidden_fields(page: str) -> dict[str, str]:
    found = re.findall(r'<input type="hidden" name="([\w-]+)" value="([^"]*)">', page)
    return {name: html.unescape(value) for name, value in found}


def reserve_href(page: str) -> str:
    match = re.search(r'href="(/find/reserve\?[^"]+)" data-testid="reserve"', page)
    assert match, "no Reserve button"
    return html.unescape(match.group(1))


def confirmation(client: TestClient) -> dict[str, str]:
    """Tap 1: the confirmation form of the first result of tonight's search."""
    page = client.get(reserve_href(client.get(TONIGHT).text))
    assert page.status_code == 200
    assert 'data-testid="confirm"' in page.text
    return hidden_fields(page.text) | {"plate": PLATE}


def confirmation_page(client: TestClient, form: dict[str, str]) -> str:
    """Tap 1 again for the window of an earlier confirmation."""
    query = urlencode({"lot": form["lot"], "from": form["from"], "to": form["to"]})
    return client.get(f"/find/reserve?{query}").text


def booked(client: TestClient, form: dict[str, str]) -> str:
    """Tap 2; returns the reference of the reservation it lands on."""
    answer = client.post("/find/reserve", data=form, follow_redirects=False)
    assert answer.status_code == 303, answer.text
    match = re.fullmatch(r"/me/reservations/(R\w+)\?booked=1", answer.headers["location"])
    assert match
    return match.group(1)


def reservations_in(database: Database) -> int:
    with database.session() as session:
        return session.scalar(select(func.count()).select_from(Reservation)) or 0


def refusal_code(page: str) -> str:
    match = re.search(r'role="alert" data-testid="[\w-]+" data-code="(\w+)"', page)
    assert match, "no refusal on the page"
    return match.group(1)


# --- search


def test_search_lists_the_car_park_with_price_walk_and_must_leave_by(client: TestClient) -> None:
    page = client.get(TONIGHT)
    assert page.status_code == 200
    text = page.text
    assert 'data-testid="result" data-code="T-001"' in text
    assert "6月27日（周一）07:30" in text  # the Friday night window closes on Monday morning
    assert re.search(r'data-testid="price">¥\d+\.\d\d<', text)
    assert "直线距离" in text  # the walking estimate says it is straight-line based
    assert 'class="marker free" data-code="T-001"' in text  # on the map
    assert 'class="pin"' in text  # and the chosen place
    assert "/find/reserve?lot=T-001" in html.unescape(text)


def test_a_point_picked_on_the_map_in_gcj02_finds_the_same_car_park(client: TestClient) -> None:
    lon, lat = wgs84_to_gcj02(LOT_LON + 0.002, LOT_LAT)
    page = client.get(f"/find?lat={lat:.6f}&lon={lon:.6f}&coords=gcj02&when=now")
    assert page.status_code == 200
    assert 'data-testid="result" data-code="T-001"' not in page.text  # now is before 18:00
    page = client.get(f"/find?lat={lat:.6f}&lon={lon:.6f}&coords=gcj02&when=weekend")
    assert 'data-testid="result" data-code="T-001"' in page.text
    assert "（GCJ-02）附近" in page.text


def test_a_custom_window_is_read_as_shanghai_time(client: TestClient) -> None:
    page = client.get(
        "/find?place=district-government&when=custom&from=2022-06-25T09:00&to=2022-06-25T18:00"
    )
    assert page.status_code == 200
    assert "6月25日（周六）09:00 – 18:00" in page.text
    assert 'data-code="T-001"' in page.text


@pytest.mark.parametrize(
    ("query", "code", "shown"),
    [
        ("lat=abc&lon=120.18&when=tonight", "invalid_input", "纬度应为"),
        ("lat=35.96&lon=999&when=tonight", "invalid_input", "经度应为"),
        ("place=atlantis&when=tonight", "invalid_input", "请选择一个地标"),
        ("when=tonight", "invalid_input", "请选择一个地标"),
        (
            "place=upc&when=custom&from=2022-06-24T20:00&to=2022-06-24T19:00",
            "invalid_interval",
            "离开时间必须晚于到达时间",
        ),
        ("place=upc&when=custom&from=2022-06-24T20:00&to=", "invalid_timestamp", "请填写"),
        (
            "place=upc&when=custom&from=2022-06-23T20:00&to=2022-06-23T22:00",
            "starts_in_past",
            "已经过去",
        ),
    ],
)
def test_bad_search_input_is_explained_on_the_page(
    client: TestClient, query: str, code: str, shown: str
) -> None:
    page = client.get(f"/find?{query}")
    assert page.status_code == 422
    assert refusal_code(page.text) == code
    assert shown in page.text
    assert "<form" in page.text  # the form is there to correct it


def test_the_find_page_renders_in_english(client: TestClient) -> None:
    client.cookies.set("lang", "en")
    page = client.get(TONIGHT)
    assert "Find a shared berth" in page.text
    assert "Mon 27 Jun 07:30" in page.text
    assert "Distances are straight lines" in page.text
    assert ">Reserve<" in page.text
    refused = client.get("/find?lat=north&lon=120&when=tonight")
    assert "Latitude is a number between -90 and 90" in refused.text


# --- reserving in two taps


def test_an_anonymous_visitor_tapping_reserve_is_sent_to_sign_in(client: TestClient) -> None:
    target = reserve_href(client.get(TONIGHT).text)
    answer = client.get(target, follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/login?next=%2Ffind%2Freserve%3Flot%3DT-001")


def test_the_confirmation_shows_window_price_plate_and_must_leave_by_warning(
    client: TestClient, database: Database, clock: FixedClock
) -> None:
    sign_in(client, database, clock, plates=(PLATE, "鲁BD12345"))
    page = client.get(reserve_href(client.get(TONIGHT).text)).text
    assert 'data-testid="must-leave-by"' in page
    assert "请在 6月27日（周一）07:30 前离场" in page
    assert "6月24日（周五）19:00 – 6月25日（周六）07:30" in page
    assert f'<option value="{PLATE}" selected>' in page
    assert '<option value="鲁BD12345">' in page
    assert len(hidden_fields(page)["idempotency_key"]) >= 16


def test_confirming_twice_with_the_same_key_books_once(
    client: TestClient, database: Database, clock: FixedClock
) -> None:
    sign_in(client, database, clock)
    form = confirmation(client)
    first = booked(client, form)
    again = booked(client, form)  # a double tap, or the browser re-posting
    assert again == first
    assert reservations_in(database) == 1
    page = client.get(f"/me/reservations/{first}?booked=1").text
    assert "预约成功" in page
    assert 'data-testid="must-leave-by"' in page


def test_a_new_confirmation_is_a_new_booking_attempt(
    client: TestClient, database: Database, clock: FixedClock
) -> None:
    sign_in(client, database, clock)
    form = confirmation(client)
    booked(client, form)
    fresh = hidden_fields(confirmation_page(client, form))
    assert fresh["idempotency_key"] != form["idempotency_key"]
    second = client.post("/find/reserve", data=form | fresh, follow_redirects=False)
    assert second.status_code == 409
    assert refusal_code(second.text) == "plate_already_booked"
    assert "该车牌在这个时段已经有预约了" in second.text
    assert reservations_in(database) == 1


def test_a_full_car_park_is_refused_translated_with_its_code(
    client: TestClient, database: Database, clock: FixedClock
) -> None:
    sign_in(client, database, clock)
    form = confirmation(client)
    booked(client, form)
    sign_in(client, database, clock, plates=("鲁B54321",))
    booked(client, confirmation(client) | {"plate": "鲁B54321"})  # the last shared berth
    sign_in(client, database, clock, plates=("鲁B67890",))
    page = confirmation_page(client, form)
    assert refusal_code(page) == "no_capacity"
    assert 'data-testid="confirm"' not in page  # nothing to confirm
    csrf = re.findall(r'name="csrf_token" value="([^"]+)"', page)[0]
    mine = {"plate": "鲁B67890", "csrf_token": csrf, "idempotency_key": "a-key-of-my-own-0001"}
    late = client.post("/find/reserve", data=form | mine)
    assert late.status_code == 409
    assert refusal_code(late.text) == "no_capacity"
    client.cookies.set("lang", "en")
    english = client.post("/find/reserve", data=form | mine)
    assert "This car park has no free shared berth" in english.text


def test_a_driver_books_only_with_their_own_plates(
    client: TestClient, database: Database, clock: FixedClock
) -> None:
    sign_in(client, database, clock)
    form = confirmation(client) | {"plate": "鲁B67890"}
    answer = client.post("/find/reserve", data=form)
    assert answer.status_code == 403
    assert refusal_code(answer.text) == "not_your_plate"
    assert reservations_in(database) == 0


def test_posting_without_the_csrf_token_is_refused(
    client: TestClient, database: Database, clock: FixedClock
) -> None:
    sign_in(client, database, clock)
    form = confirmation(client)
    for missing in (
        {**form, "csrf_token": ""},
        {k: v for k, v in form.items() if k != "csrf_token"},
    ):
        answer = client.post("/find/reserve", data=missing)
        assert answer.status_code == 403
        assert 'data-code="csrf_failed"' in answer.text
    assert client.post("/me/plates", data={"plate": "鲁BD12345"}).status_code == 403
    assert reservations_in(database) == 0


# --- my reservations


def test_my_page_lists_upcoming_reservations_with_must_leave_by(
    client: TestClient, database: Database, clock: FixedClock
) -> None:
    sign_in(client, database, clock)
    ref = booked(client, confirmation(client))
    page = client.get("/me").text
    assert f'data-ref="{ref}" data-status="booked"' in page
    assert "请在 6月27日（周一）07:30 前离场" in page
    assert "现在取消免费" in page


def test_a_driver_cannot_see_or_cancel_another_drivers_reservation(
    client: TestClient, database: Database, clock: FixedClock
) -> None:
    sign_in(client, database, clock)
    ref = booked(client, confirmation(client))
    other = sign_in(client, database, clock, plates=("鲁B67890",))
    assert client.get(f"/me/reservations/{ref}").status_code == 404
    cancel = client.post(f"/me/reservations/{ref}/cancel", data={"csrf_token": other})
    assert cancel.status_code == 404
    assert ref not in client.get("/me").text
    with database.session() as session:
        row = session.scalars(select(Reservation).where(Reservation.ref == ref)).one()
        assert row.status is ReservationStatus.BOOKED


def test_cancelling_late_costs_the_late_fee_and_says_so(
    client: TestClient, database: Database, clock: FixedClock
) -> None:
    csrf = sign_in(client, database, clock)
    ref = booked(client, confirmation(client))
    clock.set(datetime(2022, 6, 24, 18, 30, tzinfo=SH))  # 30 minutes before the start
    page = client.get(f"/me/reservations/{ref}").text
    assert "现在取消将收取 ¥5.00" in page
    answer = client.post(f"/me/reservations/{ref}/cancel", data={"csrf_token": csrf})
    assert answer.status_code == 200  # followed to the reservation
    assert 'data-status="cancelled"' in answer.text
    assert 'data-testid="cancel-fee">¥5.00<' in answer.text
    assert 'data-testid="must-leave-by"' not in answer.text


def test_a_started_reservation_cannot_be_cancelled(
    client: TestClient, database: Database, clock: FixedClock
) -> None:
    csrf = sign_in(client, database, clock)
    ref = booked(client, confirmation(client))
    clock.set(datetime(2022, 6, 24, 19, 5, tzinfo=SH))
    answer = client.post(f"/me/reservations/{ref}/cancel", data={"csrf_token": csrf})
    assert answer.status_code == 409
    assert refusal_code(answer.text) == "cancellation_refused"
    assert "这个预约已不能取消" in answer.text


def test_my_pages_are_for_drivers(
    client: TestClient, database: Database, clock: FixedClock
) -> None:
    answer = client.get("/me", follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/login?next=%2Fme"
    sign_in(client, database, clock, role=Role.ADMIN, plates=())
    assert client.get("/me").status_code == 403
    assert client.get("/me/passes/apply").status_code == 403


def test_my_page_renders_in_english(
    client: TestClient, database: Database, clock: FixedClock
) -> None:
    sign_in(client, database, clock)
    booked(client, confirmation(client))
    client.cookies.set("lang", "en")
    page = client.get("/me").text
    assert "My bookings" in page
    assert "You must leave by Mon 27 Jun 07:30" in page
    assert "Cancelling now is free." in page


# --- plates


@pytest.mark.parametrize(
    ("plate", "shown"),
    [
        ("鲁B1234", "您输入了 6 位"),  # too short for an ordinary plate
        ("鲁BD123456", "您输入了 9 位"),  # too long for a new-energy plate
        ("鲁BO1234", "第 3 位“O”不正确"),  # the letter O is never used
        ("鲁B12345X", "第 3 位“1”不正确"),  # 8 characters without a new-energy letter
    ],
)
def test_plate_errors_are_shown_on_my_page(
    client: TestClient, database: Database, clock: FixedClock, plate: str, shown: str
) -> None:
    csrf = sign_in(client, database, clock)
    answer = client.post("/me/plates", data={"plate": plate, "csrf_token": csrf})
    assert answer.status_code == 422
    assert refusal_code(answer.text) == "invalid_plate"
    assert shown in answer.text
    assert f'value="{plate}"' in answer.text  # what was typed, to correct it


def test_adding_and_removing_plates(
    client: TestClient, database: Database, clock: FixedClock
) -> None:
    csrf = sign_in(client, database, clock)
    added = client.post("/me/plates", data={"plate": "鲁bd12345", "csrf_token": csrf})
    assert added.status_code == 200  # followed to /me
    assert "<span>鲁BD12345</span>" in added.text  # normalised, 8-character new-energy plate
    removed = client.post("/me/plates/remove", data={"plate": PLATE, "csrf_token": csrf})
    assert f"<span>{PLATE}</span>" not in removed.text
    gone = client.post("/me/plates/remove", data={"plate": PLATE, "csrf_token": csrf})
    assert gone.status_code == 404
    assert refusal_code(gone.text) == "not_found"


# --- monthly passes


def test_applying_for_a_monthly_pass(
    client: TestClient, database: Database, clock: FixedClock
) -> None:
    csrf = sign_in(client, database, clock)
    form = client.get("/me/passes/apply").text
    assert '<option value="2022-07" selected>' in form
    data = {
        "csrf_token": csrf,
        "plate": PLATE,
        "kind": "night",
        "month": "2022-07",
        "place": "",
        "lat": "35.9605",
        "lon": "120.1845",
        "coords": "wgs84",
        "max_walk": "1000",
    }
    answer = client.post("/me/passes/apply", data=data)
    assert answer.status_code == 200  # followed to /me#passes
    assert 'data-testid="application"' in answer.text
    assert "待分配" in answer.text
    refused = client.post("/me/passes/apply", data={**data, "plate": "鲁B67890"})
    assert refused.status_code == 403
    assert refusal_code(refused.text) == "not_your_plate"
    closed = client.post("/me/passes/apply", data={**data, "month": "2022-06"})
    assert closed.status_code == 422
    assert refusal_code(closed.text) == "invalid_input"


# --- landmarks (pure)


def test_every_landmark_is_in_the_district_and_near_demo_car_parks() -> None:
    district = huangdao_boundary()
    sites = west_coast_sites()
    for landmark in LANDMARKS:
        assert district.contains(Point(landmark.lon, landmark.lat)), landmark.key
        nearest = min(haversine_m(landmark.lon, landmark.lat, s.lon, s.lat) for s in sites)
        assert nearest < 3_000, f"{landmark.key}: nearest demo car park {nearest:.0f} m away"
    assert len({landmark.key for landmark in LANDMARKS}) == len(LANDMARKS)
