"""API shapes of editing a car park's schedule and tariff. Times of day are local
(Asia/Shanghai) whole minutes, ``"18:00"``; instants carry their offset; money is fen."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from parkshare.calendar import DayType
from parkshare.fees.service import tariff_of
from parkshare.fees.tariff import RatePeriod, Tariff
from parkshare.lots.model import Lot
from parkshare.lots.schemas import LocalTime, SuspensionRead, local
from parkshare.schedules.preview import (
    MAX_RULES,
    Misfit,
    Preview,
    PreviewDay,
    PreviewWindow,
    Problem,
    Proposal,
    RuleDraft,
)
from parkshare.schedules.rules import BerthCategory, Berths, Segment
from parkshare.schedules.service import physical_berths, schedule_of

MAX_BERTHS = 100_000


def _whole_minute(value: time) -> time:
    if value.tzinfo is not None:
        raise ValueError("a local time of day without an offset, such as 18:00")
    if value.second or value.microsecond:
        raise ValueError("whole minutes only, such as 18:00")
    return value


TimeOfDay = Annotated[LocalTime, AfterValidator(_whole_minute)]
BerthCount = Annotated[int, Field(ge=0, le=MAX_BERTHS)]


class RuleBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    day_types: list[DayType] = Field(max_length=len(DayType), examples=[["workday"]])
    start: TimeOfDay = Field(examples=["18:00"])
    end: TimeOfDay = Field(examples=["07:30"])
    end_day_offset: int = Field(
        default=0, ge=0, le=2, description="0: ends the same day, 1: the next day, 2: the day after"
    )
    shared_berths: dict[BerthCategory, BerthCount] = Field(examples=[{"ordinary": 40}])

    def draft(self) -> RuleDraft:
        return RuleDraft(
            day_types=frozenset(self.day_types),
            start=self.start,
            end=self.end,
            end_day_offset=self.end_day_offset,
            shared_berths={c: self.shared_berths.get(c, 0) for c in BerthCategory},
        )


class QuietHoursBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    start: TimeOfDay = Field(examples=["22:00"])
    end: TimeOfDay = Field(examples=["06:00"])


class ScheduleBody(BaseModel):
    """A car park's whole set of rules (it replaces the current one)."""

    model_config = ConfigDict(extra="forbid")

    rules: list[RuleBody] = Field(max_length=MAX_RULES)
    quiet_hours: QuietHoursBody | None = Field(
        default=None, description="Daily hours with no entry or exit; null for none"
    )
    version: int | None = Field(
        default=None,
        description="The version you loaded: the save is refused (409 schedule_changed) "
        "if someone changed the car park since",
    )

    def proposal(self) -> Proposal:
        quiet = (self.quiet_hours.start, self.quiet_hours.end) if self.quiet_hours else None
        return Proposal(rules=tuple(rule.draft() for rule in self.rules), quiet_hours=quiet)


class RateBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    start: TimeOfDay = Field(examples=["08:00"])
    fen_per_hour: int = Field(ge=0, le=1_000_000, examples=[400])


class TariffBody(BaseModel):
    """Free minutes, hourly rates by time of day (each from its start until the next one's),
    a billing unit charged per started unit, and a cap per 24 hours; money in fen."""

    model_config = ConfigDict(extra="forbid")

    free_minutes: int = Field(ge=0, le=24 * 60, examples=[30])
    billing_unit_minutes: int = Field(default=60, ge=1, le=24 * 60)
    daily_cap_fen: int | None = Field(default=None, ge=0, le=100_000_000)
    rates: list[RateBody] = Field(min_length=1, max_length=48)

    def tariff(self) -> Tariff:
        """The tariff value (``Tariff`` refuses rates that do not start at distinct times)."""
        return Tariff(
            rates=tuple(
                RatePeriod(rate.start, rate.fen_per_hour)
                for rate in sorted(self.rates, key=lambda r: r.start)
            ),
            free_minutes=self.free_minutes,
            billing_unit_minutes=self.billing_unit_minutes,
            daily_cap_fen=self.daily_cap_fen,
        )

    @classmethod
    def of(cls, tariff: Tariff) -> TariffBody:
        return cls(
            free_minutes=tariff.free_minutes,
            billing_unit_minutes=tariff.billing_unit_minutes,
            daily_cap_fen=tariff.daily_cap_fen,
            rates=[RateBody(start=p.start, fen_per_hour=p.fen_per_hour) for p in tariff.rates],
        )


class LotScheduleRead(BaseModel):
    """A car park's sharing schedule with what bounds it: its physical berths and tariff."""

    lot: str
    version: int
    updated_at: datetime | None
    berths: dict[BerthCategory, int]
    quiet_hours: QuietHoursBody | None
    rules: list[RuleBody]
    suspensions: list[SuspensionRead]
    tariff: TariffBody | None

    @classmethod
    def of(cls, lot: Lot) -> LotScheduleRead:
        schedule = schedule_of(lot)
        quiet = schedule.quiet_hours
        tariff = tariff_of(lot)
        return cls(
            lot=lot.code,
            version=lot.version,
            updated_at=local(lot.schedule.updated_at) if lot.schedule else None,
            berths=physical_berths(lot),
            quiet_hours=QuietHoursBody(start=quiet.start, end=quiet.end) if quiet else None,
            rules=[
                RuleBody(
                    day_types=sorted(rule.day_types),
                    start=rule.start,
                    end=rule.end,
                    end_day_offset=rule.end_day_offset,
                    shared_berths=_all(rule.shared_berths),
                )
                for rule in schedule.rules
            ],
            suspensions=[
                SuspensionRead(
                    start=local(s.start), end=local(s.end), reason=s.reason, emergency=s.emergency
                )
                for s in lot.suspensions
            ],
            tariff=TariffBody.of(tariff) if tariff else None,
        )


def _all(berths: Berths) -> dict[BerthCategory, int]:
    return {c: berths.get(c, 0) for c in BerthCategory}


class ProblemRead(BaseModel):
    code: str
    field: str
    message: str
    position: int | None = Field(description="The rule's position in the list, from 0")
    details: dict[str, Any] = Field(description="e.g. rule (from 1), category, shared, physical")

    @classmethod
    def of(cls, problem: Problem) -> ProblemRead:
        return cls(
            code=problem.code,
            field=problem.field,
            message=problem.message,
            position=problem.position,
            details=dict(problem.values),
        )


class PeriodRead(BaseModel):
    start: datetime
    end: datetime
    shared_berths: dict[BerthCategory, int]

    @classmethod
    def of(cls, segment: Segment) -> PeriodRead:
        return cls(
            start=local(segment.start), end=local(segment.end), shared_berths=_all(segment.shared)
        )


class DayRead(BaseModel):
    date: date
    day_type: DayType
    periods: list[PeriodRead] = Field(description="The day's sharing periods, cut at midnight")

    @classmethod
    def of(cls, day: PreviewDay) -> DayRead:
        return cls(
            date=day.day, day_type=day.day_type, periods=[PeriodRead.of(s) for s in day.segments]
        )


class WindowRead(BaseModel):
    start: datetime = Field(description="Where the window enters the previewed week")
    end: datetime = Field(description="Where it leaves the previewed week")
    opens: datetime | None = Field(description="When the window really opens (null: long ago)")
    must_leave_by: datetime | None = Field(description="Its end (null: beyond the horizon)")
    shared_berths: dict[BerthCategory, int] = Field(description="The most shared at once")
    periods: list[PeriodRead]

    @classmethod
    def of(cls, window: PreviewWindow) -> WindowRead:
        return cls(
            start=local(window.start),
            end=local(window.end),
            opens=local(window.opened) if window.opened else None,
            must_leave_by=local(window.must_leave_by) if window.must_leave_by else None,
            shared_berths=_all(window.peak),
            periods=[PeriodRead.of(s) for s in window.segments],
        )


class MisfitRead(BaseModel):
    reservation: str
    reason: str


class SchedulePreviewRead(BaseModel):
    """The proposal's problems, or what it would share over the coming week and which
    reservations it could not honour (saving it would be refused while there are any)."""

    lot: str
    valid: bool
    problems: list[ProblemRead]
    first_day: date | None
    days: list[DayRead]
    windows: list[WindowRead]
    conflicts: list[MisfitRead]

    @classmethod
    def of(
        cls, code: str, found: list[Problem], preview: Preview | None, broken: list[Misfit]
    ) -> SchedulePreviewRead:
        return cls(
            lot=code,
            valid=not found,
            problems=[ProblemRead.of(p) for p in found],
            first_day=preview.first_day if preview else None,
            days=[DayRead.of(d) for d in preview.days] if preview else [],
            windows=[WindowRead.of(w) for w in preview.windows] if preview else [],
            conflicts=[MisfitRead(reservation=m.ref, reason=m.reason) for m in broken],
        )
