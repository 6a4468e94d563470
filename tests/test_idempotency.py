"""Idempotency-Key on every state-changing API operation, on both databases.

The operations come from the OpenAPI document, so a new one fails here until it honours the
key (or is listed, with its reason, as one of the exceptions). For each: a retry with the same
key gets the first status and body and changes nothing in the database (a snapshot of every
table), and the same key with another request is refused (``idempotency_key_reused``) and
changes nothing either. Then: keys are per caller, refusals are not recorded, a lost answer is
recovered by retrying, concurrent first calls have one effect, and old records are ignored and
purged."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from starlette.types import Message, Receive, Scope, Send
from typer.testing import CliRunner

from parkshare.accounts import service as accounts
from parkshare.accounts.model import Account, AuthToken
from parkshare.accounts.principal import Role
from parkshare.app import API_PREFIX, create_app
from parkshare.cli import app as cli_app
from parkshare.clock import FixedClock
from parkshare.config import Policy, get_settings
from parkshare.credit.model import BlacklistEntry, Violation, ViolationKind
from parkshare.db import Base, Database
from parkshare.idempotency.model import IdempotencyRecord
from parkshare.ingest import keys
from parkshare.ingest.model import IngestKey
from parkshare.models import __all__ as _tables  # noqa: F401  (fills Base.metadata)
from parkshare.passes import service as passes
from parkshare.passes.model import PassKind
from parkshare.reservations import lifecycle
from parkshare.reservations import service as reservations
from parkshare.reservations.model import Reservation
from parkshare.schedules.rules import SHANGHAI
from tests.factories import API_SETTINGS, DAY_NIGHT_TARIFF, make_account, make_lot
from tests.interop.helpers import csv_file, row

NOW = datetime(2022, 6, 24, 21, 0, tzinfo=SHANGHAI)  # a Friday evening: sharing hours
PASSWORD = "correct-horse-7"  # the factories' password
PLATE_D, ARRIVING, SPARE, EXTRA = "鲁B11111", "鲁B55555", "鲁B66666", "鲁B77777"
PLATE_E = "鲁B22222"  # the other driver's
BARRED, BARRED_TOO = "鲁B44444", "鲁B88888"
SATURDAY = {"from": "2022-06-25T10:00:00+08:00", "to": "2022-06-25T14:00:00+08:00"}
JULY = "2022-07"
HOME = {"lon": 120.18, "lat": 35.96}
QUIET = {"start": "22:00", "end": "06:00"}
REPLAYED = "Idempotent-Replayed"
STATE_CHANGING = {"post", "put", "patch", "delete"}


# --- the world every test starts from


@dataclass
class World:
    database: Database
    clock: FixedClock
    client: TestClient
    headers: dict[str, dict[str, str]]  # caller → Authorization
    logins: dict[str, str]  # caller → login
    account_ids: dict[str, int]
    refs: dict[str, str] = field(default_factory=dict)  # reservations by name
    prefixes: dict[str, str] = field(default_factory=dict)  # ingest keys by name
    violations: list[int] = field(default_factory=list)

    def call(
        self, method: str, url: str, *, caller: str, key: str | None = None, **arguments: Any
    ) -> httpx.Response:
        headers = dict(self.headers[caller])
        if key is not None:
            headers["Idempotency-Key"] = key
        return self.client.request(method, API_PREFIX + url, headers=headers, **arguments)


@pytest.fixture
def world(database: Database) -> Iterator[World]:
    """Car park L with a tariff and its operator's staff (``operator``), an administrator, a
    driver (``driver``: a car in, one arriving, one booked for Saturday, a spare plate) and
    another driver (``other``); violations and bars, two ingest keys of L (``gate`` pushes),
    a night-pass offer for July with one application."""
    clock = FixedClock(NOW - timedelta(hours=2))
    with database.session(write=True) as session:
        lot = make_lot(session, clock=clock, code="L", tariff=DAY_NIGHT_TARIFF)
        session.flush()
        people = {
            "driver": make_account(
                session, clock=clock, role=Role.DRIVER, plates=(PLATE_D, ARRIVING, SPARE, EXTRA)
            ),
            "other": make_account(session, clock=clock, role=Role.DRIVER, plates=(PLATE_E,)),
            "operator": make_account(
                session, clock=clock, role=Role.OPERATOR, operator=lot.operator
            ),
            "admin": make_account(session, clock=clock, role=Role.ADMIN),
        }
        refs = {
            name: _book(session, clock, plate, start, end, people["driver"].id)
            for name, plate, start, end in (
                ("in", PLATE_D, NOW - timedelta(minutes=30), NOW + timedelta(hours=9)),
                ("arriving", ARRIVING, NOW - timedelta(minutes=30), NOW + timedelta(hours=9)),
                ("saturday", SPARE, *(datetime.fromisoformat(t) for t in SATURDAY.values())),
            )
        }
        clock.set(NOW - timedelta(minutes=20))
        lifecycle.arrive(session, "L", PLATE_D, clock.now())
        violations = [
            Violation(plate=PLATE_D, lot_id=lot.id, kind=ViolationKind.OVERSTAY, occurred_at=NOW)
            for _ in range(2)
        ]
        session.add_all(violations)
        session.add_all(
            BlacklistEntry(
                plate=plate, starts_at=NOW, ends_at=NOW + timedelta(days=90), reason="overstays"
            )
            for plate in (BARRED, BARRED_TOO)
        )
        gate, secret = keys.create_key(session, name="gate", lot_codes=["L"], clock=clock)
        spare, _ = keys.create_key(session, name="spare", lot_codes=["L"], clock=clock)
        passes.offer_passes(
            session, "L", PassKind.NIGHT, datetime(2022, 7, 1).date(), quota=3, price_fen=100
        )
        passes.apply(
            session,
            passes.PassApplicationRequest(
                plate=PLATE_E, kind=PassKind.NIGHT, month=datetime(2022, 7, 1).date(), **HOME
            ),
            clock=clock,
        )
        session.flush()
        headers = {
            name: {"Authorization": f"Bearer {_token(session, account, clock)}"}
            for name, account in people.items()
        }
        headers["anonymous"] = {}
        headers["gate"] = {"Authorization": f"Bearer {secret}"}
        logins = {name: account.login for name, account in people.items()}
        ids = {name: account.id for name, account in people.items()}
        prefixes = {"gate": gate.prefix, "spare": spare.prefix}
        violation_ids = [v.id for v in violations]
    clock.set(NOW)
    with TestClient(create_app(API_SETTINGS, database, clock)) as client:
        yield World(database, clock, client, headers, logins, ids, refs, prefixes, violation_ids)


def _book(
    session: Any, clock: FixedClock, plate: str, start: datetime, end: datetime, account: int
) -> str:
    request = reservations.ReservationRequest(
        lot="L", plate=plate, start=start, end=end, account_id=account
    )
    booked = reservations.reserve(
        session, request, idempotency_key=None, policy=Policy(), clock=clock
    )
    assert isinstance(booked, Reservation)
    return booked.ref


def _token(session: Any, account: Account, clock: FixedClock) -> str:
    return accounts.issue_token(session, account, kind="api", clock=clock)


def snapshot(database: Database) -> dict[str, list[str]]:
    """Every row of every table: equal snapshots mean nothing changed."""
    with database.session() as session:
        return {
            table.name: sorted(repr(tuple(row)) for row in session.execute(select(table)))
            for table in Base.metadata.sorted_tables
        }


def body_of(response: httpx.Response) -> Any:
    return response.json() if response.content else None


def assert_reused(response: httpx.Response) -> None:
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "idempotency_key_reused"


# --- every state-changing operation: its request, and another one


Request = tuple[str, dict[str, Any]]  # URL below /api/v1, arguments of client.request


@dataclass(frozen=True)
class Case:
    caller: str
    first: Callable[[World], Request]
    other: Callable[[World], Request]  # another request to the same operation


def _json(url: str, body: Any) -> Callable[[World], Request]:
    return lambda _world: (url, {"json": body})


def _schedule(ordinary: int) -> dict[str, Any]:
    evening = {"day_types": ["workday", "makeup_workday"], "start": "18:00", "end": "07:30"}
    rest = {"day_types": ["rest_day", "holiday"], "start": "00:00", "end": "07:30"}
    berths = {"shared_berths": {"ordinary": ordinary}, "end_day_offset": 1}
    return {"rules": [{**evening, **berths}, {**rest, **berths}], "quiet_hours": QUIET}


def _tariff(day_rate: int) -> dict[str, Any]:
    return {"free_minutes": 30, "rates": [{"start": "08:00", "fen_per_hour": day_rate}]}


def _event(event_id: str) -> list[dict[str, Any]]:
    at = "2022-06-24T20:59:00+08:00"
    return [{"event_id": event_id, "lot": "L", "plate": PLATE_E, "direction": "in", "at": at}]


CASES: dict[tuple[str, str], Case] = {
    ("POST", "/auth/register"): Case(
        "anonymous",
        _json("/auth/register", {"phone": "13700000001", "password": "another-pass-9"}),
        _json("/auth/register", {"phone": "13700000002", "password": "another-pass-9"}),
    ),
    ("POST", "/me/plates"): Case(
        "driver",
        _json("/me/plates", {"plate": "鲁B33333"}),
        _json("/me/plates", {"plate": "鲁B99999"}),
    ),
    ("DELETE", "/me/plates/{plate}"): Case(
        "driver",
        lambda w: (f"/me/plates/{EXTRA}", {}),
        lambda w: (f"/me/plates/{SPARE}", {}),
    ),
    ("POST", "/accounts"): Case(
        "admin",
        _json("/accounts", {"role": "admin", "login": "second", "password": "another-pass-9"}),
        _json("/accounts", {"role": "admin", "login": "third", "password": "another-pass-9"}),
    ),
    ("POST", "/lots/import"): Case(
        "admin",
        lambda w: (
            "/lots/import",
            {"files": {"file": ("lots.csv", csv_file(row("A")), "text/csv")}},
        ),
        lambda w: (
            "/lots/import",
            {"files": {"file": ("lots.csv", csv_file(row("B")), "text/csv")}},
        ),
    ),
    ("POST", "/reservations"): Case(
        "other",
        _json("/reservations", {"lot": "L", "plate": PLATE_E, **SATURDAY}),
        _json("/reservations", {"lot": "L", "plate": PLATE_E, **SATURDAY, "waitlist": True}),
    ),
    ("POST", "/reservations/{ref}/cancel"): Case(
        "driver",
        lambda w: (f"/reservations/{w.refs['saturday']}/cancel", {}),
        lambda w: (f"/reservations/{w.refs['arriving']}/cancel", {}),
    ),
    ("POST", "/lots/{code}/arrivals"): Case(
        "operator",
        _json("/lots/L/arrivals", {"plate": ARRIVING}),
        _json("/lots/L/arrivals", {"plate": ARRIVING, "at": "2022-06-24T20:58:00+08:00"}),
    ),
    ("POST", "/lots/{code}/departures"): Case(
        "operator",
        _json("/lots/L/departures", {"plate": PLATE_D}),
        _json("/lots/L/departures", {"plate": PLATE_D, "at": "2022-06-24T20:58:00+08:00"}),
    ),
    ("PUT", "/lots/{code}/schedule"): Case(
        "operator",
        _json("/lots/L/schedule", _schedule(8)),
        _json("/lots/L/schedule", _schedule(9)),
    ),
    ("PUT", "/lots/{code}/tariff"): Case(
        "operator", _json("/lots/L/tariff", _tariff(500)), _json("/lots/L/tariff", _tariff(600))
    ),
    ("POST", "/passes/offers"): Case(
        "admin",
        _json(
            "/passes/offers",
            {"lot": "L", "kind": "weekend", "month": JULY, "quota": 3, "price_fen": 1},
        ),
        _json(
            "/passes/offers",
            {"lot": "L", "kind": "weekend", "month": JULY, "quota": 4, "price_fen": 1},
        ),
    ),
    ("POST", "/passes/applications"): Case(
        "driver",
        _json(
            "/passes/applications", {"plate": PLATE_D, "kind": "night", "month": JULY, "home": HOME}
        ),
        _json(
            "/passes/applications", {"plate": SPARE, "kind": "night", "month": JULY, "home": HOME}
        ),
    ),
    ("POST", "/passes/allocate"): Case(
        "admin",
        _json("/passes/allocate", {"kind": "night", "month": JULY}),
        _json("/passes/allocate", {"kind": "weekend", "month": JULY}),
    ),
    ("POST", "/violations/{violation_id}/correct"): Case(
        "operator",
        lambda w: (f"/violations/{w.violations[0]}/correct", {"json": {"note": "paid"}}),
        lambda w: (f"/violations/{w.violations[1]}/correct", {"json": {"note": "paid"}}),
    ),
    ("POST", "/blacklist/{plate}/lift"): Case(
        "admin",
        _json(f"/blacklist/{BARRED}/lift", {"note": "appeal"}),
        _json(f"/blacklist/{BARRED_TOO}/lift", {"note": "appeal"}),
    ),
    ("POST", "/ingest/keys/{prefix}/revoke"): Case(
        "operator",
        lambda w: (f"/ingest/keys/{w.prefixes['spare']}/revoke", {}),
        lambda w: (f"/ingest/keys/{w.prefixes['gate']}/revoke", {}),
    ),
    ("POST", "/ingest/events"): Case(
        "gate", _json("/ingest/events", _event("e1")), _json("/ingest/events", _event("e2"))
    ),
    ("POST", "/ingest/counts"): Case(
        "gate",
        _json("/ingest/counts", [{"lot": "L", "free": 3, "at": "2022-06-24T20:59:00+08:00"}]),
        _json("/ingest/counts", [{"lot": "L", "free": 4, "at": "2022-06-24T20:59:00+08:00"}]),
    ),
}
# Operations whose answer is a secret, never recorded: a retry gets a new secret and the
# first is revoked (tested below, one by one).
SECRET_ANSWERS = {("POST", "/auth/token"), ("POST", "/ingest/keys")}
# Idempotent by nature: the header is accepted, nothing is recorded (tested below).
BY_NATURE = {("POST", "/auth/logout")}
# POST, but changes nothing: no header.
READ_ONLY = {("POST", "/lots/{code}/schedule/preview")}


def _document() -> dict[str, Any]:
    return create_app(API_SETTINGS, Database("sqlite://")).openapi()


def test_every_state_changing_operation_is_covered_here_and_declares_the_header() -> None:
    operations = {
        (method.upper(), path.removeprefix(API_PREFIX)): operation
        for path, items in _document()["paths"].items()
        for method, operation in items.items()
        if method in STATE_CHANGING
    }
    assert set(operations) == set(CASES) | SECRET_ANSWERS | BY_NATURE | READ_ONLY, (
        "a new state-changing operation: give it the Idempotency-Key (and a case here)"
    )
    for name, operation in operations.items():
        headers = {p["name"] for p in operation.get("parameters", []) if p["in"] == "header"}
        assert ("Idempotency-Key" in headers) == (name not in READ_ONLY), name


@pytest.mark.parametrize("operation", sorted(CASES), ids=" ".join)
def test_a_retry_gets_the_first_answer_and_changes_nothing(
    world: World, operation: tuple[str, str]
) -> None:
    method, case = operation[0], CASES[operation]
    url, arguments = case.first(world)
    before = snapshot(world.database)

    first = world.call(method, url, caller=case.caller, key="key-1", **arguments)
    assert first.status_code < 300, first.text
    assert REPLAYED not in first.headers
    changed = snapshot(world.database)
    assert changed != before, "the first call should have an effect"

    retry = world.call(method, url, caller=case.caller, key="key-1", **arguments)
    assert (retry.status_code, body_of(retry)) == (first.status_code, body_of(first))
    assert retry.headers[REPLAYED] == "true"
    assert snapshot(world.database) == changed

    url, arguments = case.other(world)
    assert_reused(world.call(method, url, caller=case.caller, key="key-1", **arguments))
    assert snapshot(world.database) == changed


def test_a_sign_in_retried_with_its_key_gets_a_new_token_and_revokes_the_first(
    world: World,
) -> None:
    credentials = {"login": world.logins["admin"], "password": PASSWORD}
    first = world.call("POST", "/auth/token", caller="anonymous", key="k", json=credentials)
    retry = world.call("POST", "/auth/token", caller="anonymous", key="k", json=credentials)
    assert first.status_code == retry.status_code == 201, retry.text
    tokens = [first.json()["token"], retry.json()["token"]]
    assert tokens[0] != tokens[1]
    assert retry.json()["account"] == first.json()["account"]
    me = [world.client.get(f"{API_PREFIX}/me", headers=_bearer(t)) for t in tokens]
    assert [r.status_code for r in me] == [401, 200]
    assert _live_tokens(world, "admin") == 2  # the fixture's and the key's one
    assert not any(t in repr(_records(world)) for t in tokens), "a token kept in clear"
    assert all(r.request_hash.startswith("$argon2") for r in _records(world))

    changed = snapshot(world.database)
    other = {"login": world.logins["operator"], "password": PASSWORD}
    assert_reused(world.call("POST", "/auth/token", caller="anonymous", key="k", json=other))
    assert snapshot(world.database) == changed


def test_an_ingest_key_made_again_with_the_same_idempotency_key_replaces_the_first(
    world: World,
) -> None:
    body = {"name": "north gate", "lots": ["L"]}
    first = world.call("POST", "/ingest/keys", caller="operator", key="k", json=body)
    retry = world.call("POST", "/ingest/keys", caller="operator", key="k", json=body)
    assert first.status_code == retry.status_code == 201, retry.text
    secrets = [first.json()["key"], retry.json()["key"]]
    pushes = [
        world.client.post(f"{API_PREFIX}/ingest/counts", json=[], headers=_bearer(s))
        for s in secrets
    ]
    assert [p.status_code for p in pushes] == [401, 200]
    with world.database.session() as session:
        live = session.query(IngestKey).filter(IngestKey.revoked_at.is_(None)).count()
    assert live == 3  # the fixture's two and the key's one
    assert not any(s in repr(_records(world)) for s in secrets), "a key kept in clear"

    changed = snapshot(world.database)
    other = {"name": "south gate", "lots": ["L"]}
    assert_reused(world.call("POST", "/ingest/keys", caller="operator", key="k", json=other))
    assert snapshot(world.database) == changed


def test_a_logout_retried_with_its_key_is_told_the_token_is_gone_and_changes_nothing(
    world: World,
) -> None:
    first = world.call("POST", "/auth/logout", caller="driver", key="k")
    assert first.status_code == 204
    changed = snapshot(world.database)
    retry = world.call("POST", "/auth/logout", caller="driver", key="k")
    assert retry.status_code == 401
    assert retry.json()["code"] == "not_signed_in"
    assert snapshot(world.database) == changed
    assert _records(world) == []


def test_a_preview_changes_nothing(world: World) -> None:
    before = snapshot(world.database)
    response = world.call(
        "POST", "/lots/L/schedule/preview", caller="operator", key="k", json=_schedule(8)
    )
    assert response.status_code == 200, response.text
    assert snapshot(world.database) == before


# --- whose key it is


def test_a_key_is_its_callers_own(world: World) -> None:
    plate = {"plate": "鲁B33333"}
    mine = world.call("POST", "/me/plates", caller="driver", key="shared", json=plate)
    theirs = world.call("POST", "/me/plates", caller="other", key="shared", json=plate)
    assert mine.status_code == theirs.status_code == 200, theirs.text
    assert REPLAYED not in theirs.headers
    assert theirs.json()["id"] == world.account_ids["other"] != mine.json()["id"]
    assert "鲁B33333" in theirs.json()["plates"]


def test_a_key_of_one_ingest_key_is_not_anothers(world: World) -> None:
    with world.database.session(write=True) as session:
        _, secret = keys.create_key(session, name="west", lot_codes=["L"], clock=world.clock)
    world.headers["west"] = _bearer(secret)
    first = world.call("POST", "/ingest/events", caller="gate", key="b-1", json=_event("e1"))
    other = world.call("POST", "/ingest/events", caller="west", key="b-1", json=_event("e1"))
    assert first.json()["accepted"] == ["e1"]
    assert other.json()["duplicates"] == ["e1"]  # its own answer: the event was in already
    assert REPLAYED not in other.headers


def test_anonymous_callers_get_an_answer_only_for_the_identical_request(world: World) -> None:
    registration = {"phone": "13700000001", "password": "another-pass-9"}
    first = world.call("POST", "/auth/register", caller="anonymous", key="r", json=registration)
    assert first.status_code == 201, first.text
    guess = {**registration, "password": "a-guessed-pass-1"}
    assert_reused(world.call("POST", "/auth/register", caller="anonymous", key="r", json=guess))


# --- what is recorded, and for how long


def test_a_refusal_is_not_recorded_so_the_corrected_request_may_use_the_key(
    world: World,
) -> None:
    past = {"from": "2022-06-24T10:00:00+08:00", "to": "2022-06-24T12:00:00+08:00"}
    body = {"lot": "L", "plate": PLATE_E, **past}
    refused = world.call("POST", "/reservations", caller="other", key="k", json=body)
    assert refused.json()["code"] == "starts_in_past"
    assert _records(world) == []
    fixed = world.call("POST", "/reservations", caller="other", key="k", json={**body, **SATURDAY})
    assert fixed.status_code == 201, fixed.text


def test_a_respelled_plate_is_the_same_booking(world: World) -> None:
    body = {"lot": "L", "plate": PLATE_E, **SATURDAY}
    first = world.call("POST", "/reservations", caller="other", key="k", json=body)
    respelled = {**body, "plate": "鲁b·22222"}
    retry = world.call("POST", "/reservations", caller="other", key="k", json=respelled)
    assert retry.json() == first.json()
    assert retry.headers[REPLAYED] == "true"


def test_old_records_are_ignored_then_purged(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    start = world.clock.now()
    world.call("POST", "/me/plates", caller="driver", key="old", **_plate("鲁B33333"))
    world.call("POST", "/me/plates", caller="other", key="reused", **_plate("鲁B33333"))
    world.clock.set(start + timedelta(hours=23))
    world.call("POST", "/me/plates", caller="driver", key="young", **_plate("鲁B33333"))
    world.clock.set(start + timedelta(hours=25))

    # Past the retention a key is forgotten: another request with it is a new request.
    later = world.call("POST", "/me/plates", caller="other", key="reused", **_plate("鲁B99999"))
    assert later.status_code == 200, later.text
    assert REPLAYED not in later.headers
    assert "鲁B99999" in later.json()["plates"]

    monkeypatch.setenv("PARKSHARE_DATABASE_URL", world.database.url)
    monkeypatch.setenv("PARKSHARE_NOW", world.clock.now().isoformat())
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(cli_app, ["purge"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert "deleted 1 Idempotency-Key records older than 24 hours" in result.output
    assert sorted(r.idempotency_key for r in _records(world)) == ["reused", "young"]


def test_retention_is_at_least_a_day() -> None:
    assert API_SETTINGS.idempotency_retention_hours >= 24
    with pytest.raises(ValueError):
        type(API_SETTINGS)(idempotency_retention_hours=23)


# --- the in-doubt case and races


class LostAnswer:
    """The app behind a connection that drops once the next answer is ready: the commit
    happened, the client never heard."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.lose_next = False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.lose_next:
            await self.app(scope, receive, send)
            return
        self.lose_next = False

        async def nowhere(_message: Message) -> None:
            pass

        await self.app(scope, receive, nowhere)
        raise ConnectionResetError("the answer was lost on the way")


def test_an_answer_lost_after_the_commit_is_recovered_by_retrying(world: World) -> None:
    wire = LostAnswer(world.client.app)
    body = {"lot": "L", "plate": PLATE_E, **SATURDAY}
    headers = {**world.headers["other"], "Idempotency-Key": "in-doubt"}
    with TestClient(wire) as client:
        wire.lose_next = True
        with pytest.raises(ConnectionResetError):
            client.post(f"{API_PREFIX}/reservations", json=body, headers=headers)
        booked = _bookings_of(world, PLATE_E)
        assert len(booked) == 1  # it happened, though nobody was told

        retry = client.post(f"{API_PREFIX}/reservations", json=body, headers=headers)
    assert retry.status_code == 201, retry.text
    assert retry.headers[REPLAYED] == "true"
    assert retry.json()["ref"] == booked[0]
    assert _bookings_of(world, PLATE_E) == booked


def test_concurrent_first_calls_with_one_key_have_one_effect(world: World) -> None:
    body = {"lot": "L", "plate": PLATE_E, **SATURDAY}
    start = threading.Barrier(4)

    def book(_: int) -> httpx.Response:
        start.wait()
        return world.call("POST", "/reservations", caller="other", key="race", json=body)

    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(book, range(4)))
    assert {a.status_code for a in answers} == {201}, [a.text for a in answers]
    assert len({a.json()["ref"] for a in answers}) == 1
    assert sum(REPLAYED in a.headers for a in answers) == 3
    assert _bookings_of(world, PLATE_E) == [answers[0].json()["ref"]]


# --- helpers


def _plate(number: str) -> dict[str, Any]:
    return {"json": {"plate": number}}


def _bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def _records(world: World) -> list[IdempotencyRecord]:
    with world.database.session() as session:
        return list(session.scalars(select(IdempotencyRecord)))


def _live_tokens(world: World, caller: str) -> int:
    with world.database.session() as session:
        rows = session.scalars(
            select(AuthToken).where(
                AuthToken.account_id == world.account_ids[caller], AuthToken.revoked_at.is_(None)
            )
        )
        return len(list(rows))


def _bookings_of(world: World, plate: str) -> list[str]:
    with world.database.session() as session:
        rows = session.scalars(select(Reservation.ref).where(Reservation.plate == plate))
        return list(rows)
