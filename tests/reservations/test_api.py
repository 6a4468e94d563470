"""The reservations API on both databases: booking, idempotency, refusals with their codes,
cancelling, the day list, and arrivals and departures with their fees."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from parkshare.app import create_app
from parkshare.clock import FixedClock
from parkshare.db import Database
from parkshare.reservations.model import WaitlistEntry
from tests.factories import API_SETTINGS as SETTINGS
from tests.factories import DAY, NIGHT, bearer_for, make_lot
from tests.factories import DAY_NIGHT_TARIFF as TARIFF

SH = ZoneInfo("Asia/Shanghai")
LOT = "L"
PLATE, OTHER, THIRD = "鲁B12345", "鲁B67890", "鲁BD12345"
MASKED = "鲁B1***5"
# 2022-06-24 is a Friday: its 18:00 window runs through the weekend to Monday 07:30.
FRIDAY_NIGHT = {"from": "2022-06-24T19:00:00+08:00", "to": "2022-06-25T10:00:00+08:00"}
FRIDAY_MUST_LEAVE_BY = "2022-06-27T07:30:00+08:00"
# Monday 2022-06-27 is a working day: its window closes at 07:30 on Tuesday.
MONDAY_NIGHT = {"from": "2022-06-27T19:00:00+08:00", "to": "2022-06-28T07:00:00+08:00"}
MONDAY_MUST_LEAVE_BY = "2022-06-28T07:30:00+08:00"


def at(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=SH)  # type: ignore[misc]


def serve(database: Database, clock: FixedClock) -> TestClient:
    """The API over a car park ``L`` with two shared berths and a tariff; now is Friday 09:00."""
    clock.set(at(2022, 6, 24, 9))
    with database.session(write=True) as session:
        make_lot(session, clock=clock, code=LOT, shared_berths=2, tariff=TARIFF)
    return TestClient(
        create_app(SETTINGS, database, clock), headers=bearer_for(database, clock=clock)
    )


@pytest.fixture
def client(database: Database, clock: FixedClock) -> Iterator[TestClient]:
    with serve(database, clock) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def idle(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """One SQLite database shared by the tests of requests refused before anything is stored;
    each checks that still nothing is. (Refusals inside the write transaction, and every
    change, are tested on both databases with ``client``.)"""
    database = Database(f"sqlite:///{tmp_path_factory.mktemp('idle')}/parkshare.db")
    database.migrate()
    with serve(database, FixedClock(at(2022, 6, 24, 9))) as test_client:
        yield test_client
    database.dispose()


def reserve(
    client: TestClient,
    plate: str = PLATE,
    span: dict[str, str] = FRIDAY_NIGHT,
    *,
    key: str | None = None,
    **extra: Any,
) -> httpx.Response:
    body = {"lot": LOT, "plate": plate, **span, **extra}
    headers = {"Idempotency-Key": key} if key else {}
    return client.post("/api/v1/reservations", json=body, headers=headers)


def free(client: TestClient, span: dict[str, str] = FRIDAY_NIGHT) -> int:
    response = client.get(f"/api/v1/lots/{LOT}/availability", params=span)
    assert response.status_code == 200, response.text
    value: int = response.json()["free"]
    return value


def on_day(client: TestClient, day: str) -> list[dict[str, Any]]:
    response = client.get(f"/api/v1/lots/{LOT}/reservations", params={"date": day})
    assert response.status_code == 200, response.text
    rows: list[dict[str, Any]] = response.json()
    return rows


def assert_plate_hidden(response: httpx.Response, plate: str = PLATE) -> None:
    """Neither the full number nor its part after the province appears in the body."""
    text = json.dumps(response.json(), ensure_ascii=False)
    assert plate not in text
    assert plate[1:] not in text


def assert_refused(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert body["code"] == code
    assert body["message"]
    return body


def assert_nothing_booked(client: TestClient) -> None:
    assert free(client) == 2
    assert on_day(client, "2022-06-24") == []


# Booking


def test_booking_answers_201_with_must_leave_by_and_a_masked_plate(client: TestClient) -> None:
    response = reserve(client)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["kind"] == "reservation"
    assert body["ref"].startswith("R")
    assert body["lot"] == LOT
    assert body["status"] == "booked"
    assert body["plate"] == MASKED
    assert body["start"] == "2022-06-24T19:00:00+08:00"
    assert body["end"] == "2022-06-25T10:00:00+08:00"
    assert body["must_leave_by"] == FRIDAY_MUST_LEAVE_BY
    # 19:00 at the day rate, 20:00–07:00 (12 hours) at night, 08:00 and 09:00 at the day rate.
    assert body["price_estimate_fen"] == DAY + 12 * NIGHT + 2 * DAY
    assert body["fee_fen"] is None
    assert_plate_hidden(response)
    stored = client.get(f"/api/v1/reservations/{body['ref']}")
    assert stored.status_code == 200
    assert stored.json() == body
    assert_plate_hidden(stored)
    assert free(client) == 1


def test_retry_with_the_same_idempotency_key_returns_the_first_booking(
    client: TestClient,
) -> None:
    first = reserve(client, key="k-1")
    retry = reserve(client, key="k-1")
    respelled = reserve(client, "鲁b·12345", key="k-1")  # the same plate, written differently
    assert first.status_code == retry.status_code == respelled.status_code == 201
    assert retry.json() == respelled.json() == first.json()
    assert free(client) == 1
    assert [r["ref"] for r in on_day(client, "2022-06-24")] == [first.json()["ref"]]


def test_same_key_with_a_different_body_is_refused_and_changes_nothing(
    client: TestClient,
) -> None:
    first = reserve(client, key="k-1")
    reused = reserve(client, OTHER, key="k-1")
    assert_refused(reused, 422, "idempotency_key_reused")
    assert free(client) == 1
    listed = on_day(client, "2022-06-24")
    assert [(r["ref"], r["plate"]) for r in listed] == [(first.json()["ref"], MASKED)]


def test_a_full_car_park_answers_409_no_capacity(client: TestClient) -> None:
    assert reserve(client, PLATE).status_code == 201
    assert reserve(client, OTHER).status_code == 201
    body = assert_refused(reserve(client, THIRD), 409, "no_capacity")
    assert body["details"] == {"lot": LOT}
    assert free(client) == 0
    assert len(on_day(client, "2022-06-24")) == 2


def test_a_full_car_park_puts_a_waitlisted_request_on_the_waitlist(client: TestClient) -> None:
    reserve(client, PLATE)
    reserve(client, OTHER)
    response = reserve(client, THIRD, waitlist=True)
    assert response.status_code == 202, response.text
    body = response.json()
    assert body["kind"] == "waitlist"
    assert body["ref"].startswith("W")
    assert body["status"] == "waiting"
    assert body["plate"] == "鲁BD****5"
    assert_plate_hidden(response, THIRD)
    assert free(client) == 0
    assert len(on_day(client, "2022-06-24")) == 2


def test_a_retried_waitlist_request_returns_the_same_entry(
    client: TestClient, database: Database
) -> None:
    reserve(client, PLATE)
    reserve(client, OTHER)
    first = reserve(client, THIRD, key="w-1", waitlist=True)
    retry = reserve(client, THIRD, key="w-1", waitlist=True)
    assert first.status_code == retry.status_code == 202
    with database.session() as session:
        stored = session.scalars(select(WaitlistEntry.ref)).all()
    assert stored == [first.json()["ref"]]
    assert retry.json()["ref"] == first.json()["ref"]


def test_an_invalid_plate_is_refused_with_a_message(idle: TestClient) -> None:
    response = reserve(idle, "鲁I12345")
    body = assert_refused(response, 422, "invalid_plate")
    assert_plate_hidden(response, "鲁I12345")
    assert "'I'" in body["message"]
    assert body["details"]["field"] == "plate"
    assert_nothing_booked(idle)


def test_a_timestamp_without_an_offset_is_refused(idle: TestClient) -> None:
    span = {"from": "2022-06-24T19:00:00", "to": "2022-06-25T10:00:00+08:00"}
    body = assert_refused(reserve(idle, span=span), 422, "invalid_timestamp")
    assert body["details"]["field"] == "from"
    assert_nothing_booked(idle)


def test_an_interval_outside_sharing_hours_is_refused(idle: TestClient) -> None:
    span = {"from": "2022-06-24T10:00:00+08:00", "to": "2022-06-24T12:00:00+08:00"}
    assert_refused(reserve(idle, span=span), 409, "outside_sharing_window")
    assert_nothing_booked(idle)


def test_a_reversed_interval_is_refused(idle: TestClient) -> None:
    span = {"from": FRIDAY_NIGHT["to"], "to": FRIDAY_NIGHT["from"]}
    assert_refused(reserve(idle, span=span), 422, "invalid_interval")
    assert_nothing_booked(idle)


def test_an_unknown_car_park_is_refused(idle: TestClient) -> None:
    body = {"lot": "NOPE", "plate": PLATE, **FRIDAY_NIGHT}
    response = idle.post("/api/v1/reservations", json=body)
    assert_refused(response, 404, "lot_not_found")
    assert_nothing_booked(idle)


def test_a_start_in_the_past_is_refused(idle: TestClient) -> None:
    span = {"from": "2022-06-24T08:00:00+08:00", "to": "2022-06-24T09:30:00+08:00"}
    assert_refused(reserve(idle, span=span), 422, "starts_in_past")
    assert_nothing_booked(idle)


def test_a_malformed_json_body_is_refused_as_invalid_input(idle: TestClient) -> None:
    response = idle.post(
        "/api/v1/reservations",
        content=b'{"lot": "L", "plate": ',
        headers={"Content-Type": "application/json"},
    )
    body = assert_refused(response, 422, "invalid_input")
    assert body["details"]["errors"]
    assert_nothing_booked(idle)


# Reading and cancelling


def test_an_unknown_reservation_is_not_found(idle: TestClient) -> None:
    assert_refused(idle.get("/api/v1/reservations/R0000"), 404, "not_found")
    assert_refused(idle.post("/api/v1/reservations/R0000/cancel"), 404, "not_found")


def test_cancelling_in_time_is_free_and_frees_the_berth(client: TestClient) -> None:
    ref = reserve(client).json()["ref"]
    response = client.post(f"/api/v1/reservations/{ref}/cancel")
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["status"], body["cancel_fee_fen"]) == ("cancelled", 0)
    assert_plate_hidden(response)
    assert client.get(f"/api/v1/reservations/{ref}").json()["status"] == "cancelled"
    assert free(client) == 2


def test_cancelling_twice_changes_nothing(client: TestClient, clock: FixedClock) -> None:
    ref = reserve(client).json()["ref"]
    first = client.post(f"/api/v1/reservations/{ref}/cancel").json()
    clock.set(at(2022, 6, 24, 18, 30))  # now a second cancel would be late and cost a fee
    second = client.post(f"/api/v1/reservations/{ref}/cancel")
    assert second.status_code == 200, second.text
    assert second.json() == first
    assert client.get(f"/api/v1/reservations/{ref}").json() == first


def test_cancelling_after_the_start_is_refused(client: TestClient, clock: FixedClock) -> None:
    ref = reserve(client).json()["ref"]
    clock.set(at(2022, 6, 24, 19, 1))
    assert_refused(client.post(f"/api/v1/reservations/{ref}/cancel"), 409, "cancellation_refused")
    stored = client.get(f"/api/v1/reservations/{ref}").json()
    assert (stored["status"], stored["cancel_fee_fen"]) == ("booked", 0)
    assert free(client, {"from": "2022-06-24T19:30:00+08:00", "to": FRIDAY_NIGHT["to"]}) == 1


def test_a_cancelled_berth_can_be_booked_again(client: TestClient) -> None:
    ref = reserve(client, PLATE).json()["ref"]
    reserve(client, OTHER)
    assert_refused(reserve(client, THIRD), 409, "no_capacity")
    client.post(f"/api/v1/reservations/{ref}/cancel")
    again = reserve(client, THIRD)
    assert again.status_code == 201, again.text
    assert free(client) == 0
    statuses = sorted(r["status"] for r in on_day(client, "2022-06-24"))
    assert statuses == ["booked", "booked", "cancelled"]


# The day list


def test_the_day_list_shows_the_reservations_touching_that_local_day(
    client: TestClient,
) -> None:
    friday = reserve(client, PLATE).json()["ref"]
    monday = reserve(client, OTHER, MONDAY_NIGHT).json()["ref"]
    assert [r["ref"] for r in on_day(client, "2022-06-24")] == [friday]
    assert [r["ref"] for r in on_day(client, "2022-06-25")] == [friday]
    assert on_day(client, "2022-06-26") == []
    assert [r["ref"] for r in on_day(client, "2022-06-27")] == [monday]
    assert [r["ref"] for r in on_day(client, "2022-06-28")] == [monday]
    listed = client.get(f"/api/v1/lots/{LOT}/reservations", params={"date": "2022-06-24"})
    assert listed.json()[0]["plate"] == MASKED
    assert_plate_hidden(listed)


def test_the_day_list_refuses_a_bad_date(idle: TestClient) -> None:
    for day in ("2022-13-01", "2022-06-31", "tomorrow"):
        response = idle.get(f"/api/v1/lots/{LOT}/reservations", params={"date": day})
        body = assert_refused(response, 422, "invalid_timestamp")
        assert body["details"]["field"] == "date"
    too_long = idle.get(f"/api/v1/lots/{LOT}/reservations", params={"date": "2022-06-24T00"})
    assert_refused(too_long, 422, "invalid_input")


def test_the_day_list_of_an_unknown_car_park_is_not_found(idle: TestClient) -> None:
    response = idle.get("/api/v1/lots/NOPE/reservations", params={"date": "2022-06-24"})
    assert_refused(response, 404, "lot_not_found")


# Arrivals and departures


def arrive(client: TestClient, when: str, plate: str = PLATE) -> httpx.Response:
    return client.post(f"/api/v1/lots/{LOT}/arrivals", json={"plate": plate, "at": when})


def depart(client: TestClient, when: str, plate: str = PLATE) -> httpx.Response:
    return client.post(f"/api/v1/lots/{LOT}/departures", json={"plate": plate, "at": when})


def test_an_arrival_marks_the_reservation_arrived(client: TestClient, clock: FixedClock) -> None:
    ref = reserve(client).json()["ref"]
    clock.set(at(2022, 6, 24, 19, 5))
    response = arrive(client, "2022-06-24T19:05:00+08:00")
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "arrived"
    assert_plate_hidden(response)
    stored = client.get(f"/api/v1/reservations/{ref}").json()
    assert stored["status"] == "arrived"
    assert stored["arrived_at"] == "2022-06-24T19:05:00+08:00"


def test_an_arrival_without_a_booking_is_not_found(idle: TestClient) -> None:
    response = arrive(idle, "2022-06-24T08:05:00+08:00")
    assert_refused(response, 404, "not_found")
    assert_plate_hidden(response)


def test_a_movement_in_the_future_is_refused(idle: TestClient) -> None:
    response = arrive(idle, "2022-06-24T19:05:00+08:00")  # the idle clock is at 09:00
    assert_refused(response, 422, "invalid_input")


def test_a_departure_completes_the_reservation_with_its_fee(
    client: TestClient, clock: FixedClock
) -> None:
    ref = reserve(client).json()["ref"]
    clock.set(at(2022, 6, 24, 19))
    arrive(client, "2022-06-24T19:00:00+08:00")
    clock.set(at(2022, 6, 25, 9, 30))
    response = depart(client, "2022-06-25T09:30:00+08:00")
    assert response.status_code == 200, response.text
    # 14 h 30 min: 15 started hours, 19:00 by day, 20:00–07:00 by night, 08:00 and 09:00 by day.
    parking = DAY + 12 * NIGHT + 2 * DAY
    body = response.json()
    assert body["status"] == "completed"
    assert (body["parking_fee_fen"], body["overstay_fee_fen"], body["fee_fen"]) == (
        parking,
        0,
        parking,
    )
    assert body["departed_at"] == "2022-06-25T09:30:00+08:00"
    assert_plate_hidden(response)
    assert client.get(f"/api/v1/reservations/{ref}").json() == body


def test_an_overstaying_departure_carries_a_surcharge(
    client: TestClient, clock: FixedClock
) -> None:
    ref = reserve(client, span=MONDAY_NIGHT).json()["ref"]
    assert client.get(f"/api/v1/reservations/{ref}").json()["must_leave_by"] == (
        MONDAY_MUST_LEAVE_BY
    )
    clock.set(at(2022, 6, 27, 19))
    arrive(client, "2022-06-27T19:00:00+08:00")
    clock.set(at(2022, 6, 28, 9, 10))
    body = depart(client, "2022-06-28T09:10:00+08:00").json()
    # 14 h 10 min: 15 started hours, 19:00 by day, 20:00–07:00 by night, 08:00 and 09:00 by day.
    parking = DAY + 12 * NIGHT + 2 * DAY
    # Due at 07:30 + 15 min grace = 07:45; out at 09:10: two started hours.
    surcharge = 2 * SETTINGS.overstay_surcharge_fen_per_hour
    assert body["status"] == "completed"
    assert (body["parking_fee_fen"], body["overstay_fee_fen"], body["fee_fen"]) == (
        parking,
        surcharge,
        parking + surcharge,
    )
    assert client.get(f"/api/v1/reservations/{ref}").json() == body


def test_a_departure_in_the_future_is_refused(client: TestClient, clock: FixedClock) -> None:
    ref = reserve(client).json()["ref"]
    clock.set(at(2022, 6, 24, 19))
    arrive(client, "2022-06-24T19:00:00+08:00")
    body = assert_refused(depart(client, "2022-06-24T21:00:00+08:00"), 422, "invalid_input")
    assert body["details"]["field"] == "at"
    stored = client.get(f"/api/v1/reservations/{ref}").json()
    assert (stored["status"], stored["departed_at"], stored["fee_fen"]) == ("arrived", None, None)
