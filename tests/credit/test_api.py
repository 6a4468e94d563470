"""The credit API on both databases: overstays become violations, two uncorrected ones bar a
plate from booking, and an administrator can correct a violation or lift a bar."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from fastapi.testclient import TestClient

from parkshare.app import create_app
from parkshare.clock import FixedClock
from parkshare.config import Settings
from parkshare.db import Database
from parkshare.reservations.lifecycle import detect_overstays
from tests.factories import bearer_for, make_lot

SH = ZoneInfo("Asia/Shanghai")
SETTINGS = Settings(
    environment="test", overstay_grace_minutes=15, violations_to_blacklist=2, blacklist_days=90
)
LOT = "L"
PLATE, OTHER = "鲁B12345", "鲁B67890"
MASKED = "鲁B1***5"
# Working-day nights: each window closes at 07:30 the next morning.
MONDAY_NIGHT = {"from": "2022-06-27T19:00:00+08:00", "to": "2022-06-28T07:00:00+08:00"}
TUESDAY_NIGHT = {"from": "2022-06-28T19:00:00+08:00", "to": "2022-06-29T07:00:00+08:00"}
THURSDAY_NIGHT = {"from": "2022-06-30T19:00:00+08:00", "to": "2022-07-01T07:00:00+08:00"}


def at(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=SH)  # type: ignore[misc]


def serve(database: Database, clock: FixedClock) -> TestClient:
    """The API over a car park ``L`` with two shared berths; now is Friday 2022-06-24 09:00."""
    clock.set(at(2022, 6, 24, 9))
    with database.session(write=True) as session:
        make_lot(session, clock=clock, code=LOT, shared_berths=2)
    return TestClient(
        create_app(SETTINGS, database, clock), headers=bearer_for(database, clock=clock)
    )


@pytest.fixture
def client(database: Database, clock: FixedClock) -> Iterator[TestClient]:
    with serve(database, clock) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def idle(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """One SQLite database shared by the tests of requests refused before anything changes."""
    database = Database(f"sqlite:///{tmp_path_factory.mktemp('idle')}/parkshare.db")
    database.migrate()
    with serve(database, FixedClock(at(2022, 6, 24, 9))) as test_client:
        yield test_client
    database.dispose()


def reserve(client: TestClient, span: dict[str, str], plate: str = PLATE) -> httpx.Response:
    return client.post("/api/v1/reservations", json={"lot": LOT, "plate": plate, **span})


def overstay(
    client: TestClient, database: Database, clock: FixedClock, span: dict[str, str]
) -> str:
    """Book ``span`` now, arrive at its start, and run the sweep half an hour after its
    must-leave-by (07:30 + 15 min grace has passed). Returns the reservation's ref."""
    booked = reserve(client, span)
    assert booked.status_code == 201, booked.text
    start = datetime.fromisoformat(span["from"])
    clock.set(start)
    arrived = client.post(f"/api/v1/lots/{LOT}/arrivals", json={"plate": PLATE})
    assert arrived.json()["status"] == "arrived", arrived.text
    clock.set(datetime.fromisoformat(booked.json()["must_leave_by"]).replace(minute=59))
    with database.session(write=True) as session:
        found = detect_overstays(session, policy=SETTINGS.policy(), clock=clock)
        assert [r.ref for r in found] == [booked.json()["ref"]]
    ref: str = booked.json()["ref"]
    return ref


def violations(client: TestClient, **params: str) -> dict[str, Any]:
    response = client.get("/api/v1/violations", params=params)
    assert response.status_code == 200, response.text
    assert_plate_hidden(response)
    page: dict[str, Any] = response.json()
    return page


def assert_plate_hidden(response: httpx.Response) -> None:
    text = json.dumps(response.json(), ensure_ascii=False)
    assert PLATE not in text and PLATE[1:] not in text


def assert_refused(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert body["code"] == code
    assert body["message"]
    return body


def lift(client: TestClient, plate: str = PLATE) -> httpx.Response:
    return client.post(f"/api/v1/blacklist/{plate}/lift", json={"note": "paid at the desk"})


def test_the_overstay_sweep_records_a_violation_with_a_masked_plate(
    client: TestClient, database: Database, clock: FixedClock
) -> None:
    assert violations(client) == {"items": [], "total": 0}
    ref = overstay(client, database, clock, MONDAY_NIGHT)
    page = violations(client)
    assert page["total"] == 1
    [violation] = page["items"]
    assert violation["plate"] == MASKED
    assert violation["kind"] == "overstay"
    assert violation["occurred_at"] == "2022-06-28T07:45:00+08:00"  # must-leave-by + grace
    assert violation["corrected_at"] is None
    assert client.get(f"/api/v1/reservations/{ref}").json()["status"] == "overstayed"
    assert violations(client, plate=PLATE)["total"] == 1
    assert violations(client, plate=OTHER)["total"] == 0
    assert violations(client, lot=LOT)["total"] == 1


def test_correcting_a_violation_stamps_it_once(
    client: TestClient, database: Database, clock: FixedClock
) -> None:
    overstay(client, database, clock, MONDAY_NIGHT)
    [violation] = violations(client)["items"]
    clock.set(at(2022, 6, 28, 10))
    response = client.post(
        f"/api/v1/violations/{violation['id']}/correct", json={"note": "explained"}
    )
    assert response.status_code == 200, response.text
    corrected = response.json()
    assert (corrected["corrected_at"], corrected["note"]) == (
        "2022-06-28T10:00:00+08:00",
        "explained",
    )
    assert_plate_hidden(response)
    clock.set(at(2022, 6, 28, 11))
    again = client.post(f"/api/v1/violations/{violation['id']}/correct", json={"note": "again"})
    assert again.json() == corrected
    assert violations(client)["items"] == [corrected]


def test_correcting_an_unknown_violation_is_not_found(idle: TestClient) -> None:
    response = idle.post("/api/v1/violations/999/correct", json={})
    assert_refused(response, 404, "not_found")
    assert violations(idle)["total"] == 0


def test_two_uncorrected_overstays_bar_the_plate_from_booking(
    client: TestClient, database: Database, clock: FixedClock
) -> None:
    overstay(client, database, clock, MONDAY_NIGHT)
    assert reserve(client, THURSDAY_NIGHT, OTHER).status_code == 201
    overstay(client, database, clock, TUESDAY_NIGHT)
    assert violations(client)["total"] == 2
    refused = reserve(client, THURSDAY_NIGHT)
    body = assert_refused(refused, 403, "barred")
    assert_plate_hidden(refused)
    assert body["details"]["until"]
    day = client.get(f"/api/v1/lots/{LOT}/reservations", params={"date": "2022-06-30"}).json()
    assert [r["plate"] for r in day] == ["鲁B6***0"]
    free = client.get(f"/api/v1/lots/{LOT}/availability", params=THURSDAY_NIGHT).json()["free"]
    assert free == 1


def test_a_corrected_overstay_does_not_count_towards_a_bar(
    client: TestClient, database: Database, clock: FixedClock
) -> None:
    overstay(client, database, clock, MONDAY_NIGHT)
    [first] = violations(client)["items"]
    client.post(f"/api/v1/violations/{first['id']}/correct", json={})
    overstay(client, database, clock, TUESDAY_NIGHT)
    assert reserve(client, THURSDAY_NIGHT).status_code == 201
    assert_refused(lift(client), 404, "not_found")


def test_lifting_a_bar_lets_the_plate_book_again(
    client: TestClient, database: Database, clock: FixedClock
) -> None:
    overstay(client, database, clock, MONDAY_NIGHT)
    overstay(client, database, clock, TUESDAY_NIGHT)
    assert_refused(reserve(client, THURSDAY_NIGHT), 403, "barred")
    clock.set(at(2022, 6, 29, 12))
    response = lift(client)
    assert response.status_code == 200, response.text
    bar = response.json()
    assert bar["plate"] == MASKED
    assert bar["lifted_at"] == "2022-06-29T12:00:00+08:00"
    assert bar["starts_at"] == "2022-06-29T07:59:00+08:00"  # the sweep that found the second
    assert bar["ends_at"] == "2022-09-27T07:59:00+08:00"  # 90 days later
    assert_plate_hidden(response)
    booked = reserve(client, THURSDAY_NIGHT)
    assert booked.status_code == 201, booked.text
    assert_refused(lift(client), 404, "not_found")  # lifted already


def test_lifting_an_unbarred_plate_is_not_found(idle: TestClient) -> None:
    response = lift(idle)
    assert_refused(response, 404, "not_found")
    assert_plate_hidden(response)
    assert_refused(lift(idle, "鲁I12345"), 422, "invalid_plate")
    assert reserve(idle, MONDAY_NIGHT).status_code == 201


@pytest.mark.parametrize("violation_id", [2**31, 2**63, 0])
def test_a_violation_id_no_row_can_have_is_refused_before_the_database(
    client: TestClient, violation_id: int
) -> None:
    """Found by the API fuzzer: an id past the 32-bit ids of PostgreSQL (and 2**63 on SQLite)
    reached the database and failed there with a 500."""
    response = client.post(f"/api/v1/violations/{violation_id}/correct", json={})
    assert_refused(response, 422, "invalid_input")
