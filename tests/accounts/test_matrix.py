"""Who may call what: every API endpoint × every kind of caller, against the real app.

Callers: A anonymous · D driver who owns the reservation and plate · d another driver ·
O staff of the operator running car park LX · o staff of another operator · M city
administrator · K the ingest key of LX (a car-park system, not an account).

Expected outcome per caller, in that order: y = allowed (anything but 401/403/404),
1 = 401, 3 = 403, 4 = 404 (someone else's record: as if it did not exist). Each call runs on
its own copy of the same world, so no call sees another's effects."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from parkshare.accounts import service as accounts
from parkshare.accounts.access import RULES
from parkshare.accounts.principal import Role
from parkshare.app import API_PREFIX, API_ROUTERS, create_app
from parkshare.clock import FixedClock
from parkshare.config import Policy
from parkshare.credit.model import BlacklistEntry, Violation, ViolationKind
from parkshare.db import Database
from parkshare.ingest import keys
from parkshare.reservations import lifecycle
from parkshare.reservations import service as reservations
from parkshare.schedules.rules import SHANGHAI
from tests.factories import API_SETTINGS, DAY_NIGHT_TARIFF, make_account, make_lot

CALLERS = "ADdOoMK"
NOW = datetime(2022, 6, 24, 21, 0, tzinfo=SHANGHAI)  # a Friday evening: sharing hours
PLATE_D, PLATE_d = "鲁B11111", "鲁B22222"
ARRIVING = "鲁B55555"  # D's second car, booked and not yet in
BARRED = "鲁B44444"  # a plate on the blacklist, whose bar an administrator may lift

MATRIX: dict[tuple[str, str], str] = {
    ("POST", "/auth/register"): "yyyyyyy",
    ("POST", "/auth/token"): "yyyyyyy",
    ("POST", "/auth/logout"): "1yyyyy1",
    ("GET", "/me"): "1yyyyy1",
    ("GET", "/me/reservations"): "1yy3331",
    ("GET", "/me/passes"): "1yy3331",
    ("POST", "/me/plates"): "1yy3331",
    ("DELETE", "/me/plates/{plate}"): "1y43331",
    ("GET", "/accounts"): "13333y1",
    ("POST", "/accounts"): "13333y1",
    ("GET", "/exports/parkapi.json"): "yyyyyyy",
    ("GET", "/exports/datex2.xml"): "yyyyyyy",
    ("GET", "/exports/lots.xlsx"): "13333y1",
    ("GET", "/lots/export.xlsx"): "13333y1",
    ("GET", "/exports/lots.csv"): "13333y1",
    ("POST", "/lots/import"): "13333y1",
    ("GET", "/lots"): "yyyyyyy",
    ("GET", "/lots/{code}"): "yyyyyyy",
    ("GET", "/lots/{code}/availability"): "yyyyyyy",
    ("GET", "/lots/{code}/live"): "yyyyyyy",
    ("GET", "/search"): "yyyyyyy",
    ("GET", "/health"): "yyyyyyy",
    ("GET", "/reports/targets"): "yyyyyyy",
    ("GET", "/reports/utilisation"): "13333y1",
    ("POST", "/reservations"): "1y3y3y1",
    ("GET", "/reservations/{ref}"): "1y4y4y1",
    ("POST", "/reservations/{ref}/cancel"): "1y4y4y1",
    ("GET", "/lots/{code}/reservations"): "133y3y1",
    ("POST", "/lots/{code}/arrivals"): "133y3y1",
    ("POST", "/lots/{code}/departures"): "133y3y1",
    ("GET", "/lots/{code}/schedule"): "133y3y1",
    ("PUT", "/lots/{code}/schedule"): "133y3y1",
    ("POST", "/lots/{code}/schedule/preview"): "133y3y1",
    ("PUT", "/lots/{code}/tariff"): "133y3y1",
    ("GET", "/lots/{code}/statement"): "133y3y1",
    ("POST", "/passes/offers"): "133y3y1",
    ("POST", "/passes/applications"): "1y333y1",
    ("POST", "/passes/allocate"): "13333y1",
    ("GET", "/violations"): "133yyy1",
    ("POST", "/violations/{violation_id}/correct"): "133y4y1",
    ("POST", "/blacklist/{plate}/lift"): "13333y1",
    ("GET", "/ingest/keys"): "133yyy1",
    ("POST", "/ingest/keys"): "133y3y1",
    ("POST", "/ingest/keys/{prefix}/revoke"): "133y4y1",
    ("POST", "/ingest/events"): "111111y",
    ("POST", "/ingest/counts"): "111111y",
    ("GET", "/ingest/lots/{code}/whitelist"): "111111y",
}


APP = create_app(API_SETTINGS, clock=FixedClock(NOW))  # each call sets its own database


@dataclass
class World:
    path: Path
    headers: dict[str, dict[str, str]]  # caller letter → request headers
    ref: str  # driver D's reservation at LX
    key_prefix: str  # LX's ingest key
    violation_id: int  # at LX
    admin_login: str


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    path = tmp_path_factory.mktemp("matrix") / "world.db"
    database = Database(f"sqlite:///{path}")
    database.migrate()
    clock = FixedClock(NOW - timedelta(hours=2))
    with database.session(write=True) as session:
        lx = make_lot(session, clock=clock, code="LX", tariff=DAY_NIGHT_TARIFF)
        ly = make_lot(session, clock=clock, code="LY", tariff=DAY_NIGHT_TARIFF)
        session.flush()
        people = {
            "D": make_account(session, clock=clock, role=Role.DRIVER, plates=(PLATE_D, ARRIVING)),
            "d": make_account(session, clock=clock, role=Role.DRIVER, plates=(PLATE_d,)),
            "O": make_account(session, clock=clock, role=Role.OPERATOR, operator=lx.operator),
            "o": make_account(session, clock=clock, role=Role.OPERATOR, operator=ly.operator),
            "M": make_account(session, clock=clock, role=Role.ADMIN),
        }
        booked = reservations.reserve(
            session,
            reservations.ReservationRequest(
                lot="LX",
                plate=PLATE_D,
                start=NOW - timedelta(minutes=30),
                end=NOW + timedelta(hours=9),
                account_id=people["D"].id,
            ),
            idempotency_key=None,
            policy=Policy(),
            clock=clock,
        )
        assert isinstance(booked, reservations.Reservation)
        reservations.reserve(
            session,
            reservations.ReservationRequest(
                lot="LX",
                plate=ARRIVING,
                start=NOW - timedelta(minutes=30),
                end=NOW + timedelta(hours=9),
                account_id=people["D"].id,
            ),
            idempotency_key=None,
            policy=Policy(),
            clock=clock,
        )
        clock.set(NOW - timedelta(minutes=20))
        lifecycle.arrive(session, "LX", PLATE_D, clock.now())
        key, secret = keys.create_key(session, name="gate", lot_codes=["LX"], clock=clock)
        violation = Violation(
            plate=PLATE_D, lot_id=lx.id, kind=ViolationKind.OVERSTAY, occurred_at=clock.now()
        )
        session.add(violation)
        session.add(
            BlacklistEntry(
                plate=BARRED,
                starts_at=clock.now(),
                ends_at=clock.now() + timedelta(days=90),
                reason="two overstays",
            )
        )
        session.flush()
        headers = {
            letter: {
                "Authorization": "Bearer "
                + accounts.issue_token(session, account, kind="api", clock=clock)
            }
            for letter, account in people.items()
        }
        headers["A"] = {}
        headers["K"] = {"Authorization": f"Bearer {secret}"}
        world = World(path, headers, booked.ref, key.prefix, violation.id, people["M"].login)
    database.dispose()
    yield world


def call(world: World, method: str, path: str, caller: str, tmp: Path) -> Any:
    """One call on a fresh copy of the world."""
    copy = tmp / f"{caller}.db"
    shutil.copy(world.path, copy)
    database = Database(f"sqlite:///{copy}")
    try:
        APP.state.database = database  # already migrated: no need for the start-up work
        client = TestClient(APP, headers=world.headers[caller])
        url, arguments = request_for(world, method, path)
        return client.request(method, API_PREFIX + url, **arguments)
    finally:
        database.dispose()


def request_for(world: World, method: str, path: str) -> tuple[str, dict[str, Any]]:
    """The URL and a valid body for the endpoint (aimed at LX, D's reservation and plate)."""
    url = path.format(
        code="LX",
        ref=world.ref,
        plate=PLATE_D,
        prefix=world.key_prefix,
        violation_id=world.violation_id,
    )
    if path == "/blacklist/{plate}/lift":
        url = path.format(plate=BARRED)
    tonight = {"from": "2022-06-24T21:30:00+08:00", "to": "2022-06-25T07:00:00+08:00"}
    event = {"event_id": "m1", "lot": "LX", "plate": PLATE_D, "direction": "in"}
    event["at"] = "2022-06-24T20:59:00+08:00"
    schedule = {"rules": [], "quiet_hours": None}
    bodies: dict[tuple[str, str], dict[str, Any]] = {
        ("POST", "/auth/register"): {
            "json": {"phone": "13700000001", "password": "another-pass-9", "plate": "鲁B33333"}
        },
        ("POST", "/auth/token"): {
            "json": {"login": world.admin_login, "password": "correct-horse-7"}
        },
        ("POST", "/me/plates"): {"json": {"plate": "鲁B33333"}},
        ("POST", "/accounts"): {
            "json": {"role": "admin", "login": "second", "password": "another-pass-9"}
        },
        ("POST", "/lots/import"): {"files": {"file": ("lots.csv", b"code\n", "text/csv")}},
        ("GET", "/lots/{code}/availability"): {"params": tonight},
        ("GET", "/search"): {"params": {"lat": 35.96, "lon": 120.18, **tonight}},
        ("GET", "/reports/targets"): {"params": {"year": 2022}},
        ("GET", "/reports/utilisation"): {"params": {"from": "2022-06-20", "to": "2022-06-24"}},
        ("POST", "/reservations"): {"json": {"lot": "LX", "plate": PLATE_D, **tonight}},
        ("GET", "/lots/{code}/reservations"): {"params": {"date": "2022-06-24"}},
        ("POST", "/lots/{code}/arrivals"): {"json": {"plate": ARRIVING}},
        ("POST", "/lots/{code}/departures"): {"json": {"plate": PLATE_D}},
        ("PUT", "/lots/{code}/schedule"): {"json": schedule},
        ("POST", "/lots/{code}/schedule/preview"): {"json": schedule},
        ("PUT", "/lots/{code}/tariff"): {"json": {}},
        ("GET", "/lots/{code}/statement"): {"params": {"month": "2022-06"}},
        ("POST", "/passes/offers"): {
            "json": {"lot": "LX", "kind": "night", "month": "2022-07", "quota": 3, "price_fen": 1}
        },
        ("POST", "/passes/applications"): {
            "json": {
                "plate": PLATE_D,
                "kind": "night",
                "month": "2022-07",
                "home": {"lon": 120.18, "lat": 35.96},
            }
        },
        ("POST", "/passes/allocate"): {"json": {"kind": "night", "month": "2022-07"}},
        ("POST", "/violations/{violation_id}/correct"): {"json": {"note": "paid"}},
        ("POST", "/blacklist/{plate}/lift"): {"json": {"note": "appeal"}},
        ("POST", "/ingest/keys"): {"json": {"name": "second gate", "lots": ["LX"]}},
        ("POST", "/ingest/events"): {"json": [event]},
        ("POST", "/ingest/counts"): {
            "json": [{"lot": "LX", "free": 3, "at": "2022-06-24T20:59:00+08:00"}]
        },
    }
    return url, bodies.get((method, path), {})


def outcome(response: Any) -> str:
    return {401: "1", 403: "3", 404: "4"}.get(response.status_code, "y")


@pytest.mark.parametrize(("method", "path"), sorted(MATRIX), ids=lambda v: str(v))
def test_each_caller_gets_what_the_matrix_says(
    world: World, method: str, path: str, tmp_path: Path
) -> None:
    got = ""
    details = []
    for caller in CALLERS:
        response = call(world, method, path, caller, tmp_path)
        got += outcome(response)
        details.append(f"{caller}={response.status_code} {response.text[:120]}")
    assert got == MATRIX[(method, path)], "\n".join(details)


def test_the_matrix_lists_every_endpoint_of_the_api() -> None:
    app = create_app(API_SETTINGS, Database("sqlite://"))
    endpoints = {
        (method.upper(), path.removeprefix(API_PREFIX))
        for path, operations in app.openapi()["paths"].items()
        for method in operations
    }
    assert endpoints == set(MATRIX), "add new endpoints to MATRIX (and RULES), drop gone ones"


def test_the_access_table_has_a_rule_for_each_route_and_no_other() -> None:
    names = {route.name for router in API_ROUTERS for route in router.routes}  # type: ignore[attr-defined]
    assert names == set(RULES)


def test_a_denial_says_why_in_a_coded_error(world: World, tmp_path: Path) -> None:
    anonymous = call(world, "GET", "/me", "A", tmp_path)
    assert anonymous.json()["code"] == "not_signed_in"
    other_operator = call(world, "GET", "/lots/{code}/statement", "o", tmp_path)
    assert other_operator.json()["code"] == "not_your_car_park"
    other_driver = call(world, "POST", "/reservations", "d", tmp_path)
    assert other_driver.json()["code"] == "not_your_plate"
    driver_on_admin = call(world, "GET", "/accounts", "D", tmp_path)
    assert driver_on_admin.json()["code"] == "forbidden"
