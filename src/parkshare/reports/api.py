"""HTTP edge of reports."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query

from parkshare.deps import ClockDep, SessionDep
from parkshare.reports.schemas import TargetsReportRead, UtilisationRead
from parkshare.reports.service import targets_report
from parkshare.reports.utilisation import utilisation_report, yesterday

router = APIRouter(prefix="/reports", tags=["reports"])


@router.get("/targets", response_model=TargetsReportRead)
def get_targets(
    session: SessionDep, year: Annotated[int, Query(ge=2000, le=2100)]
) -> TargetsReportRead:
    return TargetsReportRead.of(targets_report(session, year))


@router.get("/utilisation", response_model=UtilisationRead)
def get_utilisation(
    session: SessionDep,
    clock: ClockDep,
    first: Annotated[
        date | None, Query(alias="from", description="First local date (default: yesterday)")
    ] = None,
    last: Annotated[
        date | None, Query(alias="to", description="Last local date, included (default: from)")
    ] = None,
) -> UtilisationRead:
    """Occupied shared-berth hours ÷ shared-berth hours offered, by hour of the day
    (Asia/Shanghai), by area and by group, measured up to now; at most 31 days."""
    first = first or (last if last is not None else yesterday(clock))
    return UtilisationRead.of(utilisation_report(session, first, last or first, clock=clock))
