"""The passes API on both databases: offers, applications, and an allocation whose passes then
hold berths."""

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
from tests.factories import bearer_for, make_lot

SH = ZoneInfo("Asia/Shanghai")
SETTINGS = Settings(environment="test")
PLATE, OTHER = "鲁B12345", "鲁B67890"
# Tuesday 2022-07-05 is a working day (a pass of kind night holds it); Saturday 07-09 is not.
TUESDAY_NIGHT = {"from": "2022-07-05T19:00:00+08:00", "to": "2022-07-06T07:00:00+08:00"}
SATURDAY = {"from": "2022-07-09T08:00:00+08:00", "to": "2022-07-09T12:00:00+08:00"}


def at(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=SH)  # type: ignore[misc]


def serve(database: Database, clock: FixedClock) -> TestClient:
    """The API over two car parks with two shared berths each, about 900 m apart; now is
    2022-06-24 09:00."""
    clock.set(at(2022, 6, 24, 9))
    with database.session(write=True) as session:
        near = make_lot(session, clock=clock, code="NEAR", shared_berths=2)
        far = make_lot(session, clock=clock, code="FAR", shared_berths=2)
        near.lon, near.lat = 120.180, 35.960
        far.lon, far.lat = 120.190, 35.960
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
    each checks that still nothing is."""
    database = Database(f"sqlite:///{tmp_path_factory.mktemp('idle')}/parkshare.db")
    database.migrate()
    with serve(database, FixedClock(at(2022, 6, 24, 9))) as test_client:
        yield test_client
    database.dispose()


def offer(client: TestClient, lot: str, *, quota: int = 1, price_fen: int = 15_000) -> None:
    body = {"lot": lot, "kind": "night", "month": "2022-07", "quota": quota, "price_fen": price_fen}
    response = client.post("/api/v1/passes/offers", json=body)
    assert response.status_code == 201, response.text


def apply(
    client: TestClient, plate: str = PLATE, lon: float = 120.184, **extra: Any
) -> httpx.Response:
    body = {"plate": plate, "kind": "night", "month": "2022-07", "home": {"lon": lon, "lat": 35.96}}
    return client.post("/api/v1/passes/applications", json={**body, **extra})


def allocate(client: TestClient, month: str = "2022-07") -> dict[str, Any]:
    response = client.post("/api/v1/passes/allocate", json={"kind": "night", "month": month})
    assert response.status_code == 200, response.text
    report: dict[str, Any] = response.json()
    return report


def free(client: TestClient, lot: str, span: dict[str, str]) -> int:
    response = client.get(f"/api/v1/lots/{lot}/availability", params=span)
    assert response.status_code == 200, response.text
    value: int = response.json()["free"]
    return value


def assert_refused(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.json()["code"] == code
    assert response.json()["message"]


def test_an_offer_answers_201_with_its_terms(client: TestClient) -> None:
    body = {"lot": "NEAR", "kind": "night", "month": "2022-07", "quota": 3, "price_fen": 15_000}
    response = client.post("/api/v1/passes/offers", json=body)
    assert response.status_code == 201, response.text
    assert response.json() == body


def test_an_offer_for_an_unknown_car_park_or_month_is_refused(idle: TestClient) -> None:
    body = {"lot": "NOPE", "kind": "night", "month": "2022-07", "quota": 1, "price_fen": 1}
    assert_refused(idle.post("/api/v1/passes/offers", json=body), 404, "lot_not_found")
    bad_month = {**body, "lot": "NEAR", "month": "2022-13"}
    assert_refused(idle.post("/api/v1/passes/offers", json=bad_month), 422, "invalid_input")
    assert allocate(idle)["quota"] == 0


def test_a_month_outside_the_years_served_is_refused(idle: TestClient) -> None:
    """Found by the hostile-input tests: offers for 9999-12 and 0001-01 were accepted."""
    for month in ("9999-12", "0001-01", "1969-12"):
        offer = {"lot": "NEAR", "kind": "night", "month": month, "quota": 1, "price_fen": 1}
        assert_refused(idle.post("/api/v1/passes/offers", json=offer), 422, "invalid_input")
        allocation = {"kind": "night", "month": month}
        assert_refused(idle.post("/api/v1/passes/allocate", json=allocation), 422, "invalid_input")
    assert allocate(idle)["quota"] == 0


def test_an_application_answers_201_with_a_masked_plate(client: TestClient) -> None:
    response = apply(client)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["ref"].startswith("A")
    assert (body["plate"], body["kind"], body["month"], body["status"]) == (
        "鲁B1***5",
        "night",
        "2022-07",
        "pending",
    )
    text = json.dumps(body, ensure_ascii=False)
    assert PLATE not in text and PLATE[1:] not in text


def test_applying_twice_with_the_same_details_returns_the_first_application(
    client: TestClient,
) -> None:
    first = apply(client)
    again = apply(client, "鲁b 12345")
    assert again.status_code == 201, again.text
    assert again.json()["ref"] == first.json()["ref"]
    offer(client, "NEAR", quota=2)
    assert allocate(client)["applicants"] == 1


def test_applying_again_with_other_details_is_a_conflict(client: TestClient) -> None:
    first = apply(client)
    assert_refused(apply(client, lon=120.190), 409, "conflict")
    offer(client, "FAR")
    report = allocate(client)
    assert (report["applicants"], report["served"]) == (1, 1)
    # The stored home is the first one: 120.184 is within 1 000 m of FAR, 120.190 would be 0 m.
    assert report["total_walk_m"] > 400
    assert apply(client).json()["status"] == "allocated"
    assert apply(client).json()["ref"] == first.json()["ref"]


def test_applying_for_a_month_that_has_begun_is_refused(idle: TestClient) -> None:
    response = apply(idle, month="2022-06")
    assert_refused(response, 422, "invalid_input")
    assert allocate(idle, "2022-06")["applicants"] == 0


def test_allocation_serves_more_than_first_come_first_served(
    client: TestClient, clock: FixedClock
) -> None:
    offer(client, "NEAR")
    offer(client, "FAR", price_fen=12_000)
    # The first applicant lives between the two car parks and could use either; the second can
    # only reach NEAR. First come first served gives NEAR to the first and strands the second.
    first = apply(client, PLATE, 120.184, max_walk_m=2_000).json()["ref"]
    clock.set(at(2022, 6, 24, 10))
    second = apply(client, OTHER, 120.175, max_walk_m=800).json()["ref"]
    report = allocate(client)
    assert report["kind"] == "night" and report["month"] == "2022-07"
    assert (report["applicants"], report["quota"]) == (2, 2)
    assert (report["served"], report["fcfs_served"]) == (2, 1)
    # Applying again with the same details re-reads the stored applications.
    again = [
        apply(client, PLATE, 120.184, max_walk_m=2_000).json(),
        apply(client, OTHER, 120.175, max_walk_m=800).json(),
    ]
    assert [(a["ref"], a["status"]) for a in again] == [(first, "allocated"), (second, "allocated")]
    assert free(client, "NEAR", TUESDAY_NIGHT) == free(client, "FAR", TUESDAY_NIGHT) == 1


def test_an_allocated_pass_holds_a_berth_on_weekday_nights_of_its_month(
    client: TestClient,
) -> None:
    offer(client, "NEAR")
    apply(client, PLATE, 120.180)
    assert free(client, "NEAR", TUESDAY_NIGHT) == 2
    assert allocate(client)["served"] == 1
    assert free(client, "NEAR", TUESDAY_NIGHT) == 1
    assert free(client, "NEAR", SATURDAY) == 2
    assert free(client, "FAR", TUESDAY_NIGHT) == 2
    assert apply(client, PLATE, 120.180).json()["status"] == "allocated"
    # Allocating again issues nothing more.
    assert allocate(client)["served"] == 0
    assert free(client, "NEAR", TUESDAY_NIGHT) == 1
