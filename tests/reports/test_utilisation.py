"""Utilisation of shared berths: the arithmetic on values, then the report and its API on both
databases, from gate events through the real ingest service and a staff-recorded arrival, with
every figure computed by hand."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient

from parkshare.accounts.principal import Role
from parkshare.app import create_app
from parkshare.clock import FixedClock
from parkshare.config import Policy
from parkshare.db import Database
from parkshare.errors import InvalidInterval, InvalidTimestamp
from parkshare.ingest import events, keys
from parkshare.ingest.live import MAX_STAY
from parkshare.lots.model import LotKind, LotStatus
from parkshare.reports.utilisation import (
    Offer,
    Share,
    Stay,
    UtilisationReport,
    Visit,
    day_range,
    hourly_shares,
    sharing_stays,
    utilisation_report,
)
from parkshare.reservations import lifecycle
from parkshare.reservations.service import ReservationRequest, reserve
from parkshare.schedules import presets
from parkshare.schedules.rules import BerthCategory
from tests.factories import API_SETTINGS, bearer_for, make_lot

SH = ZoneInfo("Asia/Shanghai")
POLICY = Policy()


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """An instant in June 2022, Qingdao time (the 21st is a Tuesday, the 22nd a Wednesday)."""
    return datetime(2022, 6, day, hour, minute, tzinfo=SH)


# --- the arithmetic -------------------------------------------------------------------------


def test_occupied_hours_never_exceed_the_berths_offered() -> None:
    offers = [Offer(at(22, 0), at(22, 2), 2)]
    stays = [Stay(at(22, 0), at(22, 2))] * 3  # three cars, two shared berths

    hours = hourly_shares(offers, stays, at(22, 0), at(23, 0))

    assert hours[0] == Share(2.0, 2.0) and hours[1] == Share(2.0, 2.0)
    assert sum(h.offered for h in hours) == 4.0


def test_a_stay_is_split_across_the_local_hours_it_covers() -> None:
    offers = [Offer(at(22, 18), at(23, 0), 2)]
    stays = [Stay(at(22, 18, 30), at(22, 20, 15))]

    hours = hourly_shares(offers, stays, at(22, 0), at(23, 0))

    assert [hours[h].occupied for h in (18, 19, 20, 21)] == [0.5, 1.0, 0.25, 0.0]
    assert [hours[h].offered for h in (17, 18, 23)] == [0.0, 2.0, 2.0]


def test_only_the_measured_range_counts() -> None:
    offers = [Offer(at(21, 18), at(22, 7, 30), 1)]
    stays = [Stay(at(21, 20), at(22, 7))]

    hours = hourly_shares(offers, stays, at(22, 0), at(23, 0))

    assert sum(h.offered for h in hours) == 7.5
    assert sum(h.occupied for h in hours) == 7.0
    assert hours[7] == Share(0.5, 0.0)


def test_hours_are_those_of_asia_shanghai_whatever_the_instants_zone() -> None:
    offers = [Offer(at(22, 9).astimezone(ZoneInfo("UTC")), at(22, 10), 1)]  # 01:00 UTC

    hours = hourly_shares(offers, [], at(22, 0), at(23, 0))

    assert hours[9].offered == 1.0 and hours[1].offered == 0.0


def test_stays_that_use_sharing_are_booked_or_entered_while_berths_were_offered() -> None:
    offers = [Offer(at(22, 18), at(23, 7, 30), 2)]
    visits = [
        Visit(at(22, 18, 30), at(22, 20)),  # entered in the window
        Visit(at(22, 8), at(22, 19)),  # staff: in before the window opened
        Visit(at(22, 17, 45), at(22, 19), booked=True),  # early for a reservation
        Visit(at(22, 23), None),  # still inside
        Visit(at(22, 7), at(22, 7)),  # no stay at all
    ]

    stays = sharing_stays(offers, visits, now=at(23, 12))

    assert stays == [
        Stay(at(22, 18, 30), at(22, 20)),
        Stay(at(22, 17, 45), at(22, 19)),
        Stay(at(22, 23), at(23, 12)),
    ]


def test_a_car_still_inside_counts_at_most_max_stay() -> None:
    offers = [Offer(at(20, 0), at(30, 0), 5)]

    (stay,) = sharing_stays(offers, [Visit(at(21, 10), None)], now=at(29, 0))

    assert stay.end == at(21, 10) + MAX_STAY


def test_percent_is_rounded_to_two_decimals_and_none_without_offer() -> None:
    assert Share(27.0, 16.25).percent == Decimal("60.19")
    assert Share(3.0, 1.0).percent == Decimal("33.33")
    assert Share(0.0, 0.0).percent is None
    assert (Share(1.0, 0.5) + Share(3.0, 0.5)).percent == Decimal("25.00")


def test_a_range_runs_from_local_midnight_and_is_bounded() -> None:
    assert day_range(date(2022, 6, 22), date(2022, 6, 22)) == (at(22, 0), at(23, 0))
    with pytest.raises(InvalidInterval):
        day_range(date(2022, 6, 22), date(2022, 6, 21))
    with pytest.raises(InvalidInterval):
        day_range(date(2022, 6, 1), date(2022, 7, 2))


def test_a_range_outside_the_years_served_is_refused() -> None:
    """Found by the hostile-input tests: the day after 9999-12-31 overflowed (a 500)."""
    with pytest.raises(InvalidTimestamp):
        day_range(date(9999, 12, 30), date(9999, 12, 31))
    with pytest.raises(InvalidTimestamp):
        day_range(date(1969, 12, 31), date(1970, 1, 1))


# --- the report on both databases -----------------------------------------------------------
#
# Wednesday 22 June 2022, a working day. Car park A (institutional, 长江路街道) shares 2 of its
# 10 berths under Qingdao's rules: Tuesday 18:00 → Wednesday 07:30 and from Wednesday 18:00,
# 7.5 + 6 = 13.5 hours, 27 berth-hours. Car park H (a hotel, 黄岛街道) shares 4 of 10 from
# 08:00 to 18:00: 40 berth-hours. Car park C has no gate data; car park S is suspended.
#
# A: three cars in overnight (two berths) and a staff car in the day; in the evening one car
#    18:30–20:15 and one from 23:00, still inside.
#    00:00–06:00  3 cars, 2 berths → 12.0      06:00–06:30  2 cars → 1.0
#    06:30–07:00  1 car → 0.5                  07:00–07:30  0
#    18:30–20:15  1.75                         23:00–24:00  1.0      → 16.25 of 27
# H: a reservation whose arrival (09:00) and departure (11:00) staff recorded → 2.0;
#    a car 09:30–12:00 → 2.5; a car in at 07:00 (before sharing) until 10:00 → not counted
#    → 4.5 of 40
# Total: 20.75 of 67 = 30.97 %.

DAY = date(2022, 6, 22)
NOW = at(23, 12)  # Thursday noon: the report runs after the day
A_EVENTS: list[Event] = [
    ("a1", "鲁B10001", "in", at(21, 20)),
    ("a2", "鲁B10002", "in", at(21, 21)),
    ("a3", "鲁B10003", "in", at(21, 21, 30)),
    ("a4", "鲁B10003", "out", at(22, 6)),
    ("a5", "鲁B10002", "out", at(22, 6, 30)),
    ("a6", "鲁B10001", "out", at(22, 7)),
    ("a7", "鲁B10004", "in", at(22, 8)),
    ("a8", "鲁B10005", "in", at(22, 18, 30)),
    ("a9", "鲁B10004", "out", at(22, 19)),
    ("a10", "鲁B10005", "out", at(22, 20, 15)),
    ("a11", "鲁B10006", "in", at(22, 23)),
]
H_EVENTS: list[Event] = [
    ("h1", "鲁B20001", "in", at(22, 9, 30)),
    ("h2", "鲁B20001", "out", at(22, 12)),
    ("h3", "鲁B20002", "in", at(22, 7)),
    ("h4", "鲁B20002", "out", at(22, 10)),
]
BOOKED_PLATE = "鲁B20009"


Event = tuple[str, str, str, datetime]  # event id, plate, direction, time


def ingest(database: Database, clock: FixedClock, code: str, rows: list[Event]) -> None:
    items = [
        {"event_id": e, "lot": code, "plate": p, "direction": d, "at": t.isoformat()}
        for e, p, d, t in rows
    ]
    with database.session(write=True) as session:
        _, secret = keys.create_key(session, name=f"gates {code}", lot_codes=[code], clock=clock)
        key = keys.authenticate(session, secret, clock=clock)
        result = events.ingest_events(session, key, items, policy=POLICY, clock=clock)
    assert len(result.accepted) == len(items), result.rejected


@pytest.fixture
def network(database: Database, clock: FixedClock) -> Database:
    clock.set(at(21, 12))
    with database.session(write=True) as session:
        make_lot(session, clock=clock, code="A", shared_berths=2, total_berths=10)
        make_lot(
            session,
            clock=clock,
            code="H",
            kind=LotKind.COMMERCIAL,
            area="黄岛街道",
            shared_berths=4,
            total_berths=10,
            rules=presets.hotel({BerthCategory.ORDINARY: 4}),
            quiet_hours=None,
        )
        make_lot(session, clock=clock, code="C", shared_berths=6)
        make_lot(session, clock=clock, code="S", shared_berths=6, status=LotStatus.SUSPENDED)
        request = ReservationRequest(lot="H", plate=BOOKED_PLATE, start=at(22, 9), end=at(22, 11))
        reserve(session, request, idempotency_key=None, policy=POLICY, clock=clock)
    clock.set(at(22, 11))
    with database.session(write=True) as session:
        lifecycle.arrive(session, "H", BOOKED_PLATE, at(22, 9))
        lifecycle.depart(session, "H", BOOKED_PLATE, at(22, 11), policy=POLICY, clock=clock)
    clock.set(NOW)
    ingest(database, clock, "A", A_EVENTS)
    ingest(database, clock, "H", H_EVENTS)
    ingest(database, clock, "S", [("s1", "鲁B30001", "in", at(22, 19))])
    return database


def report_of(database: Database, clock: FixedClock, **kwargs: object) -> UtilisationReport:
    with database.session() as session:
        return utilisation_report(session, DAY, DAY, clock=clock, **kwargs)  # type: ignore[arg-type]


def test_utilisation_of_a_day_by_hand(network: Database, clock: FixedClock) -> None:
    report = report_of(network, clock)

    assert [lot.code for lot in report.lots] == ["A", "H"]
    assert report.lots_unmeasured == 1  # C; the suspended S is not counted at all
    assert report.total == Share(67.0, 20.75)
    assert report.total.percent == Decimal("30.97")
    by_code = {lot.code: lot.total for lot in report.lots}
    assert by_code == {"A": Share(27.0, 16.25), "H": Share(40.0, 4.5)}


def test_utilisation_by_hour_of_the_day(network: Database, clock: FixedClock) -> None:
    hours = report_of(network, clock).by_hour

    expected = {
        0: Share(2.0, 2.0),
        5: Share(2.0, 2.0),
        6: Share(2.0, 1.5),
        7: Share(1.0, 0.0),
        8: Share(4.0, 0.0),
        9: Share(4.0, 1.5),  # the reservation 1 h, the car from 09:30 0.5 h
        10: Share(4.0, 2.0),
        11: Share(4.0, 1.0),
        17: Share(4.0, 0.0),
        18: Share(2.0, 0.5),
        19: Share(2.0, 1.0),
        20: Share(2.0, 0.25),
        21: Share(2.0, 0.0),
        23: Share(2.0, 1.0),
    }
    for hour, share in expected.items():
        assert hours[hour] == share, hour
    assert [hours[h].percent for h in (0, 6, 7, 9, 18)] == [
        Decimal("100.00"),
        Decimal("75.00"),
        Decimal("0.00"),
        Decimal("37.50"),
        Decimal("25.00"),
    ]


def test_utilisation_by_area_and_by_group(network: Database, clock: FixedClock) -> None:
    report = report_of(network, clock)

    areas = {(a.area, a.lots): a.share for a in report.by_area}
    assert areas == {("长江路街道", 1): Share(27.0, 16.25), ("黄岛街道", 1): Share(40.0, 4.5)}
    groups = {(g.group, g.lots): g.share.percent for g in report.by_group}
    assert groups == {
        (LotKind.INSTITUTIONAL, 1): Decimal("60.19"),
        (LotKind.COMMERCIAL, 1): Decimal("11.25"),
    }


def test_a_day_still_going_is_measured_up_to_now(network: Database, clock: FixedClock) -> None:
    clock.set(at(22, 19))

    report = report_of(network, clock)

    assert report.end == at(22, 19)
    assert report.by_hour[18] == Share(2.0, 0.5)
    assert report.by_hour[19] == Share(0.0, 0.0) and report.by_hour[23].offered == 0.0


def test_the_report_of_chosen_car_parks(network: Database, clock: FixedClock) -> None:
    report = report_of(network, clock, codes=["H", "C"])

    assert [lot.code for lot in report.lots] == ["H"] and report.lots_unmeasured == 1


def test_a_car_inside_since_before_the_range_is_found(
    database: Database, clock: FixedClock
) -> None:
    clock.set(at(21, 12))
    with database.session(write=True) as session:
        make_lot(session, clock=clock, code="A", shared_berths=2, total_berths=10)
    clock.set(NOW)
    ingest(database, clock, "A", [("x1", "鲁B10009", "in", at(21, 19))])  # never left

    report = report_of(database, clock)

    assert report.total == Share(27.0, 13.5)  # inside whenever berths were shared


# --- the API ----------------------------------------------------------------------------------


@pytest.fixture
def api(network: Database, clock: FixedClock) -> Iterator[TestClient]:
    with TestClient(create_app(API_SETTINGS, network, clock)) as client:
        yield client


def test_the_api_answers_administrators(
    api: TestClient, network: Database, clock: FixedClock
) -> None:
    headers = bearer_for(network, clock=clock, role=Role.ADMIN)

    response = api.get(
        "/api/v1/reports/utilisation",
        params={"from": "2022-06-22", "to": "2022-06-22"},
        headers=headers,
    )

    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["first_day"], body["last_day"]) == ("2022-06-22", "2022-06-22")
    assert body["start"] == "2022-06-22T00:00:00+08:00"
    assert (body["lots_measured"], body["lots_unmeasured"]) == (2, 1)
    assert body["total"] == {
        "offered_berth_hours": 67.0,
        "occupied_berth_hours": 20.75,
        "utilisation_percent": 30.97,
    }
    assert len(body["by_hour"]) == 24
    assert body["by_hour"][9] == {
        "hour": 9,
        "offered_berth_hours": 4.0,
        "occupied_berth_hours": 1.5,
        "utilisation_percent": 37.5,
    }
    assert body["by_hour"][12]["utilisation_percent"] == 0.0
    assert body["by_hour"][18]["utilisation_percent"] == 25.0
    groups = {g["group"]: (g["label_zh"], g["utilisation_percent"]) for g in body["by_group"]}
    assert groups == {
        "institutional": ("机关企事业单位", 60.19),
        "commercial": ("商场、酒店、写字楼", 11.25),
    }
    assert [a["area"] for a in body["by_area"]] == ["长江路街道", "黄岛街道"]


def test_the_api_defaults_to_yesterday(
    api: TestClient, network: Database, clock: FixedClock
) -> None:
    headers = bearer_for(network, clock=clock, role=Role.ADMIN)

    body = api.get("/api/v1/reports/utilisation", headers=headers).json()

    assert body["first_day"] == body["last_day"] == "2022-06-22"  # the clock says Thursday
    assert body["total"]["utilisation_percent"] == 30.97


def test_the_api_refuses_a_range_the_wrong_way_round(
    api: TestClient, network: Database, clock: FixedClock
) -> None:
    headers = bearer_for(network, clock=clock, role=Role.ADMIN)

    response = api.get(
        "/api/v1/reports/utilisation",
        params={"from": "2022-06-22", "to": "2022-06-01"},
        headers=headers,
    )

    assert response.status_code == 422 and response.json()["code"] == "invalid_interval"


def test_the_api_refuses_a_range_outside_the_years_served(
    api: TestClient, network: Database, clock: FixedClock
) -> None:
    headers = bearer_for(network, clock=clock, role=Role.ADMIN)

    response = api.get(
        "/api/v1/reports/utilisation",
        params={"from": "9999-12-31", "to": "9999-12-31"},
        headers=headers,
    )

    assert response.status_code == 422 and response.json()["code"] == "invalid_timestamp"


@pytest.mark.parametrize(
    ("role", "status"), [(None, 401), (Role.OPERATOR, 403), (Role.DRIVER, 403)]
)
def test_the_api_is_for_administrators_only(
    api: TestClient, network: Database, clock: FixedClock, role: Role | None, status: int
) -> None:
    headers = {}
    if role is Role.OPERATOR:
        headers = bearer_for(network, clock=clock, role=role, operator_of="A")
    elif role is Role.DRIVER:
        headers = bearer_for(network, clock=clock, role=role)

    response = api.get("/api/v1/reports/utilisation", headers=headers)

    assert response.status_code == status


def test_one_day_of_offers_and_stays_crossing_midnight_add_up() -> None:
    """Two days measured at once give each day's hours to the same hours of the day."""
    offers = [Offer(at(22, 0), at(24, 0), 1)]
    stays = [Stay(at(22, 10), at(22, 11)), Stay(at(23, 10), at(23, 10, 30))]

    hours = hourly_shares(offers, stays, at(22, 0), at(22, 0) + timedelta(days=2))

    assert hours[10] == Share(2.0, 1.5)
