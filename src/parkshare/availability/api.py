"""HTTP edge of availability."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from parkshare.availability.schemas import AvailabilityRead
from parkshare.availability.service import lot_availability
from parkshare.clock import parse_instant
from parkshare.deps import SessionDep, SettingsDep
from parkshare.schedules.rules import BerthCategory

router = APIRouter(tags=["availability"])


@router.get("/lots/{code}/availability", response_model=AvailabilityRead)
def get_availability(
    session: SessionDep,
    settings: SettingsDep,
    code: str,
    start: Annotated[str, Query(alias="from", max_length=64)],
    end: Annotated[str, Query(alias="to", max_length=64)],
    category: BerthCategory = BerthCategory.ORDINARY,
) -> AvailabilityRead:
    answer = lot_availability(
        session,
        code,
        parse_instant(start, name="from"),
        parse_instant(end, name="to"),
        category=category,
        horizon_days=settings.window_horizon_days,
    )
    return AvailabilityRead.of(code, answer)
