"""API shape of an availability answer."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from parkshare.availability.rules import Availability, Unservable
from parkshare.lots.schemas import local
from parkshare.schedules.rules import BerthCategory

REASON_MESSAGES = {
    Unservable.OUTSIDE_SHARING_HOURS: "The car park does not share berths at the start time.",
    Unservable.SPANS_WINDOWS: "The interval runs past the must-leave-by time of its window.",
    Unservable.SUSPENDED: "The operator has suspended sharing during the interval.",
    Unservable.ENTRY_IN_QUIET_HOURS: "No entry is allowed during quiet hours at the start time.",
    Unservable.EXIT_IN_QUIET_HOURS: "No exit is allowed during quiet hours at the end time.",
    Unservable.LOT_NOT_ONLINE: "The car park is not online for sharing.",
}


class AvailabilityRead(BaseModel):
    lot: str
    start: datetime
    end: datetime
    category: BerthCategory
    servable: bool
    free: int
    shared: int
    free_by_category: dict[BerthCategory, int]
    window_start: datetime | None
    must_leave_by: datetime | None
    reason: Unservable | None
    reason_message: str | None

    @classmethod
    def of(cls, lot: str, answer: Availability) -> AvailabilityRead:
        return cls(
            lot=lot,
            start=local(answer.start),
            end=local(answer.end),
            category=answer.category,
            servable=answer.servable,
            free=answer.free,
            shared=answer.shared,
            free_by_category=answer.free_by_category,
            window_start=local(answer.window_start) if answer.window_start else None,
            must_leave_by=local(answer.must_leave_by) if answer.must_leave_by else None,
            reason=answer.reason,
            reason_message=REASON_MESSAGES[answer.reason] if answer.reason else None,
        )
