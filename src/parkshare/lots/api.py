"""HTTP edge of the registry."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from parkshare.deps import SessionDep
from parkshare.geo import CoordSystem
from parkshare.lots import service
from parkshare.lots.model import LotKind, LotStatus
from parkshare.lots.schemas import LotDetail, LotPage, LotRead

router = APIRouter(prefix="/lots", tags=["car parks"])

Coords = Annotated[
    CoordSystem,
    Query(description="Coordinate system of returned locations (GCJ-02 for Chinese maps)"),
]


@router.get("", response_model=LotPage)
def list_lots(
    session: SessionDep,
    kind: LotKind | None = None,
    area: Annotated[str | None, Query(max_length=80, description="街道, e.g. 长江路街道")] = None,
    status: LotStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=service.MAX_PAGE)] = 50,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
    coords: Coords = CoordSystem.WGS84,
) -> LotPage:
    page = service.list_lots(
        session, kind=kind, area=area, status=status, limit=limit, offset=offset
    )
    return LotPage(
        items=[LotRead.of(lot, coords) for lot in page.items],
        total=page.total,
        limit=page.limit,
        offset=page.offset,
    )


@router.get("/{code}", response_model=LotDetail)
def get_lot(session: SessionDep, code: str, coords: Coords = CoordSystem.WGS84) -> LotDetail:
    return LotDetail.of(service.get_lot(session, code), coords)
