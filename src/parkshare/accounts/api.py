"""HTTP edge of accounts: register, tokens, the signed-in account and its plates."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from sqlalchemy.orm import Session

from parkshare.accounts import service
from parkshare.accounts.deps import SignedIn
from parkshare.accounts.model import Account
from parkshare.accounts.repository import AccountRepository
from parkshare.accounts.schemas import (
    AccountRead,
    Credentials,
    MyPassRead,
    PlateAdd,
    Registration,
    StaffCreate,
    TokenRead,
)
from parkshare.deps import ClockDep, DatabaseDep, SessionDep, write
from parkshare.errors import NotFound
from parkshare.idempotency.deps import IdempotencyKey, Idempotent
from parkshare.lots.schemas import local
from parkshare.passes.repository import PassRepository
from parkshare.reservations.api import read_reservations
from parkshare.reservations.repository import ReservationRepository
from parkshare.reservations.schemas import ReservationRead

router = APIRouter(tags=["accounts"])


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


@router.post("/auth/register", response_model=AccountRead, status_code=201)
def register(
    body: Registration, database: DatabaseDep, clock: ClockDep, idempotent: Idempotent
) -> Response:
    """Create a driver account (phone number + password), optionally with a first plate."""

    def work(session: Session) -> AccountRead:
        account = service.register_driver(
            session, phone=body.phone, password=body.password, name=body.name, clock=clock
        )
        if body.plate:
            service.add_plate(session, account.id, body.plate, clock=clock)
        return AccountRead.of(account, service.plates_of(session, account.id))

    return idempotent.write(database, work)


@router.post("/auth/token", response_model=TokenRead, status_code=201)
def create_token(
    body: Credentials,
    request: Request,
    database: DatabaseDep,
    clock: ClockDep,
    idempotent: Idempotent,
) -> TokenRead:
    """Sign in and get a bearer token. Five wrong passwords in a row lock the account for 15
    minutes; twenty failures from one address in 15 minutes pause that address.

    A retry with the same Idempotency-Key signs in again and gets a new token, and the token
    the first try issued is revoked: a token is a secret, so its answer is never kept (only
    the token's SHA-256), and one key leaves one live token."""
    client = client_address(request)

    def work(session: Session) -> TokenRead | service.SignIn:
        outcome = service.sign_in(
            session, login=body.login, password=body.password, client=client, clock=clock
        )
        if outcome.account is None:
            return outcome
        secret = service.issue_token(session, outcome.account, kind="api", clock=clock)
        earlier = idempotent.superseded(session, service.token_digest(secret))
        if earlier is not None:
            service.revoke_token_digest(session, earlier, clock=clock)
        return TokenRead(
            token=secret,
            expires_at=local(clock.now() + service.API_TOKEN_FOR),
            account=AccountRead.of(outcome.account),
        )

    answer = write(database, work)
    if isinstance(answer, service.SignIn):
        assert answer.refusal is not None
        raise answer.refusal  # after the attempt was committed
    return answer


@router.post("/auth/logout", status_code=204)
def revoke_current_token(
    request: Request,
    principal: SignedIn,
    database: DatabaseDep,
    clock: ClockDep,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """Revoke the bearer token this request carries (web sessions sign out at /logout).

    Idempotent by nature, so an Idempotency-Key is accepted and nothing is recorded: once the
    token is revoked, a retry with it is answered 401 (``not_signed_in``), which tells the
    client the same thing, and changes nothing."""
    secret = request.headers.get("authorization", "").partition(" ")[2].strip()

    def work(session: Session) -> None:
        service.revoke_token(session, secret, clock=clock)

    if principal.via == "bearer":
        write(database, work)
    return Response(status_code=204)


@router.get("/me", response_model=AccountRead)
def me(principal: SignedIn, session: SessionDep) -> AccountRead:
    account = _account(session, principal.account_id)
    return AccountRead.of(account, service.plates_of(session, account.id))


@router.get("/me/reservations", response_model=list[ReservationRead])
def my_reservations(principal: SignedIn, session: SessionDep) -> list[ReservationRead]:
    """The driver's reservations, newest first."""
    rows = ReservationRepository(session).of_account(principal.account_id)
    return read_reservations(session, rows)


@router.get("/me/passes", response_model=list[MyPassRead])
def my_passes(principal: SignedIn, session: SessionDep) -> list[MyPassRead]:
    """The driver's pass applications, each with the car park it won (if allocated)."""
    rows = PassRepository(session).applications_of_account(principal.account_id)
    return [MyPassRead.of(application, won, lot) for application, won, lot in rows]


@router.post("/me/plates", response_model=AccountRead)
def add_my_plate(
    body: PlateAdd,
    principal: SignedIn,
    database: DatabaseDep,
    clock: ClockDep,
    idempotent: Idempotent,
) -> Response:
    def work(session: Session) -> AccountRead:
        service.add_plate(session, principal.account_id, body.plate, clock=clock)
        account = _account(session, principal.account_id)
        return AccountRead.of(account, service.plates_of(session, account.id))

    return idempotent.write(database, work)


@router.delete("/me/plates/{plate}", response_model=AccountRead)
def remove_my_plate(
    plate: str, principal: SignedIn, database: DatabaseDep, idempotent: Idempotent
) -> Response:
    def work(session: Session) -> AccountRead:
        service.remove_plate(session, principal.account_id, plate)
        account = _account(session, principal.account_id)
        return AccountRead.of(account, service.plates_of(session, account.id))

    return idempotent.write(database, work)


@router.get("/accounts", response_model=list[AccountRead])
def list_accounts(session: SessionDep) -> list[AccountRead]:
    return [AccountRead.of(a) for a in AccountRepository(session).all()]


@router.post("/accounts", response_model=AccountRead, status_code=201)
def create_staff_account(
    body: StaffCreate, database: DatabaseDep, clock: ClockDep, idempotent: Idempotent
) -> Response:
    """Create an operator's staff account or another administrator."""

    def work(session: Session) -> AccountRead:
        account = service.create_staff(
            session,
            role=body.role,
            login=body.login,
            password=body.password,
            name=body.name,
            operator_id=body.operator_id,
            clock=clock,
        )
        return AccountRead.of(account)

    return idempotent.write(database, work)


def _account(session: Session, account_id: int) -> Account:
    account = AccountRepository(session).get(account_id)
    if account is None:
        raise NotFound("This account no longer exists.")
    return account
