"""Accounts: registration, sign-in with throttling, tokens, a driver's plates."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.orm import Session

from parkshare.accounts.model import Account, AuthToken, DriverPlate, LoginAttempt
from parkshare.accounts.principal import Principal, Role
from parkshare.accounts.repository import AccountRepository
from parkshare.clock import Clock
from parkshare.errors import (
    InvalidInput,
    InvalidPhone,
    LoginTaken,
    NotFound,
    ParkshareError,
    TooManyAttempts,
    WeakPassword,
    WrongCredentials,
)
from parkshare.lots.model import Operator
from parkshare.plates import parse_plate

# Sign-in throttling: an account locks after this many failures in a row, for this long; a
# client address is refused after this many failures within the window (any accounts).
MAX_FAILED_PER_ACCOUNT = 5
LOCK_FOR = timedelta(minutes=15)
MAX_FAILED_PER_CLIENT = 20
CLIENT_WINDOW = timedelta(minutes=15)
SESSION_FOR = timedelta(hours=12)  # a web session (cookie)
API_TOKEN_FOR = timedelta(days=30)  # a bearer token
MAX_PLATES = 5
MIN_PASSWORD = 8
COMMON_PASSWORDS = frozenset(
    {"12345678", "123456789", "1234567890", "88888888", "11111111", "00000000", "66666666",
     "password", "password1", "qwertyui", "qwerty123", "abc12345", "a1234567", "iloveyou"}
)  # fmt: skip

# argon2id with OWASP's recommended minimum (19 MiB, 2 passes, 1 lane): ~50 ms here, so a
# sign-in costs the server little and a stolen hash costs a guesser a lot. Hashes made with
# other parameters are upgraded at the next sign-in.
_hasher = PasswordHasher(time_cost=2, memory_cost=19_456, parallelism=1)
_UNKNOWN = _hasher.hash("no account has this password")  # same cost for unknown logins
_MOBILE = re.compile(r"1[3-9]\d{9}")
_STAFF_LOGIN = re.compile(r"[a-z][a-z0-9._-]{2,39}")


def mask_phone(phone: str) -> str:
    return f"{phone[:3]}****{phone[-4:]}" if len(phone) == 11 else "*" * len(phone)


def display_login(account: Account) -> str:
    """A driver's phone number is personal data: shown masked, like a plate."""
    return mask_phone(account.login) if account.role is Role.DRIVER else account.login


def normalise_login(text: str) -> str:
    """A mainland mobile number without spaces, dashes or +86; a staff login in lower case."""
    compact = re.sub(r"[\s-]", "", text.strip())
    if compact.startswith("+86"):
        compact = compact[3:]
    return compact if compact.isdigit() else compact.lower()


def parse_phone(text: str) -> str:
    phone = normalise_login(text)
    if not _MOBILE.fullmatch(phone):
        raise InvalidPhone(
            "Use an 11-digit mainland mobile number such as 138 0013 8000.", field="phone"
        )
    return phone


def check_password(password: str, *, login: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise WeakPassword(f"A password needs at least {MIN_PASSWORD} characters.")
    if len(password) > 128:
        raise WeakPassword("A password has at most 128 characters.")
    if password.lower() in COMMON_PASSWORDS or password == login:
        raise WeakPassword("This password is too easy to guess; choose another.")


def register_driver(
    session: Session, *, phone: str, password: str, name: str = "", clock: Clock
) -> Account:
    login = parse_phone(phone)
    check_password(password, login=login)
    return _create(
        session, role=Role.DRIVER, login=login, password=password, name=name, clock=clock
    )


def create_staff(
    session: Session,
    *,
    role: Role,
    login: str,
    password: str,
    name: str = "",
    operator_id: int | None = None,
    clock: Clock,
) -> Account:
    """An operator's staff member (``operator_id`` required) or a city administrator."""
    login = normalise_login(login)
    if not _STAFF_LOGIN.fullmatch(login):
        raise InvalidInput(
            "A staff login is 3-40 characters: a letter, then letters, digits, '.', '_' or '-'.",
            field="login",
        )
    if role is Role.DRIVER:
        raise InvalidInput("Drivers register with their phone number.", field="role")
    if (role is Role.OPERATOR) != (operator_id is not None):
        raise InvalidInput("Operator staff, and only they, belong to an operator.", field="role")
    if operator_id is not None and session.get(Operator, operator_id) is None:
        raise NotFound(f"There is no operator {operator_id}.", field="operator")
    check_password(password, login=login)
    return _create(
        session,
        role=role,
        login=login,
        password=password,
        name=name,
        operator_id=operator_id,
        clock=clock,
    )


def _create(
    session: Session,
    *,
    role: Role,
    login: str,
    password: str,
    name: str,
    operator_id: int | None = None,
    clock: Clock,
) -> Account:
    accounts = AccountRepository(session)
    if accounts.by_login(login) is not None:
        raise LoginTaken("An account with this phone number or login exists; sign in instead.")
    account = Account(
        role=role,
        login=login,
        name=name.strip()[:80],
        password_hash=_hasher.hash(password),
        operator_id=operator_id,
        active=True,
        failed_logins=0,
        created_at=clock.now(),
    )
    accounts.add(account)
    session.flush()
    return account


@dataclass(frozen=True)
class SignIn:
    """The outcome of a sign-in attempt. A refusal is returned, not raised, so that the
    attempt (and a lock) is committed before the caller answers with the error."""

    account: Account | None
    refusal: ParkshareError | None = None


def sign_in(session: Session, *, login: str, password: str, client: str, clock: Clock) -> SignIn:
    now = clock.now()
    accounts = AccountRepository(session)
    if accounts.failed_attempts(client, now - CLIENT_WINDOW) >= MAX_FAILED_PER_CLIENT:
        return SignIn(None, _throttled(CLIENT_WINDOW))
    account = accounts.by_login(normalise_login(login))
    if account and account.locked_until and account.locked_until > now:
        accounts.add(LoginAttempt(client=client[:64], succeeded=False, at=now))
        return SignIn(None, _throttled(account.locked_until - now))
    valid = _verify(account.password_hash if account else _UNKNOWN, password)
    accounts.add(LoginAttempt(client=client[:64], succeeded=bool(valid and account), at=now))
    if account is None or not valid or not account.active:
        if account is not None:
            account.failed_logins += 1
            if account.failed_logins >= MAX_FAILED_PER_ACCOUNT:
                account.locked_until = now + LOCK_FOR
                account.failed_logins = 0
        return SignIn(None, WrongCredentials("The phone number, login or password is wrong."))
    account.failed_logins = 0
    account.locked_until = None
    account.last_login_at = now
    if _hasher.check_needs_rehash(account.password_hash):
        account.password_hash = _hasher.hash(password)
    accounts.forget_attempts(now - timedelta(days=1))
    return SignIn(account)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def _throttled(wait: timedelta) -> TooManyAttempts:
    minutes = max(1, int(wait.total_seconds() // 60) + 1)
    return TooManyAttempts(
        f"Too many failed sign-ins; try again in {minutes} minutes.",
        retry_after_s=int(wait.total_seconds()) + 1,
    )


def issue_token(session: Session, account: Account, *, kind: str, clock: Clock) -> str:
    """A new web session (``kind="session"``) or API token (``"api"``); returns the secret,
    which is shown once and stored only as its SHA-256."""
    secret = f"pst_{secrets.token_urlsafe(32)}"
    now = clock.now()
    AccountRepository(session).add(
        AuthToken(
            account_id=account.id,
            kind=kind,
            token_hash=token_digest(secret),
            csrf_token=secrets.token_urlsafe(24) if kind == "session" else "",
            created_at=now,
            expires_at=now + (SESSION_FOR if kind == "session" else API_TOKEN_FOR),
        )
    )
    session.flush()
    return secret


def principal_for(session: Session, secret: str, *, kind: str, clock: Clock) -> Principal | None:
    """The account behind a live token of this kind, or ``None``."""
    if not secret.startswith("pst_") or len(secret) > 100:
        return None
    found = AccountRepository(session).token(token_digest(secret))
    if found is None:
        return None
    token, account = found
    if token.kind != kind or token.revoked_at is not None or token.expires_at <= clock.now():
        return None
    if not account.active:
        return None
    return Principal(
        account_id=account.id,
        role=account.role,
        name=account.name or display_login(account),
        operator_id=account.operator_id,
        via="cookie" if kind == "session" else "bearer",
        csrf_token=token.csrf_token,
    )


def revoke_token(session: Session, secret: str, *, clock: Clock) -> None:
    revoke_token_digest(session, token_digest(secret), clock=clock)


def revoke_token_digest(session: Session, digest: str, *, clock: Clock) -> None:
    """Revoke a token known only by its SHA-256 (the one an earlier sign-in with the same
    Idempotency-Key issued: its secret is kept nowhere)."""
    found = AccountRepository(session).token(digest)
    if found is not None and found[0].revoked_at is None:
        found[0].revoked_at = clock.now()


def token_digest(secret: str) -> str:
    """What is stored of a token: its SHA-256."""
    return hashlib.sha256(secret.encode()).hexdigest()


def plates_of(session: Session, account_id: int) -> list[str]:
    return AccountRepository(session).plates(account_id)


def add_plate(session: Session, account_id: int, plate: str, *, clock: Clock) -> str:
    """Register a plate to a driver (idempotent); returns the normalised number."""
    number = parse_plate(plate).number
    accounts = AccountRepository(session)
    if accounts.plate_row(account_id, number) is not None:
        return number
    if len(accounts.plates(account_id)) >= MAX_PLATES:
        raise InvalidInput(f"A driver registers at most {MAX_PLATES} plates.", field="plate")
    accounts.add(DriverPlate(account_id=account_id, plate=number, added_at=clock.now()))
    session.flush()
    return number


def remove_plate(session: Session, account_id: int, plate: str) -> None:
    number = parse_plate(plate).number
    row = AccountRepository(session).plate_row(account_id, number)
    if row is None:
        raise NotFound("This plate is not registered to your account.", field="plate")
    session.delete(row)
