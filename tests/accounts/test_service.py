"""Accounts: registration rules, sign-in throttling, tokens, plates."""

from __future__ import annotations

from datetime import timedelta

import pytest

from parkshare.accounts import service
from parkshare.accounts.model import Account
from parkshare.accounts.principal import Role
from parkshare.clock import FixedClock
from parkshare.db import Database
from parkshare.errors import (
    InvalidInput,
    InvalidPhone,
    InvalidPlate,
    LoginTaken,
    NotFound,
    WeakPassword,
)

PASSWORD = "correct-horse-7"


@pytest.mark.parametrize(
    ("typed", "stored"),
    [("138 0013 8000", "13800138000"), ("+86 138-0013-8000", "13800138000"), ("Admin", "admin")],
)
def test_logins_are_normalised(typed: str, stored: str) -> None:
    assert service.normalise_login(typed) == stored


@pytest.mark.parametrize("phone", ["12800138000", "1380013800", "23800138000", "phone"])
def test_a_phone_that_is_not_a_mainland_mobile_is_refused(phone: str) -> None:
    with pytest.raises(InvalidPhone):
        service.parse_phone(phone)


@pytest.mark.parametrize("password", ["short1", "12345678", "Password", "13800138000"])
def test_weak_passwords_are_refused(password: str) -> None:
    with pytest.raises(WeakPassword):
        service.check_password(password, login="13800138000")


def test_a_registered_driver_is_stored_with_an_argon2_hash(
    database: Database, clock: FixedClock
) -> None:
    with database.session(write=True) as session:
        account = service.register_driver(
            session, phone="138 0013 8000", password=PASSWORD, clock=clock
        )
        assert account.login == "13800138000"
        assert account.password_hash.startswith("$argon2id$")
        assert PASSWORD not in account.password_hash


def test_a_phone_registers_once(database: Database, clock: FixedClock) -> None:
    with database.session(write=True) as session:
        service.register_driver(session, phone="13800138000", password=PASSWORD, clock=clock)
    with database.session(write=True) as session, pytest.raises(LoginTaken):
        service.register_driver(session, phone="13800138000", password=PASSWORD, clock=clock)


def test_operator_staff_need_an_operator_and_administrators_none(
    database: Database, clock: FixedClock
) -> None:
    with database.session(write=True) as session:
        with pytest.raises(InvalidInput):
            service.create_staff(
                session, role=Role.OPERATOR, login="staff", password=PASSWORD, clock=clock
            )
        with pytest.raises(InvalidInput):
            service.create_staff(
                session, role=Role.ADMIN, login="x", password=PASSWORD, clock=clock
            )


def _driver(database: Database, clock: FixedClock) -> int:
    with database.session(write=True) as session:
        account = service.register_driver(
            session, phone="13800138000", password=PASSWORD, clock=clock
        )
        return account.id


def _attempt(database: Database, clock: FixedClock, password: str, client: str = "1.2.3.4"):  # type: ignore[no-untyped-def]
    with database.session(write=True) as session:
        return service.sign_in(
            session, login="13800138000", password=password, client=client, clock=clock
        )


def test_five_wrong_passwords_lock_the_account_for_fifteen_minutes(
    database: Database, clock: FixedClock
) -> None:
    _driver(database, clock)
    for _ in range(service.MAX_FAILED_PER_ACCOUNT):
        assert _attempt(database, clock, "wrong-password").refusal.code == "wrong_credentials"
    locked = _attempt(database, clock, PASSWORD)  # even the right password, while locked
    assert locked.account is None and locked.refusal.code == "too_many_attempts"
    clock.set(clock.now() + service.LOCK_FOR + timedelta(seconds=1))
    assert _attempt(database, clock, PASSWORD).account is not None


def test_a_success_resets_the_count_of_failures(database: Database, clock: FixedClock) -> None:
    _driver(database, clock)
    for _ in range(service.MAX_FAILED_PER_ACCOUNT - 1):
        _attempt(database, clock, "wrong-password")
    assert _attempt(database, clock, PASSWORD).account is not None
    for _ in range(service.MAX_FAILED_PER_ACCOUNT - 1):
        _attempt(database, clock, "wrong-password")
    assert _attempt(database, clock, PASSWORD).account is not None


def test_one_address_failing_on_many_logins_is_paused(
    database: Database, clock: FixedClock
) -> None:
    for n in range(service.MAX_FAILED_PER_CLIENT):
        with database.session(write=True) as session:
            service.sign_in(
                session,
                login=f"1390000{n:04d}",
                password="guess-1234",
                client="9.9.9.9",
                clock=clock,
            )
    _driver(database, clock)
    paused = _attempt(database, clock, PASSWORD, client="9.9.9.9")
    assert paused.refusal is not None and paused.refusal.code == "too_many_attempts"
    assert _attempt(database, clock, PASSWORD, client="5.5.5.5").account is not None


def test_a_token_works_until_it_expires_or_is_revoked(
    database: Database, clock: FixedClock
) -> None:
    account_id = _driver(database, clock)
    with database.session(write=True) as session:
        account = session.get(Account, account_id)
        assert account is not None
        secret = service.issue_token(session, account, kind="session", clock=clock)
        other = service.issue_token(session, account, kind="api", clock=clock)
    with database.session() as session:
        principal = service.principal_for(session, secret, kind="session", clock=clock)
        assert principal is not None and principal.role is Role.DRIVER
        assert principal.csrf_token
        # a session secret is not an API token, nor the other way round
        assert service.principal_for(session, secret, kind="api", clock=clock) is None
        assert service.principal_for(session, other, kind="session", clock=clock) is None
    with database.session(write=True) as session:
        service.revoke_token(session, other, clock=clock)
    with database.session() as session:
        assert service.principal_for(session, other, kind="api", clock=clock) is None
    clock.set(clock.now() + service.SESSION_FOR)
    with database.session() as session:
        assert service.principal_for(session, secret, kind="session", clock=clock) is None


def test_a_driver_registers_plates_once_each_and_at_most_five(
    database: Database, clock: FixedClock
) -> None:
    account_id = _driver(database, clock)
    with database.session(write=True) as session:
        assert service.add_plate(session, account_id, "鲁b 12345", clock=clock) == "鲁B12345"
        service.add_plate(session, account_id, "鲁B12345", clock=clock)
        service.add_plate(session, account_id, "鲁BD12345", clock=clock)  # new energy, 8 chars
        assert service.plates_of(session, account_id) == ["鲁B12345", "鲁BD12345"]
        for plate in ("鲁B00001", "鲁B00002", "鲁B00003"):
            service.add_plate(session, account_id, plate, clock=clock)
        with pytest.raises(InvalidInput):
            service.add_plate(session, account_id, "鲁B00004", clock=clock)
        with pytest.raises(InvalidPlate):
            service.add_plate(session, account_id, "ABC", clock=clock)
        service.remove_plate(session, account_id, "鲁B12345")
        with pytest.raises(NotFound):
            service.remove_plate(session, account_id, "鲁B12345")
