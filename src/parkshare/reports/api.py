"""HTTP edge of reports."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from parkshare.deps import SessionDep
from parkshare.reports.schemas import TargetsReportRead
from parkshare.reports.service import targets_report

router = APIRouter(prefix="/reports", tags=["reports"])


@router.get("/targets", response_model=TargetsReportRead)
def get_targets(
    session: SessionDep, year: Annotated[int, Query(ge=2000, le=2100)]
) -> TargetsReportRead:
    return TargetsReportRead.of(targets_report(session, year))
