"""Property-based fuzzing of the whole HTTP API from its own OpenAPI document (schemathesis).

Every operation under ``/api/v1`` is called with generated input, valid and invalid, by each
kind of caller it matters for (the access table, ``accounts/access.py``): anonymous and a city
administrator on every operation, a driver and staff of the operator running one demo car park
on the operations their role may call, and that car park's ingest key on the ingest routes.
Whatever it is sent, the API must never answer 5xx, must answer only the status codes, content
types and bodies its document declares, and every error is the project's ``{code, message,
details?}``.

About half of the generated values are aimed at real records of the demo (the car park, the driver's
plate and booking, a violation, an ingest key, windows around the frozen clock) so that the
calls get past "not found" into the services.

The run is bounded and reproducible: a fixed seed, derandomised generation and a fixed number of
examples per operation, against the West Coast demo in a temporary SQLite file with the clock
frozen. The hostile inputs the reliability issue names one by one are in
``tests/test_hostile_input.py``."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.routing import APIRoute
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy.orm import Session

from parkshare.accounts import service as accounts
from parkshare.accounts.access import RULES, Rule
from parkshare.accounts.model import Account
from parkshare.accounts.principal import Role
from parkshare.app import API_PREFIX, API_ROUTERS, create_app
from parkshare.clock import FixedClock
from parkshare.config import Policy
from parkshare.credit.model import BlacklistEntry, Violation, ViolationKind
from parkshare.db import Database
from parkshare.demo import westcoast
from parkshare.ingest import keys
from parkshare.lots.model import Lot, Operator
from parkshare.reservations import service as reservations
from tests.factories import API_SETTINGS, make_account

DEMO_NOW = datetime.fromisoformat("2026-11-27T16:00:00+08:00")  # as in tests/web/conftest.py
LOT, OTHER_LOT = "HD-I-001", "HD-C-001"  # the operator's car park (and the key's), another's
PLATE, SPARE_PLATE, BARRED = "鲁B12345", "鲁B23456", "鲁B44444"  # the driver's two; barred
SEED = 20261127


def _config(*, examples: int, coverage: bool) -> schemathesis.Config:
    return schemathesis.Config.from_dict(
        {
            "seed": SEED,
            "generation": {"mode": "all", "max-examples": examples, "deterministic": True},
            "phases": {"coverage": {"enabled": coverage}},
        }
    )


# The document comes from an app that is never started (nothing connects at import time); the
# calls go in-process to another app, on the demo database.
DOCUMENT_APP = create_app(API_SETTINGS)
ROUTE_NAMES = {
    (method, API_PREFIX + route.path): route.name
    for router in API_ROUTERS
    for route in router.routes
    if isinstance(route, APIRoute)
    for method in route.methods
}
DOCUMENT = DOCUMENT_APP.openapi()
# Anonymous callers and administrators: schemathesis's coverage cases (boundaries, missing and
# malformed parameters, unexpected methods), then generated examples.
THOROUGH = schemathesis.openapi.from_dict(DOCUMENT, config=_config(examples=10, coverage=True))
# Drivers, operator staff and the ingest key: more generated examples, which are aimed at their
# own records (the coverage cases are not, and would mostly be turned away as not theirs).
AIMED = schemathesis.openapi.from_dict(DOCUMENT, config=_config(examples=20, coverage=False))
# A caller the access table turns away: a few calls show it is refused with a code.
BRIEF = schemathesis.openapi.from_dict(DOCUMENT, config=_config(examples=4, coverage=False))


def _rule(context: Any) -> Rule:
    """The access rule of the operation (schemathesis also asks about methods a path lacks)."""
    operation = context.operation
    name = ROUTE_NAMES.get((operation.method.upper(), operation.path), "")
    return RULES.get(name, Rule())


def _for(*roles: Role) -> Callable[[Any], bool]:
    return lambda context: bool(_rule(context).roles & set(roles))


def _refused_anonymous(context: Any) -> bool:
    rule = _rule(context)
    return not (rule.public or rule.ingest_key)


# --- aiming half the generated values at real records of the demo

TARGETS: dict[str, Any] = {}  # filled by the ``demo`` fixture: ids known once it is built


def _aim(value: Any, aims: dict[str, st.SearchStrategy[Any]]) -> st.SearchStrategy[Any]:
    """``value`` as generated, or with its keys that ``aims`` names replaced by real ones."""
    if not isinstance(value, dict):
        return st.just(value)
    names = [name for name in value if name in aims]
    if not names:
        return st.just(value)
    replaced = st.fixed_dictionaries({name: aims[name] for name in names})
    if "from" in names and "to" in names:  # one window, not two unrelated instants
        replaced = st.tuples(replaced, _window()).map(lambda both: {**both[0], **both[1]})
    return st.one_of(st.just(value), replaced.map(lambda new: {**value, **new}))


def _instant(hours: st.SearchStrategy[int]) -> st.SearchStrategy[str]:
    return hours.map(lambda h: (DEMO_NOW + timedelta(hours=h)).isoformat())


def _window() -> st.SearchStrategy[dict[str, str]]:
    """Tonight or tomorrow inside the car parks' sharing hours, or any 1 to 36 hours from a
    little before now to two weeks ahead."""
    hours = st.tuples(st.integers(-2, 24 * 14), st.integers(1, 36))
    return st.one_of(
        st.sampled_from([(3, 3), (18, 4)]),
        hours,  # Friday 19:00-22:00, Saturday 10:00-14:00
    ).map(
        lambda h: {
            "from": (DEMO_NOW + timedelta(hours=h[0])).isoformat(),
            "to": (DEMO_NOW + timedelta(hours=h[0] + h[1])).isoformat(),
        }
    )


EVENING = {"day_types": ["workday"], "start": "18:00", "end": "07:30", "end_day_offset": 1}
RULES_AIM = [{**EVENING, "shared_berths": {"ordinary": 10}}]
RATES_AIM = [{"start": "08:00", "fen_per_hour": 400}, {"start": "20:00", "fen_per_hour": 100}]


def _path_aims() -> dict[str, st.SearchStrategy[Any]]:
    if not TARGETS:  # the schema's own examples are drawn at collection, before the demo
        return {}
    return {
        "code": st.sampled_from([LOT, OTHER_LOT]),
        "ref": st.just(TARGETS["ref"]),
        "plate": st.sampled_from([SPARE_PLATE, BARRED]),
        "prefix": st.just(TARGETS["spare_key"]),
        "violation_id": st.just(TARGETS["violation_id"]),
    }


def _value_aims() -> dict[str, st.SearchStrategy[Any]]:
    if not TARGETS:
        return {}
    soon = st.integers(min_value=-2, max_value=24 * 14)
    return {  # query parameters and a body's top-level fields, by name
        "lot": st.sampled_from([LOT, OTHER_LOT]),
        "lots": st.just([LOT]),
        "preferred_lots": st.just([LOT, OTHER_LOT]),
        "plate": st.sampled_from([PLATE, SPARE_PLATE]),
        "from": _instant(soon),
        "to": _instant(soon.map(lambda h: h + 3)),
        "at": _instant(st.integers(min_value=-3, max_value=0)),
        "date": st.sampled_from(["2026-11-27", "2026-11-28"]),
        "month": st.sampled_from(["2026-11", "2026-12"]),
        "lat": st.just(35.96),
        "lon": st.just(120.18),
        "home": st.just({"lon": 120.18, "lat": 35.96}),
        "operator_id": st.just(TARGETS["operator_id"]),
        "phone": st.integers(0, 10**8 - 1).map(lambda n: f"139{n:08d}"),
        "password": st.just("long-enough-pass-9"),
        "rules": st.just(RULES_AIM),
        "version": st.none(),  # no optimistic-lock check
        "quiet_hours": st.sampled_from([None, {"start": "22:00", "end": "06:00"}]),
        "rates": st.just(RATES_AIM),
    }


def _gate_records() -> st.SearchStrategy[list[dict[str, Any]]]:
    at = _instant(st.integers(min_value=-3, max_value=0))
    event = st.fixed_dictionaries(
        {
            "event_id": st.text(min_size=1, max_size=8),
            "lot": st.just(LOT),
            "plate": st.sampled_from([PLATE, "鲁B55555"]),
            "direction": st.sampled_from(["in", "out"]),
            "at": at,
        }
    )
    count = st.fixed_dictionaries(
        {"lot": st.just(LOT), "free": st.integers(min_value=-5, max_value=500), "at": at}
    )
    return st.lists(st.one_of(event, count), min_size=1, max_size=5)


def flatmap_path_parameters(context: Any, path_parameters: Any) -> st.SearchStrategy[Any]:
    return _aim(path_parameters, _path_aims())


def flatmap_query(context: Any, query: Any) -> st.SearchStrategy[Any]:
    return _aim(query, _value_aims())


def flatmap_body(context: Any, body: Any) -> st.SearchStrategy[Any]:
    if isinstance(body, list):  # a gate system's batch: items of any shape
        return st.one_of(st.just(body), _gate_records())
    return _aim(body, _value_aims())


for _schema in (THOROUGH, AIMED, BRIEF):
    for _hook in (flatmap_path_parameters, flatmap_query, flatmap_body):
        _schema.hook(_hook)


# --- the demo and its callers


@dataclass(frozen=True)
class Caller:
    name: str
    account_id: int | None  # None: anonymous, or a car park's ingest key
    headers: dict[str, str]


@dataclass
class Demo:
    database: Database
    clock: FixedClock
    app: FastAPI
    callers: dict[str, Caller]


def build_demo(path: Path) -> tuple[Database, FixedClock]:
    """The West Coast demo in a new SQLite file, its clock standing at ``DEMO_NOW``."""
    database = Database(f"sqlite:///{path}")
    database.migrate()
    clock = FixedClock(DEMO_NOW)
    with database.session(write=True) as session:
        westcoast.build(session, clock=clock)
    return database, clock


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    database, clock = build_demo(Path(tmp_path_factory.mktemp("fuzz")) / "demo.db")
    with database.session(write=True) as session:
        callers = make_callers(session, clock)
        _records(session, clock, driver_id=callers["driver"].account_id)
    app = create_app(API_SETTINGS, database, clock)
    yield Demo(database, clock, app, callers)
    database.dispose()


def make_callers(session: Session, clock: FixedClock) -> dict[str, Caller]:
    """A driver with two plates, staff of the operator of ``LOT``, an administrator, and an
    ingest key of ``LOT``; each with the header that says who is calling."""
    operator = session.get(Operator, session.query(Lot).filter_by(code=LOT).one().operator_id)
    people = {
        "driver": make_account(session, clock=clock, role=Role.DRIVER, plates=(PLATE, SPARE_PLATE)),
        "operator": make_account(session, clock=clock, role=Role.OPERATOR, operator=operator),
        "admin": make_account(session, clock=clock, role=Role.ADMIN),
    }
    callers = {"anonymous": Caller("anonymous", None, {})}
    for name, account in people.items():
        token = accounts.issue_token(session, account, kind="api", clock=clock)
        callers[name] = Caller(name, account.id, {"Authorization": f"Bearer {token}"})
    _, secret = keys.create_key(session, name="fuzz gate", lot_codes=[LOT], clock=clock)
    callers["ingest_key"] = Caller("ingest_key", None, {"Authorization": f"Bearer {secret}"})
    return callers


def _records(session: Session, clock: FixedClock, *, driver_id: int | None) -> None:
    """The records the generated values are aimed at (``TARGETS``)."""
    lot = session.query(Lot).filter_by(code=LOT).one()
    spare, _ = keys.create_key(session, name="spare gate", lot_codes=[LOT], clock=clock)
    tonight = reservations.ReservationRequest(
        lot=LOT,
        plate=PLATE,
        start=DEMO_NOW + timedelta(hours=3),
        end=DEMO_NOW + timedelta(hours=6),
        account_id=driver_id,
    )
    booked = reservations.reserve(
        session, tonight, idempotency_key=None, policy=Policy(), clock=clock
    )
    assert isinstance(booked, reservations.Reservation)
    violation = Violation(
        plate=PLATE, lot_id=lot.id, kind=ViolationKind.OVERSTAY, occurred_at=clock.now()
    )
    session.add(violation)
    bar = BlacklistEntry(
        plate=BARRED, starts_at=clock.now(), ends_at=clock.now() + timedelta(days=90), reason="x"
    )
    session.add(bar)
    session.flush()
    TARGETS.update(
        ref=booked.ref,
        spare_key=spare.prefix,
        violation_id=violation.id,
        operator_id=lot.operator_id,
    )


# --- the checks


def coded_error(ctx: Any, response: Any, case: Any) -> bool | None:
    """Every 4xx of the API is ``{"code": str, "message": str, "details"?: object}``."""
    if response.status_code < 400:
        return None
    body = response.json()
    assert isinstance(body, dict), f"error body is not an object: {body!r}"
    assert set(body) <= {"code", "message", "details"}, f"unexpected keys: {sorted(body)}"
    assert isinstance(body.get("code"), str) and body["code"], f"no code: {body!r}"
    assert isinstance(body.get("message"), str), f"no message: {body!r}"
    assert isinstance(body.get("details", {}), dict), f"details not an object: {body!r}"
    return None


CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    coded_error,
]


def _call(demo: Demo, case: Any, who: str) -> Any:
    caller = demo.callers[who]
    headers = caller.headers
    if case.operation.path.endswith("/auth/logout") and caller.account_id is not None:
        headers = _fresh_token(demo, caller.account_id)  # the caller's own token stays valid
    return case.call_and_validate(headers=headers, checks=CHECKS, app=demo.app)


def _fresh_token(demo: Demo, account_id: int) -> dict[str, str]:
    with demo.database.session(write=True) as session:
        account = session.get(Account, account_id)
        assert account is not None
        token = accounts.issue_token(session, account, kind="api", clock=demo.clock)
    return {"Authorization": f"Bearer {token}"}


# --- the runs: operation x caller


@THOROUGH.exclude(func=_refused_anonymous).parametrize()
def test_anonymous_caller_gets_answers_within_the_contract(case: Any, demo: Demo) -> None:
    _call(demo, case, "anonymous")


@BRIEF.include(func=_refused_anonymous).parametrize()
def test_anonymous_caller_is_refused_with_a_code(case: Any, demo: Demo) -> None:
    response = _call(demo, case, "anonymous")
    assert 400 <= response.status_code < 500, response.text  # 401, or a body that is no JSON


@AIMED.include(func=_for(Role.DRIVER)).parametrize()
def test_driver_gets_answers_within_the_contract(case: Any, demo: Demo) -> None:
    _call(demo, case, "driver")


@AIMED.include(func=_for(Role.OPERATOR)).parametrize()
def test_operator_gets_answers_within_the_contract(case: Any, demo: Demo) -> None:
    _call(demo, case, "operator")


@AIMED.include(func=lambda context: _rule(context).ingest_key).parametrize()
def test_ingest_key_gets_answers_within_the_contract(case: Any, demo: Demo) -> None:
    _call(demo, case, "ingest_key")


@THOROUGH.parametrize()
def test_administrator_gets_answers_within_the_contract(case: Any, demo: Demo) -> None:
    _call(demo, case, "admin")
