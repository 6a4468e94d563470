"""Validated shapes of what gate systems send, and the per-item answers.

Each item is validated on its own (one bad record never aborts a batch): ``parse_event`` and
``parse_count`` turn a raw JSON object into a canonical value or raise a ``ParkshareError``
that names what is wrong.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from parkshare.clock import parse_instant
from parkshare.errors import InvalidInput
from parkshare.ingest.model import Direction
from parkshare.plates import parse_plate

MAX_BATCH = 500
M = TypeVar("M", bound=BaseModel)


class EventInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    event_id: str = Field(min_length=1, max_length=100)
    lot: str = Field(min_length=1, max_length=40)
    plate: str = Field(min_length=1, max_length=20)
    direction: Direction
    at: str = Field(max_length=64)
    gate: str = Field(default="", max_length=60)


class CountInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    lot: str = Field(min_length=1, max_length=40)
    free: int = Field(ge=-1_000_000, le=1_000_000)
    total: int | None = Field(default=None, ge=0, le=1_000_000)
    at: str = Field(max_length=64)


@dataclass(frozen=True)
class GateEventIn:
    event_id: str
    lot: str
    plate: str
    direction: Direction
    at: datetime
    gate: str


@dataclass(frozen=True)
class CountIn:
    lot: str
    free: int
    total: int | None
    at: datetime


def _validated(model: type[M], raw: Any) -> M:
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'item'}: {e['msg']}" for e in exc.errors()
        )
        raise InvalidInput(problems) from None


def parse_event(raw: Any) -> GateEventIn:
    item = _validated(EventInput, raw)
    return GateEventIn(
        event_id=item.event_id,
        lot=item.lot,
        plate=parse_plate(item.plate).number,
        direction=item.direction,
        at=parse_instant(item.at, name="at"),
        gate=item.gate,
    )


def parse_count(raw: Any) -> CountIn:
    item = _validated(CountInput, raw)
    return CountIn(
        lot=item.lot, free=item.free, total=item.total, at=parse_instant(item.at, name="at")
    )


@dataclass(frozen=True)
class Rejection:
    index: int
    code: str
    message: str
    event_id: str | None = None


@dataclass
class BatchResult:
    accepted: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)
    flagged: list[str] = field(default_factory=list)  # stored, but not trusted (counts)


class RejectionRead(BaseModel):
    index: int
    code: str
    message: str
    event_id: str | None = None


class BatchRead(BaseModel):
    accepted: list[str]
    duplicates: list[str]
    rejected: list[RejectionRead]
    flagged: list[str] = []

    @classmethod
    def of(cls, result: BatchResult) -> BatchRead:
        return cls(
            accepted=result.accepted,
            duplicates=result.duplicates,
            rejected=[RejectionRead(**vars(r)) for r in result.rejected],
            flagged=result.flagged,
        )
