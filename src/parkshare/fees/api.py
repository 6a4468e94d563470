"""HTTP edge of fees: an operator's monthly statement."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel

from parkshare.clock import EARLIEST_YEAR, LATEST_YEAR
from parkshare.deps import SessionDep
from parkshare.errors import InvalidInput
from parkshare.fees.statement import Statement, StatementDay, statement

router = APIRouter(tags=["fees"])


class StatementDayRead(BaseModel):
    day: date
    completed: int
    parking_fen: int
    overstay_fen: int
    cancellation_fen: int
    passes_sold: int
    pass_fen: int
    total_fen: int

    @classmethod
    def of(cls, day: StatementDay) -> StatementDayRead:
        return cls(
            day=day.day,
            completed=day.completed,
            parking_fen=day.parking_fen,
            overstay_fen=day.overstay_fen,
            cancellation_fen=day.cancellation_fen,
            passes_sold=day.passes_sold,
            pass_fen=day.pass_fen,
            total_fen=day.total_fen,
        )


class StatementRead(BaseModel):
    lot: str
    month: str
    days: list[StatementDayRead]
    total: StatementDayRead

    @classmethod
    def of(cls, report: Statement) -> StatementRead:
        return cls(
            lot=report.lot,
            month=f"{report.month:%Y-%m}",
            days=[StatementDayRead.of(d) for d in report.days],
            total=StatementDayRead.of(report.total),
        )


def parse_month(text: str) -> date:
    try:
        month = date.fromisoformat(f"{text}-01")
    except ValueError:
        raise InvalidInput(f"{text!r} is not a month such as 2022-06.", field="month") from None
    if not EARLIEST_YEAR <= month.year <= LATEST_YEAR:
        raise InvalidInput(
            f"{text!r} is outside the years {EARLIEST_YEAR}–{LATEST_YEAR}.", field="month"
        )
    return month


@router.get("/lots/{code}/statement", response_model=StatementRead)
def get_statement(
    session: SessionDep, code: str, month: Annotated[str, Query(max_length=7, examples=["2022-06"])]
) -> StatementRead:
    return StatementRead.of(statement(session, code, parse_month(month)))
