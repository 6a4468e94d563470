"""Use cases of the registry: find car parks."""

from __future__ import annotations

from sqlalchemy.orm import Session

from parkshare.errors import InvalidInput, LotNotFound
from parkshare.lots.model import Lot, LotKind, LotStatus
from parkshare.lots.repository import LotRepository
from parkshare.repository import Page

MAX_PAGE = 500


def get_lot(session: Session, code: str, *, with_schedule: bool = True) -> Lot:
    lot = LotRepository(session).get_by_code(code, with_schedule=with_schedule)
    if lot is None:
        raise LotNotFound(f"No car park has the code {code!r}.", lot=code)
    return lot


def list_lots(
    session: Session,
    *,
    kind: LotKind | None = None,
    area: str | None = None,
    status: LotStatus | None = None,
    limit: int = 50,
    offset: int = 0,
) -> Page[Lot]:
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidInput(f"limit must be between 1 and {MAX_PAGE}.", field="limit")
    if offset < 0:
        raise InvalidInput("offset cannot be negative.", field="offset")
    return LotRepository(session).find(
        kind=kind, area=area, status=status, limit=limit, offset=offset
    )
