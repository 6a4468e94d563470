"""Editing a car park's schedule and tariff over the API, on both databases: who may, the
preview of the coming week, refusals with their codes, reservations a change would break, and
what availability answers after a save."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from fastapi.testclient import TestClient

from parkshare.accounts.principal import Role
from parkshare.app import create_app
from parkshare.clock import FixedClock
from parkshare.db import Database
from parkshare.errors import NoCapacity
from parkshare.fees.service import tariff_row
from parkshare.lots.model import LotBerths
from parkshare.lots.service import get_lot
from parkshare.reservations import service as reservations
from parkshare.reservations.model import Reservation, ReservationStatus
from parkshare.schedules.rules import BerthCategory
from tests.factories import API_SETTINGS as SETTINGS
from tests.factories import DAY_NIGHT_TARIFF, bearer_for, make_lot

SH = ZoneInfo("Asia/Shanghai")
LOT, OTHER_LOT = "L", "M"
PLATE = "鲁B12345"
# Tuesday 2022-06-21, noon: the coming week runs to Monday the 27th.
NOW = datetime(2022, 6, 21, 12, tzinfo=SH)
TUESDAY_EVENING = {"from": "2022-06-21T18:30:00+08:00", "to": "2022-06-21T21:00:00+08:00"}

QINGDAO_RULES: list[dict[str, Any]] = [
    {
        "day_types": ["makeup_workday", "workday"],
        "start": "18:00:00",
        "end": "07:30:00",
        "end_day_offset": 1,
        "shared_berths": {"ordinary": 10, "ev_charging": 0, "accessible": 0},
    },
    {
        "day_types": ["holiday", "rest_day"],
        "start": "00:00:00",
        "end": "07:30:00",
        "end_day_offset": 1,
        "shared_berths": {"ordinary": 10, "ev_charging": 0, "accessible": 0},
    },
]
QUIET = {"start": "22:00:00", "end": "06:00:00"}


def evening_from(start: str, ordinary: int = 10) -> dict[str, Any]:
    """The Qingdao rules with the working-day evening starting at ``start``."""
    first = {**QINGDAO_RULES[0], "start": start, "shared_berths": {"ordinary": ordinary}}
    return {"rules": [first, QINGDAO_RULES[1]], "quiet_hours": QUIET}


@pytest.fixture
def client(database: Database, clock: FixedClock) -> Iterator[TestClient]:
    """Car park L (12 ordinary berths, 10 shared, 2 EV berths not shared) and car park M of
    another operator."""
    clock.set(NOW)
    with database.session(write=True) as session:
        lot = make_lot(session, clock=clock, code=LOT, shared_berths=10, total_berths=12)
        lot.berths.append(LotBerths(category=BerthCategory.EV_CHARGING, total=2))
        lot.tariff = None
        make_lot(session, clock=clock, code=OTHER_LOT)
    with TestClient(create_app(SETTINGS, database, clock)) as test_client:
        yield test_client


@pytest.fixture
def operator(database: Database, clock: FixedClock) -> dict[str, str]:
    return bearer_for(database, clock=clock, role=Role.OPERATOR, operator_of=LOT)


def assert_refused(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert body["code"] == code, body
    return body


def availability(client: TestClient, span: dict[str, str] = TUESDAY_EVENING) -> dict[str, Any]:
    response = client.get(f"/api/v1/lots/{LOT}/availability", params=span)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


# -- who may ------------------------------------------------------------------------------------


def calls(client: TestClient) -> dict[str, Any]:
    """One request per route, as (method, path, body)."""
    return {
        "get": ("GET", f"/api/v1/lots/{LOT}/schedule", None),
        "preview": ("POST", f"/api/v1/lots/{LOT}/schedule/preview", evening_from("18:00:00")),
        "put": ("PUT", f"/api/v1/lots/{LOT}/schedule", evening_from("18:00:00")),
        "tariff": (
            "PUT",
            f"/api/v1/lots/{LOT}/tariff",
            {"free_minutes": 15, "rates": [{"start": "00:00", "fen_per_hour": 200}]},
        ),
    }


@pytest.mark.parametrize("route", ["get", "preview", "put", "tariff"])
def test_the_car_parks_operator_and_administrators_may_edit_it_nobody_else(
    client: TestClient, database: Database, clock: FixedClock, route: str
) -> None:
    method, path, body = calls(client)[route]

    def ask(headers: dict[str, str] | None) -> httpx.Response:
        return client.request(method, path, json=body, headers=headers)

    own = bearer_for(database, clock=clock, role=Role.OPERATOR, operator_of=LOT)
    other = bearer_for(database, clock=clock, role=Role.OPERATOR, operator_of=OTHER_LOT)
    driver = bearer_for(database, clock=clock, role=Role.DRIVER, plates=(PLATE,))
    admin = bearer_for(database, clock=clock, role=Role.ADMIN)
    assert ask(own).status_code == 200, ask(own).text
    assert_refused(ask(other), 403, "not_your_car_park")
    assert_refused(ask(driver), 403, "forbidden")
    assert_refused(ask(None), 401, "not_signed_in")
    assert ask(admin).status_code == 200


def test_an_unknown_car_park_is_not_one_of_an_operators_own(
    client: TestClient, operator: dict[str, str], database: Database, clock: FixedClock
) -> None:
    response = client.get("/api/v1/lots/NOPE/schedule", headers=operator)
    assert_refused(response, 403, "not_your_car_park")
    admin = bearer_for(database, clock=clock, role=Role.ADMIN)
    assert_refused(client.get("/api/v1/lots/NOPE/schedule", headers=admin), 404, "lot_not_found")


# -- reading ------------------------------------------------------------------------------------


def test_the_schedule_comes_with_the_physical_berths_and_tariff(
    client: TestClient, operator: dict[str, str]
) -> None:
    body = client.get(f"/api/v1/lots/{LOT}/schedule", headers=operator).json()
    assert body["lot"] == LOT
    assert body["berths"] == {"ordinary": 12, "ev_charging": 2, "accessible": 0}
    assert body["rules"] == QINGDAO_RULES
    assert body["quiet_hours"] == QUIET
    assert body["tariff"] is None
    assert body["suspensions"] == []
    assert isinstance(body["version"], int)


# -- preview ------------------------------------------------------------------------------------


def test_preview_shows_the_coming_week_by_day_and_window(
    client: TestClient, operator: dict[str, str]
) -> None:
    response = client.post(
        f"/api/v1/lots/{LOT}/schedule/preview", json=evening_from("19:00"), headers=operator
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["valid"] is True and body["problems"] == [] and body["conflicts"] == []
    assert body["first_day"] == "2022-06-21"
    assert [d["date"] for d in body["days"]][::6] == ["2022-06-21", "2022-06-27"]
    assert [d["day_type"] for d in body["days"]][3:6] == ["workday", "rest_day", "rest_day"]
    tuesday = body["days"][0]["periods"]
    assert [(p["start"], p["end"]) for p in tuesday] == [
        ("2022-06-21T00:00:00+08:00", "2022-06-21T07:30:00+08:00"),
        ("2022-06-21T19:00:00+08:00", "2022-06-22T00:00:00+08:00"),
    ]
    assert tuesday[1]["shared_berths"] == {"ordinary": 10, "ev_charging": 0, "accessible": 0}
    weekend = next(w for w in body["windows"] if w["start"] == "2022-06-24T19:00:00+08:00")
    assert weekend["must_leave_by"] == "2022-06-27T07:30:00+08:00"
    assert weekend["shared_berths"]["ordinary"] == 10
    # nothing was saved
    assert availability(client)["servable"] is True


def test_preview_of_an_unsound_proposal_lists_its_problems(
    client: TestClient, operator: dict[str, str]
) -> None:
    proposal = evening_from("18:00", ordinary=13)
    proposal["rules"].append({**QINGDAO_RULES[0], "start": "20:00", "end": "23:00"})
    proposal["rules"][-1]["end_day_offset"] = 0
    response = client.post(f"/api/v1/lots/{LOT}/schedule/preview", json=proposal, headers=operator)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["valid"] is False and body["days"] == []
    assert [(p["code"], p["field"]) for p in body["problems"]] == [
        ("shared_above_physical", "rules.0.shared_berths.ordinary"),
    ]
    proposal["rules"][0]["shared_berths"] = {"ordinary": 10}
    body = client.post(
        f"/api/v1/lots/{LOT}/schedule/preview", json=proposal, headers=operator
    ).json()
    assert [(p["code"], p["position"]) for p in body["problems"]] == [("overlapping_spans", 2)]


def test_preview_shows_holidays_and_make_up_working_days(
    client: TestClient, database: Database, clock: FixedClock
) -> None:
    clock.set(datetime(2022, 10, 4, 9, tzinfo=SH))
    operator = bearer_for(database, clock=clock, role=Role.OPERATOR, operator_of=LOT)
    body = client.post(
        f"/api/v1/lots/{LOT}/schedule/preview", json=evening_from("18:00"), headers=operator
    ).json()
    types = {d["date"]: d["day_type"] for d in body["days"]}
    assert types["2022-10-04"] == "holiday"
    assert types["2022-10-08"] == "makeup_workday"
    assert body["windows"][0]["opens"] == "2022-09-30T18:00:00+08:00"
    assert body["windows"][0]["must_leave_by"] == "2022-10-08T07:30:00+08:00"


# -- saving -------------------------------------------------------------------------------------


def test_a_saved_schedule_changes_what_availability_answers(
    client: TestClient, operator: dict[str, str]
) -> None:
    assert availability(client)["free"] == 10
    before = client.get(f"/api/v1/lots/{LOT}/schedule", headers=operator).json()["version"]
    response = client.put(
        f"/api/v1/lots/{LOT}/schedule", json=evening_from("19:00", ordinary=6), headers=operator
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["version"] > before
    assert body["rules"][0]["start"] == "19:00:00"
    assert body["rules"][0]["shared_berths"]["ordinary"] == 6
    assert availability(client)["reason"] == "outside_sharing_window"
    later = {"from": "2022-06-21T19:00:00+08:00", "to": "2022-06-21T21:00:00+08:00"}
    assert availability(client, later)["free"] == 6
    assert client.get(f"/api/v1/lots/{LOT}/schedule", headers=operator).json() == body


def test_a_saved_schedule_is_what_the_next_booking_sees(
    client: TestClient, operator: dict[str, str], database: Database, clock: FixedClock
) -> None:
    book(database, clock, "2022-06-21T18:30", "2022-06-21T18:45")  # warms the profile cache
    client.put(f"/api/v1/lots/{LOT}/schedule", json=evening_from("18:00", 1), headers=operator)
    with pytest.raises(NoCapacity):
        book(database, clock, "2022-06-21T18:30", "2022-06-21T21:00", plate="鲁B67890")


def test_saving_the_same_schedule_changes_nothing(
    client: TestClient, operator: dict[str, str]
) -> None:
    before = client.get(f"/api/v1/lots/{LOT}/schedule", headers=operator).json()
    same = {"rules": QINGDAO_RULES, "quiet_hours": QUIET, "version": before["version"]}
    after = client.put(f"/api/v1/lots/{LOT}/schedule", json=same, headers=operator).json()
    assert after == before


def test_quiet_hours_can_be_removed(client: TestClient, operator: dict[str, str]) -> None:
    body = {"rules": QINGDAO_RULES, "quiet_hours": None}
    response = client.put(f"/api/v1/lots/{LOT}/schedule", json=body, headers=operator)
    assert response.status_code == 200, response.text
    assert response.json()["quiet_hours"] is None
    late = {"from": "2022-06-21T23:00:00+08:00", "to": "2022-06-22T07:00:00+08:00"}
    assert availability(client, late)["servable"] is True


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"shared_berths": {"ordinary": 13}}, "shared_above_physical"),
        ({"shared_berths": {"accessible": 1, "ordinary": 1}}, "shared_above_physical"),
        ({"end_day_offset": 0}, "span_ends_before_start"),
        ({"day_types": []}, "no_day_types"),
        ({"shared_berths": {"ordinary": 0}}, "rule_shares_nothing"),
    ],
)
def test_an_unsound_schedule_is_refused_with_its_code_and_nothing_changes(
    client: TestClient, operator: dict[str, str], change: dict[str, Any], code: str
) -> None:
    before = client.get(f"/api/v1/lots/{LOT}/schedule", headers=operator).json()
    proposal = {"rules": [{**QINGDAO_RULES[0], **change}, QINGDAO_RULES[1]], "quiet_hours": QUIET}
    response = client.put(f"/api/v1/lots/{LOT}/schedule", json=proposal, headers=operator)
    body = assert_refused(response, 422, code)
    assert body["details"]["problems"][0]["code"] == code
    assert client.get(f"/api/v1/lots/{LOT}/schedule", headers=operator).json() == before


def test_overlapping_spans_of_one_day_type_are_refused(
    client: TestClient, operator: dict[str, str]
) -> None:
    extra = {**QINGDAO_RULES[0], "day_types": ["workday"], "start": "19:00", "end": "22:00"}
    extra["end_day_offset"] = 0
    proposal = {"rules": [*QINGDAO_RULES, extra], "quiet_hours": QUIET}
    response = client.put(f"/api/v1/lots/{LOT}/schedule", json=proposal, headers=operator)
    body = assert_refused(response, 422, "overlapping_spans")
    assert body["details"]["problems"][0]["field"] == "rules.2.start"


@pytest.mark.parametrize(
    "bad",
    [
        {"rules": [{**QINGDAO_RULES[0], "day_types": ["friday"]}]},
        {"rules": [{**QINGDAO_RULES[0], "start": "18:00:30"}]},
        {"rules": [{**QINGDAO_RULES[0], "start": "25:00"}]},
        {"rules": [{**QINGDAO_RULES[0], "end_day_offset": 3}]},
        {"rules": [{**QINGDAO_RULES[0], "shared_berths": {"ordinary": -1}}]},
        {"rules": [{**QINGDAO_RULES[0], "shared_berths": {"bicycle": 1}}]},
        {"rules": QINGDAO_RULES, "quiet_hours": {"start": "22:00", "end": "22:00"}},
        {"rules": QINGDAO_RULES, "colour": "green"},
    ],
)
def test_malformed_schedules_are_refused_422(
    client: TestClient, operator: dict[str, str], bad: dict[str, Any]
) -> None:
    response = client.put(f"/api/v1/lots/{LOT}/schedule", json=bad, headers=operator)
    assert response.status_code == 422, response.text
    assert response.json()["code"] in ("invalid_input", "quiet_hours_empty")


def test_a_save_over_someone_elses_is_refused(client: TestClient, operator: dict[str, str]) -> None:
    loaded = client.get(f"/api/v1/lots/{LOT}/schedule", headers=operator).json()["version"]
    first = {**evening_from("19:00"), "version": loaded}
    assert client.put(f"/api/v1/lots/{LOT}/schedule", json=first, headers=operator).is_success
    second = {**evening_from("20:00"), "version": loaded}
    response = client.put(f"/api/v1/lots/{LOT}/schedule", json=second, headers=operator)
    assert_refused(response, 409, "schedule_changed")


# -- reservations a change would break ----------------------------------------------------------


def book(database: Database, clock: FixedClock, start: str, end: str, *, plate: str = PLATE) -> str:
    request = reservations.ReservationRequest(
        lot=LOT,
        plate=plate,
        start=datetime.fromisoformat(start).replace(tzinfo=SH),
        end=datetime.fromisoformat(end).replace(tzinfo=SH),
    )
    with database.session(write=True) as session:
        made = reservations.reserve(
            session, request, idempotency_key=None, policy=SETTINGS.policy(), clock=clock
        )
        assert isinstance(made, Reservation)
        return made.ref


def status_of(database: Database, ref: str) -> ReservationStatus:
    with database.session() as session:
        return reservations.get_reservation(session, ref).status


def test_a_change_that_would_break_a_reservation_is_refused_and_named_in_the_preview(
    client: TestClient, operator: dict[str, str], database: Database, clock: FixedClock
) -> None:
    ref = book(database, clock, "2022-06-21T18:30", "2022-06-21T21:00")
    preview = client.post(
        f"/api/v1/lots/{LOT}/schedule/preview", json=evening_from("19:00"), headers=operator
    ).json()
    assert preview["conflicts"] == [{"reservation": ref, "reason": "outside_sharing_window"}]
    before = client.get(f"/api/v1/lots/{LOT}/schedule", headers=operator).json()
    response = client.put(
        f"/api/v1/lots/{LOT}/schedule", json=evening_from("19:00"), headers=operator
    )
    body = assert_refused(response, 409, "schedule_conflicts_reservations")
    assert body["details"]["reservations"] == [
        {"reservation": ref, "reason": "outside_sharing_window"}
    ]
    assert client.get(f"/api/v1/lots/{LOT}/schedule", headers=operator).json() == before
    assert status_of(database, ref) is ReservationStatus.BOOKED


def test_fewer_shared_berths_than_are_booked_is_refused(
    client: TestClient, operator: dict[str, str], database: Database, clock: FixedClock
) -> None:
    for plate in ("鲁B12345", "鲁B67890"):
        book(database, clock, "2022-06-21T19:00", "2022-06-21T21:00", plate=plate)
    one = evening_from("18:00", ordinary=1)
    response = client.put(f"/api/v1/lots/{LOT}/schedule", json=one, headers=operator)
    body = assert_refused(response, 409, "schedule_conflicts_reservations")
    assert {r["reason"] for r in body["details"]["reservations"]} == {"no_capacity"}
    two = evening_from("18:00", ordinary=2)
    assert client.put(f"/api/v1/lots/{LOT}/schedule", json=two, headers=operator).is_success


def test_after_suspending_the_period_the_change_goes_through(
    client: TestClient, operator: dict[str, str], database: Database, clock: FixedClock
) -> None:
    """The way to drop bookings is the suspension: drivers are told, bookings not yet started
    are cancelled free of charge; then the schedule can change."""
    ref = book(database, clock, "2022-06-21T18:30", "2022-06-21T21:00")
    with database.session(write=True) as session:
        reservations.suspend_sharing(
            session,
            LOT,
            start=datetime(2022, 6, 21, 18, tzinfo=SH),
            resume=datetime(2022, 6, 21, 19, tzinfo=SH),
            reason="schedule change",
            emergency=False,
            min_notice=timedelta(hours=2),
            clock=clock,
        )
    assert status_of(database, ref) is ReservationStatus.CANCELLED
    response = client.put(
        f"/api/v1/lots/{LOT}/schedule", json=evening_from("19:00"), headers=operator
    )
    assert response.status_code == 200, response.text
    assert len(response.json()["suspensions"]) == 1


def test_reservations_the_change_still_fits_stay_as_they_are(
    client: TestClient, operator: dict[str, str], database: Database, clock: FixedClock
) -> None:
    ref = book(database, clock, "2022-06-21T19:30", "2022-06-21T21:00")
    response = client.put(
        f"/api/v1/lots/{LOT}/schedule", json=evening_from("19:00"), headers=operator
    )
    assert response.status_code == 200, response.text
    assert status_of(database, ref) is ReservationStatus.BOOKED


# -- the tariff ---------------------------------------------------------------------------------


def test_a_new_tariff_is_stored_and_prices_the_next_booking(
    client: TestClient, operator: dict[str, str], database: Database, clock: FixedClock
) -> None:
    before = client.get(f"/api/v1/lots/{LOT}/schedule", headers=operator).json()["version"]
    body = {
        "free_minutes": 15,
        "billing_unit_minutes": 30,
        "daily_cap_fen": 2_000,
        "rates": [
            {"start": "20:00:00", "fen_per_hour": 100},
            {"start": "08:00:00", "fen_per_hour": 400},
        ],
    }
    response = client.put(f"/api/v1/lots/{LOT}/tariff", json=body, headers=operator)
    assert response.status_code == 200, response.text
    saved = response.json()
    assert saved["version"] > before
    assert saved["tariff"] == {**body, "rates": sorted(body["rates"], key=lambda r: r["start"])}
    ref = book(database, clock, "2022-06-21T19:00", "2022-06-21T21:00")
    with database.session() as session:
        # 19:00–20:00 at 4 yuan, 20:00–21:00 at 1 yuan, in half hours
        assert reservations.get_reservation(session, ref).price_estimate_fen == 500
    # replacing it again keeps one tariff with the new rates
    body["rates"] = [{"start": "08:00", "fen_per_hour": 300}]
    again = client.put(f"/api/v1/lots/{LOT}/tariff", json=body, headers=operator).json()
    assert again["tariff"]["rates"] == [{"start": "08:00:00", "fen_per_hour": 300}]


def test_the_same_tariff_again_changes_nothing(
    client: TestClient, operator: dict[str, str], database: Database, clock: FixedClock
) -> None:
    with database.session(write=True) as session:
        get_lot(session, LOT).tariff = tariff_row(DAY_NIGHT_TARIFF)
    before = client.get(f"/api/v1/lots/{LOT}/schedule", headers=operator).json()
    response = client.put(f"/api/v1/lots/{LOT}/tariff", json=before["tariff"], headers=operator)
    assert response.json() == before


@pytest.mark.parametrize(
    ("bad", "code"),
    [
        ({"free_minutes": 0, "rates": []}, "invalid_input"),
        ({"free_minutes": -1, "rates": [{"start": "00:00", "fen_per_hour": 1}]}, "invalid_input"),
        ({"free_minutes": 0, "rates": [{"start": "00:00", "fen_per_hour": -1}]}, "invalid_input"),
        ({"free_minutes": 0, "billing_unit_minutes": 0, "rates": []}, "invalid_input"),
        (
            {
                "free_minutes": 0,
                "rates": [
                    {"start": "08:00", "fen_per_hour": 100},
                    {"start": "08:00", "fen_per_hour": 200},
                ],
            },
            "invalid_input",
        ),
    ],
)
def test_an_invalid_tariff_is_refused(
    client: TestClient, operator: dict[str, str], bad: dict[str, Any], code: str
) -> None:
    response = client.put(f"/api/v1/lots/{LOT}/tariff", json=bad, headers=operator)
    assert_refused(response, 422, code)
    assert client.get(f"/api/v1/lots/{LOT}/schedule", headers=operator).json()["tariff"] is None
