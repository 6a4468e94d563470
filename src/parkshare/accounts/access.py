"""Who may do what: the one access table of the HTTP API and the checks behind it.

Every API route has an entry in ``RULES`` under its route name; ``authorize`` (a dependency of
every API router) applies it before the handler runs. A route without an entry is refused, and
``tests/accounts/test_matrix.py`` fails for it. Checks that need the request body (the car park
of a new reservation, the plate of a pass application) are ``require_lot`` and
``require_plate``, called by the handler with the parsed body.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from parkshare.accounts.principal import Principal, Role
from parkshare.accounts.repository import AccountRepository
from parkshare.errors import Forbidden, NotFound, NotSignedIn, NotYourCarPark, NotYourPlate
from parkshare.lots.model import Lot
from parkshare.plates import parse_plate
from parkshare.reservations.repository import ReservationRepository

DRIVER, OPERATOR, ADMIN = Role.DRIVER, Role.OPERATOR, Role.ADMIN


@dataclass(frozen=True)
class Rule:
    roles: frozenset[Role] = frozenset()  # who may call it once signed in
    public: bool = False  # anyone, signed in or not
    ingest_key: bool = False  # a car-park system's key, checked by the handler
    lot_param: str | None = None  # path parameter naming a car park: operators only their own
    reservation_param: str | None = None  # drivers their own, operators their car parks'
    in_handler: str = ""  # what the handler checks further with the body (documentation)


PUBLIC = Rule(public=True)
INGEST_KEY = Rule(ingest_key=True)


def allow(
    *roles: Role, lot: str | None = None, reservation: str | None = None, body: str = ""
) -> Rule:
    return Rule(
        roles=frozenset(roles), lot_param=lot, reservation_param=reservation, in_handler=body
    )


RULES: dict[str, Rule] = {
    # car parks, availability, live state, open feeds, the programme's targets: public
    "list_lots": PUBLIC,
    "get_lot": PUBLIC,
    "get_availability": PUBLIC,
    "get_live": PUBLIC,
    "parkapi_json": PUBLIC,
    "datex2_xml": PUBLIC,
    "get_targets": PUBLIC,
    "get_utilisation": allow(ADMIN),
    "search_lots": PUBLIC,
    "health": PUBLIC,
    # accounts
    "register": PUBLIC,
    "create_token": PUBLIC,
    "revoke_current_token": allow(DRIVER, OPERATOR, ADMIN),
    "me": allow(DRIVER, OPERATOR, ADMIN),
    "my_reservations": allow(DRIVER),
    "my_passes": allow(DRIVER),
    "add_my_plate": allow(DRIVER),
    "remove_my_plate": allow(DRIVER),
    "list_accounts": allow(ADMIN),
    "create_staff_account": allow(ADMIN),
    # reservations
    "create_reservation": allow(
        DRIVER, OPERATOR, ADMIN, body="driver: own plate; operator: own car park"
    ),
    "get_reservation": allow(DRIVER, OPERATOR, ADMIN, reservation="ref"),
    "cancel_reservation": allow(DRIVER, OPERATOR, ADMIN, reservation="ref"),
    "lot_reservations": allow(OPERATOR, ADMIN, lot="code"),
    "record_arrival": allow(OPERATOR, ADMIN, lot="code"),
    "record_departure": allow(OPERATOR, ADMIN, lot="code"),
    "get_statement": allow(OPERATOR, ADMIN, lot="code"),
    # schedules and tariffs
    "get_lot_schedule": allow(OPERATOR, ADMIN, lot="code"),
    "preview_lot_schedule": allow(OPERATOR, ADMIN, lot="code"),
    "put_lot_schedule": allow(OPERATOR, ADMIN, lot="code"),
    "put_lot_tariff": allow(OPERATOR, ADMIN, lot="code"),
    # passes
    "create_offer": allow(OPERATOR, ADMIN, body="operator: own car park"),
    "create_application": allow(DRIVER, ADMIN, body="driver: own plate"),
    "allocate": allow(ADMIN),
    # credit
    "list_violations": allow(OPERATOR, ADMIN, body="operator: own car parks only"),
    "correct_violation": allow(OPERATOR, ADMIN, body="operator: own car parks only"),
    "lift_bar": allow(ADMIN),
    # networking
    "create_key": allow(OPERATOR, ADMIN, body="operator: own car parks only"),
    "list_keys": allow(OPERATOR, ADMIN, body="operator: keys of own car parks only"),
    "revoke_key": allow(OPERATOR, ADMIN, body="operator: keys of own car parks only"),
    "push_events": INGEST_KEY,
    "push_counts": INGEST_KEY,
    "get_whitelist": INGEST_KEY,
    # registry spreadsheets
    "export_lots": allow(ADMIN),
    "export_lots_csv": allow(ADMIN),
    "import_lots": allow(ADMIN),
}


def check_role(rule: Rule, principal: Principal | None) -> None:
    """Who may call the route at all (no database needed)."""
    if rule.public or rule.ingest_key:
        return
    if principal is None:
        raise NotSignedIn("Sign in first (a session cookie or an Authorization: Bearer token).")
    if principal.role not in rule.roles:
        raise Forbidden(f"A {principal.role} account may not do this.", role=str(principal.role))


def scoped(rule: Rule) -> bool:
    """Whether the rule limits the caller to the car park or reservation in the path."""
    return not (rule.public or rule.ingest_key) and bool(rule.lot_param or rule.reservation_param)


def check_scope(rule: Rule, principal: Principal, path: dict[str, str], session: Session) -> None:
    """The car park or reservation in the path is the caller's (after ``check_role``)."""
    if rule.lot_param:
        require_lot(principal, session, path[rule.lot_param])
    if rule.reservation_param:
        require_reservation(principal, session, path[rule.reservation_param])


def require_lot(principal: Principal, session: Session, code: str) -> None:
    """Operators act only on their own operator's car parks; administrators on all."""
    if principal.role is ADMIN:
        return
    if code in (own_lot_codes(principal, session) or set()):
        return
    raise NotYourCarPark(f"Car park {code!r} is not one of yours.", lot=code)


def require_lots(principal: Principal, session: Session, codes: list[str]) -> None:
    for code in codes:
        require_lot(principal, session, code)


def own_lot_codes(principal: Principal, session: Session) -> set[str] | None:
    """The car parks an operator may see; ``None`` for an administrator (all of them)."""
    if principal.role is ADMIN:
        return None
    if principal.operator_id is None:
        return set()
    return AccountRepository(session).operator_lot_codes(principal.operator_id)


def own_lot_ids(principal: Principal, session: Session) -> set[int] | None:
    """Like ``own_lot_codes``, by database id."""
    if principal.role is ADMIN:
        return None
    if principal.operator_id is None:
        return set()
    return AccountRepository(session).operator_lot_ids(principal.operator_id)


def require_lot_id(principal: Principal, session: Session, lot_id: int, *, missing: str) -> None:
    """An operator acts on a record of their own car parks only; for anyone else the record
    does not exist (``missing`` says which)."""
    own = own_lot_ids(principal, session)
    if own is not None and lot_id not in own:
        raise NotFound(missing)


def require_plate(principal: Principal, session: Session, plate: str) -> None:
    """A driver acts only for a plate registered to their account."""
    if principal.role is not DRIVER:
        return
    number = parse_plate(plate).number
    if number not in AccountRepository(session).plates(principal.account_id):
        raise NotYourPlate(
            "Register this plate to your account first (My plates).", plate_registered=False
        )


def require_reservation(principal: Principal, session: Session, ref: str) -> None:
    """Drivers see their own reservations, operators those at their car parks. Anyone else
    is told it does not exist (404), so a guessed reference reveals nothing."""
    if principal.role is ADMIN:
        return
    reservation = ReservationRepository(session).by_ref(ref)
    if reservation is not None:
        if principal.role is DRIVER and reservation.account_id == principal.account_id:
            return
        if principal.role is OPERATOR and principal.operator_id is not None:
            lot = session.get(Lot, reservation.lot_id)
            if lot is not None and lot.operator_id == principal.operator_id:
                return
    raise NotFound(f"No reservation {ref!r}.", reservation=ref)
