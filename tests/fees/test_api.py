"""The statement API on both databases: a month of stays, overstays and cancellations summed by
local day, each fee computed here by hand from the tariff."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient

from parkshare.app import create_app
from parkshare.clock import FixedClock
from parkshare.db import Database
from tests.factories import API_SETTINGS as SETTINGS
from tests.factories import DAY, NIGHT, bearer_for, make_lot
from tests.factories import DAY_NIGHT_TARIFF as TARIFF

SH = ZoneInfo("Asia/Shanghai")
LOT = "L"
# Friday 19:00 → Saturday 09:30: 15 started hours, 19:00, 08:00 and 09:00 by day.
FRIDAY_STAY = 3 * DAY + 12 * NIGHT
# Monday 19:00 → Tuesday 09:10: 15 started hours, as above; due 07:30 + 15 min, out 09:10.
MONDAY_STAY = 3 * DAY + 12 * NIGHT
MONDAY_OVERSTAY = 2 * SETTINGS.overstay_surcharge_fen_per_hour
LATE_CANCEL = 500
# 19:00 → 07:00: 12 started hours, only 19:00 by day.
NIGHT_STAY = DAY + 11 * NIGHT


def at(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=SH)  # type: ignore[misc]


def span(start: datetime, end: datetime) -> dict[str, str]:
    return {"from": start.isoformat(), "to": end.isoformat()}


def serve(database: Database, clock: FixedClock) -> TestClient:
    """The API over a car park with two shared berths and a tariff; now is 2022-06-24 09:00."""
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
    """One SQLite database with no activity, for refused requests (they only read)."""
    database = Database(f"sqlite:///{tmp_path_factory.mktemp('idle')}/parkshare.db")
    database.migrate()
    with serve(database, FixedClock(at(2022, 6, 24, 9))) as test_client:
        yield test_client
    database.dispose()


@pytest.fixture
def active(client: TestClient, clock: FixedClock) -> TestClient:
    """The car park after a month of stays and cancellations, driven through the API."""
    book = {
        "friday": ("鲁B10001", at(2022, 6, 24, 19), at(2022, 6, 25, 10)),
        "monday": ("鲁B10002", at(2022, 6, 27, 19), at(2022, 6, 28, 7)),
        "late": ("鲁B10003", at(2022, 6, 28, 19), at(2022, 6, 29, 7)),
        "early": ("鲁B10004", at(2022, 6, 25, 10), at(2022, 6, 25, 18)),
        "wednesday": ("鲁B10005", at(2022, 6, 29, 19), at(2022, 6, 30, 7)),
        "thursday": ("鲁B10006", at(2022, 6, 30, 19), at(2022, 7, 1, 7)),
    }
    refs = {}
    for name, (plate, start, end) in book.items():
        body = {"lot": LOT, "plate": plate, **span(start, end)}
        response = client.post("/api/v1/reservations", json=body)
        assert response.status_code == 201, response.text
        refs[name] = response.json()["ref"]

    def cancel(name: str, now: datetime, fee: int) -> None:
        clock.set(now)
        response = client.post(f"/api/v1/reservations/{refs[name]}/cancel")
        assert response.json()["cancel_fee_fen"] == fee, response.text

    def stay(name: str, arrival: datetime, departure: datetime, fee: int) -> None:
        plate = book[name][0]
        clock.set(arrival)
        movement = {"plate": plate, "at": arrival.isoformat()}
        assert client.post(f"/api/v1/lots/{LOT}/arrivals", json=movement).is_success
        clock.set(departure)
        movement = {"plate": plate, "at": departure.isoformat()}
        left = client.post(f"/api/v1/lots/{LOT}/departures", json=movement)
        assert left.json()["fee_fen"] == fee, left.text

    cancel("early", at(2022, 6, 24, 9), 0)  # in time: free, not on the statement
    stay("friday", at(2022, 6, 24, 19), at(2022, 6, 25, 9, 30), FRIDAY_STAY)
    stay("monday", at(2022, 6, 27, 19), at(2022, 6, 28, 9, 10), MONDAY_STAY + MONDAY_OVERSTAY)
    cancel("late", at(2022, 6, 28, 18, 30), LATE_CANCEL)
    stay("wednesday", at(2022, 6, 29, 19), at(2022, 6, 30, 7), NIGHT_STAY)
    stay("thursday", at(2022, 6, 30, 19), at(2022, 7, 1, 7), NIGHT_STAY)  # July's
    return client


def day(
    when: str,
    *,
    completed: int = 0,
    parking: int = 0,
    overstay: int = 0,
    cancellation: int = 0,
) -> dict[str, Any]:
    return {
        "day": when,
        "completed": completed,
        "parking_fen": parking,
        "overstay_fen": overstay,
        "cancellation_fen": cancellation,
        "passes_sold": 0,
        "pass_fen": 0,
        "total_fen": parking + overstay + cancellation,
    }


def test_the_statement_sums_fees_by_local_day(active: TestClient) -> None:
    response = active.get(f"/api/v1/lots/{LOT}/statement", params={"month": "2022-06"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["lot"], body["month"]) == (LOT, "2022-06")
    assert body["days"] == [
        day("2022-06-25", completed=1, parking=FRIDAY_STAY),
        day(
            "2022-06-28",
            completed=1,
            parking=MONDAY_STAY,
            overstay=MONDAY_OVERSTAY,
            cancellation=LATE_CANCEL,
        ),
        day("2022-06-30", completed=1, parking=NIGHT_STAY),
    ]
    assert body["total"] == day(
        "2022-06-01",
        completed=3,
        parking=FRIDAY_STAY + MONDAY_STAY + NIGHT_STAY,
        overstay=MONDAY_OVERSTAY,
        cancellation=LATE_CANCEL,
    )


def test_a_departure_after_midnight_belongs_to_the_next_month(active: TestClient) -> None:
    body = active.get(f"/api/v1/lots/{LOT}/statement", params={"month": "2022-07"}).json()
    assert body["days"] == [day("2022-07-01", completed=1, parking=NIGHT_STAY)]
    assert body["total"] == day("2022-07-01", completed=1, parking=NIGHT_STAY)


def test_a_month_without_activity_is_empty(idle: TestClient) -> None:
    body = idle.get(f"/api/v1/lots/{LOT}/statement", params={"month": "2022-06"}).json()
    assert body == {"lot": LOT, "month": "2022-06", "days": [], "total": day("2022-06-01")}


def test_the_statement_refuses_a_bad_month(idle: TestClient) -> None:
    for month in ("2022-13", "June", "2022-6", "2022-06-01", ""):
        response = idle.get(f"/api/v1/lots/{LOT}/statement", params={"month": month})
        assert response.status_code == 422, (month, response.text)
        assert response.json()["code"] == "invalid_input", month
    missing = idle.get(f"/api/v1/lots/{LOT}/statement")
    assert (missing.status_code, missing.json()["code"]) == (422, "invalid_input")


def test_the_statement_refuses_a_month_outside_the_years_served(idle: TestClient) -> None:
    """Found by the hostile-input tests: 9999-12 overflowed the date arithmetic (a 500)."""
    for month in ("9999-12", "0001-01", "1969-12", "2101-01"):
        response = idle.get(f"/api/v1/lots/{LOT}/statement", params={"month": month})
        assert response.status_code == 422, (month, response.text)
        assert response.json()["code"] == "invalid_input", month


def test_the_statement_of_an_unknown_car_park_is_not_found(idle: TestClient) -> None:
    response = idle.get("/api/v1/lots/NOPE/statement", params={"month": "2022-06"})
    assert (response.status_code, response.json()["code"]) == (404, "lot_not_found")
