"""API shape of a search answer. Instants in Asia/Shanghai time; locations in the system the
client asked for; distances are straight lines, and the answer says so."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from parkshare.geo import CoordSystem
from parkshare.lots.model import LotKind
from parkshare.lots.schemas import local
from parkshare.schedules.rules import BerthCategory
from parkshare.search.rules import WALK_DETOUR_FACTOR, WALK_SPEED_M_PER_MIN
from parkshare.search.service import SearchHit, SearchResult


class SearchItemRead(BaseModel):
    code: str
    name: str
    name_en: str
    kind: LotKind
    area: str
    lon: float
    lat: float
    distance_m: int = Field(description="Straight line from the query point, in metres")
    walk_minutes: int = Field(description="Estimate: distance × detour factor ÷ walking speed")
    free: int = Field(description="Least free shared berths over the whole interval")
    price_fen: int = Field(description="The tariff's fee for the whole interval, in fen")
    must_leave_by: datetime | None = Field(
        description="End of the sharing window holding the start; null: beyond the horizon"
    )

    @classmethod
    def of(cls, hit: SearchHit) -> SearchItemRead:
        return cls(
            code=hit.code,
            name=hit.name,
            name_en=hit.name_en,
            kind=hit.kind,
            area=hit.area,
            lon=round(hit.lon, 7),
            lat=round(hit.lat, 7),
            distance_m=round(hit.distance_m),
            walk_minutes=hit.walk_minutes,
            free=hit.free,
            price_fen=hit.price_fen,
            must_leave_by=local(hit.must_leave_by) if hit.must_leave_by else None,
        )


class WalkEstimateRead(BaseModel):
    """How ``walk_minutes`` is estimated from the straight-line distance."""

    detour_factor: float
    speed_m_per_min: float


class SearchRead(BaseModel):
    distance: Literal["straight_line"]
    coords: CoordSystem
    start: datetime
    end: datetime
    category: BerthCategory
    min_free: int
    radius_m: int
    walk: WalkEstimateRead
    items: list[SearchItemRead]

    @classmethod
    def of(cls, result: SearchResult) -> SearchRead:
        query = result.query
        return cls(
            distance="straight_line",
            coords=query.coords,
            start=local(query.start),
            end=local(query.end),
            category=query.category,
            min_free=query.min_free,
            radius_m=query.radius_m,
            walk=WalkEstimateRead(
                detour_factor=WALK_DETOUR_FACTOR, speed_m_per_min=WALK_SPEED_M_PER_MIN
            ),
            items=[SearchItemRead.of(hit) for hit in result.hits],
        )
