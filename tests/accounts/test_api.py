"""The accounts API: register, tokens, the signed-in account, CSRF for web sessions."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from parkshare.accounts import service
from parkshare.accounts.deps import SESSION_COOKIE
from parkshare.accounts.model import Account
from parkshare.accounts.principal import Role
from parkshare.app import create_app
from parkshare.clock import FixedClock
from parkshare.db import Database
from parkshare.lots.model import Lot
from tests.factories import API_SETTINGS, bearer_for, make_lot

PASSWORD = "correct-horse-7"


@pytest.fixture
def client(database: Database, clock: FixedClock) -> Iterator[TestClient]:
    with database.session(write=True) as session:
        make_lot(session, clock=clock, code="LX")
        make_lot(session, clock=clock, code="LY")
    with TestClient(create_app(API_SETTINGS, database, clock)) as test_client:
        yield test_client


def register(client: TestClient, phone: str = "13800138000") -> dict[str, object]:
    response = client.post(
        "/api/v1/auth/register", json={"phone": phone, "password": PASSWORD, "plate": "鲁B12345"}
    )
    assert response.status_code == 201, response.text
    body: dict[str, object] = response.json()
    return body


def token(client: TestClient, login: str = "13800138000", password: str = PASSWORD) -> str:
    response = client.post("/api/v1/auth/token", json={"login": login, "password": password})
    assert response.status_code == 201, response.text
    return str(response.json()["token"])


def test_a_driver_registers_signs_in_and_sees_their_masked_phone_and_plates(
    client: TestClient,
) -> None:
    account = register(client)
    assert account["login"] == "138****8000"
    assert account["plates"] == ["鲁B12345"]
    secret = token(client, "138 0013 8000")
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"}).json()
    assert me["role"] == "driver" and me["plates"] == ["鲁B12345"]


def test_registration_refusals_store_nothing(client: TestClient, database: Database) -> None:
    bad = [
        ({"phone": "12345", "password": PASSWORD}, "invalid_phone"),
        ({"phone": "13800138000", "password": "12345678"}, "weak_password"),
        ({"phone": "13800138000", "password": PASSWORD, "plate": "ABC123"}, "invalid_plate"),
    ]
    for body, code in bad:
        response = client.post("/api/v1/auth/register", json=body)
        assert response.status_code == 422 and response.json()["code"] == code
    with database.session() as session:
        assert session.query(Account).count() == 0
    register(client)
    again = client.post(
        "/api/v1/auth/register", json={"phone": "13800138000", "password": PASSWORD}
    )
    assert again.status_code == 409 and again.json()["code"] == "login_taken"


def test_wrong_passwords_lock_the_account_with_429_and_retry_after(client: TestClient) -> None:
    register(client)
    for _ in range(service.MAX_FAILED_PER_ACCOUNT):
        wrong = client.post(
            "/api/v1/auth/token", json={"login": "13800138000", "password": "not-it-at-all"}
        )
        assert wrong.status_code == 401 and wrong.json()["code"] == "wrong_credentials"
    locked = client.post("/api/v1/auth/token", json={"login": "13800138000", "password": PASSWORD})
    assert locked.status_code == 429
    assert locked.json()["details"]["retry_after_s"] > 0


def test_a_revoked_token_stops_working_at_once(client: TestClient) -> None:
    register(client)
    headers = {"Authorization": f"Bearer {token(client)}"}
    assert client.post("/api/v1/auth/logout", headers=headers).status_code == 204
    again = client.get("/api/v1/me", headers=headers)
    assert again.status_code == 401 and again.json()["code"] == "not_signed_in"


def test_an_expired_token_is_refused(client: TestClient, clock: FixedClock) -> None:
    register(client)
    headers = {"Authorization": f"Bearer {token(client)}"}
    clock.set(clock.now() + service.API_TOKEN_FOR + timedelta(seconds=1))
    assert client.get("/api/v1/me", headers=headers).status_code == 401


def test_a_web_session_must_send_its_csrf_token_to_change_anything(
    client: TestClient, database: Database, clock: FixedClock
) -> None:
    register(client)
    with database.session(write=True) as session:
        account = session.query(Account).one()
        secret = service.issue_token(session, account, kind="session", clock=clock)
    with database.session() as session:
        principal = service.principal_for(session, secret, kind="session", clock=clock)
        assert principal is not None
    client.cookies.set(SESSION_COOKIE, secret)
    assert client.get("/api/v1/me").status_code == 200  # reading needs no token
    forged = client.post("/api/v1/me/plates", json={"plate": "鲁B54321"})
    assert forged.status_code == 403 and forged.json()["code"] == "csrf_failed"
    wrong = client.post(
        "/api/v1/me/plates", json={"plate": "鲁B54321"}, headers={"X-CSRF-Token": "guess"}
    )
    assert wrong.status_code == 403
    sent = client.post(
        "/api/v1/me/plates",
        json={"plate": "鲁B54321"},
        headers={"X-CSRF-Token": principal.csrf_token},
    )
    assert sent.status_code == 200 and "鲁B54321" in sent.json()["plates"]


def test_operators_see_only_the_ingest_keys_of_their_own_car_parks(
    client: TestClient, database: Database, clock: FixedClock
) -> None:
    admin = bearer_for(database, clock=clock)
    for lot in ("LX", "LY"):
        made = client.post("/api/v1/ingest/keys", json={"name": lot, "lots": [lot]}, headers=admin)
        assert made.status_code == 201
    operator_x = bearer_for(database, clock=clock, role=Role.OPERATOR, operator_of="LX")
    seen = client.get("/api/v1/ingest/keys", headers=operator_x).json()
    assert [k["name"] for k in seen] == ["LX"]
    both = client.post(
        "/api/v1/ingest/keys", json={"name": "x", "lots": ["LX", "LY"]}, headers=operator_x
    )
    assert both.status_code == 403 and both.json()["code"] == "not_your_car_park"
    assert len(client.get("/api/v1/ingest/keys", headers=admin).json()) == 2


def test_an_administrator_creates_operator_staff_who_can_sign_in(
    client: TestClient, database: Database, clock: FixedClock
) -> None:
    admin = bearer_for(database, clock=clock)
    with database.session() as session:
        operator_id = session.query(Lot).filter_by(code="LX").one().operator_id
    created = client.post(
        "/api/v1/accounts",
        json={
            "role": "operator",
            "login": "lx-staff",
            "password": PASSWORD,
            "operator_id": operator_id,
        },
        headers=admin,
    )
    assert created.status_code == 201, created.text
    headers = {"Authorization": f"Bearer {token(client, 'LX-Staff')}"}
    assert client.get("/api/v1/lots/LX/statement?month=2022-06", headers=headers).status_code == 200
    assert client.get("/api/v1/lots/LY/statement?month=2022-06", headers=headers).status_code == 403


def test_an_operator_id_no_row_can_have_is_refused(
    client: TestClient, database: Database, clock: FixedClock
) -> None:
    """Found by the hostile-input tests: a huge operator id reached the database (a 500)."""
    admin = bearer_for(database, clock=clock)
    for operator_id in (2**31, 2**63, 0):
        body = {"role": "operator", "login": "lx-staff", "password": PASSWORD}
        response = client.post(
            "/api/v1/accounts", json={**body, "operator_id": operator_id}, headers=admin
        )
        assert response.status_code == 422, response.text
        assert response.json()["code"] == "invalid_input"
