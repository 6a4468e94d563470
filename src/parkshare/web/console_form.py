"""The schedule-and-tariff form of the operator console, as typed and as values.

``ScheduleForm`` holds what the form shows (strings, so a refused form comes back exactly as
the operator typed it); ``read`` turns it into a ``Proposal`` and a ``Tariff`` or the problems
that stop it, each with a stable code the page translates. Money is typed in yuan and kept
in fen.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import time
from decimal import Decimal, InvalidOperation

from starlette.datastructures import FormData

from parkshare.calendar import DayType
from parkshare.errors import InvalidInput
from parkshare.fees.tariff import RatePeriod, Tariff
from parkshare.schedules.preview import MAX_RULES, Problem, Proposal, RuleDraft
from parkshare.schedules.rules import BerthCategory, Schedule

DAY_TYPES = (DayType.WORKDAY, DayType.MAKEUP_WORKDAY, DayType.REST_DAY, DayType.HOLIDAY)
MAX_RATES = 12
MAX_BERTHS = 100_000
MAX_FEN = 100_000_000


@dataclass(frozen=True)
class RuleRow:
    days: tuple[str, ...] = ()
    start: str = ""
    end: str = ""
    offset: str = "0"
    berths: Mapping[str, str] = field(default_factory=dict)

    @property
    def blank(self) -> bool:
        return not (self.days or self.start or self.end or any(self.berths.values()))


@dataclass(frozen=True)
class RateRow:
    start: str = ""
    yuan: str = ""

    @property
    def blank(self) -> bool:
        return not (self.start or self.yuan)


@dataclass(frozen=True)
class ScheduleForm:
    rules: tuple[RuleRow, ...] = ()
    quiet_start: str = ""
    quiet_end: str = ""
    free_minutes: str = ""
    billing_unit: str = ""
    daily_cap: str = ""
    rates: tuple[RateRow, ...] = ()
    version: str = ""

    @classmethod
    def of(cls, schedule: Schedule, tariff: Tariff | None, version: int) -> ScheduleForm:
        """The form filled with a car park's current schedule and tariff."""
        rules = tuple(
            RuleRow(
                days=tuple(d for d in DAY_TYPES if d in rule.day_types),
                start=f"{rule.start:%H:%M}",
                end=f"{rule.end:%H:%M}",
                offset=str(rule.end_day_offset),
                berths={c.value: str(rule.shared_berths.get(c, 0)) for c in BerthCategory},
            )
            for rule in schedule.rules
        )
        quiet = schedule.quiet_hours
        return cls(
            rules=rules,
            quiet_start=f"{quiet.start:%H:%M}" if quiet else "",
            quiet_end=f"{quiet.end:%H:%M}" if quiet else "",
            free_minutes=str(tariff.free_minutes) if tariff else "",
            billing_unit=str(tariff.billing_unit_minutes) if tariff else "",
            daily_cap=_yuan(tariff.daily_cap_fen) if tariff else "",
            rates=tuple(RateRow(f"{p.start:%H:%M}", _yuan(p.fen_per_hour)) for p in tariff.rates)
            if tariff
            else (),
            version=str(version),
        )

    @classmethod
    def posted(cls, form: FormData) -> ScheduleForm:
        """The form as posted: rules ``r{i}_…`` and rates ``t{i}_…``; removed and blank rows
        are left out."""

        def text(name: str) -> str:
            value = form.get(name, "")
            return value.strip()[:40] if isinstance(value, str) else ""

        rules = tuple(
            RuleRow(
                days=tuple(
                    d.value
                    for d in DAY_TYPES
                    if d.value in {v for v in form.getlist(f"r{i}_days") if isinstance(v, str)}
                ),
                start=text(f"r{i}_start"),
                end=text(f"r{i}_end"),
                offset=text(f"r{i}_offset") or "0",
                berths={c.value: text(f"r{i}_{c.value}") for c in BerthCategory},
            )
            for i in range(MAX_RULES + 1)
            if not text(f"r{i}_remove")
        )
        rates = tuple(
            RateRow(text(f"t{i}_start"), text(f"t{i}_yuan")) for i in range(MAX_RATES + 1)
        )
        return cls(
            rules=tuple(r for r in rules if not r.blank),
            quiet_start=text("quiet_start"),
            quiet_end=text("quiet_end"),
            free_minutes=text("free_minutes"),
            billing_unit=text("billing_unit"),
            daily_cap=text("daily_cap"),
            rates=tuple(r for r in rates if not r.blank),
            version=text("version"),
        )

    def with_blank_rows(self) -> ScheduleForm:
        """Room to add a rule and two rates."""
        return replace(
            self,
            rules=(*self.rules, RuleRow(offset="0")),
            rates=(*self.rates, RateRow(), RateRow()),
        )

    @property
    def expected_version(self) -> int | None:
        return int(self.version) if self.version.isdigit() else None


@dataclass(frozen=True)
class Parsed:
    proposal: Proposal | None
    tariff: Tariff | None  # None: the tariff part was left empty (no change)
    problems: list[Problem]


def read(form: ScheduleForm) -> Parsed:
    """The proposal and tariff a form says, or what stops them (form-level problems only:
    the proposal's own are ``schedules.preview.problems``)."""
    found: list[Problem] = []
    drafts = [_draft(i, row, found) for i, row in enumerate(form.rules)]
    quiet = _quiet(form, found)
    tariff = _tariff(form, found)
    if found:
        return Parsed(None, None, found)
    proposal = Proposal(rules=tuple(d for d in drafts if d is not None), quiet_hours=quiet)
    return Parsed(proposal, tariff, [])


def _problem(code: str, name: str, position: int | None = None, **values: object) -> Problem:
    return Problem(code, name, code, position, values)


def _time(text: str, name: str, found: list[Problem], position: int | None = None) -> time | None:
    try:
        value = time.fromisoformat(text)
    except ValueError:
        value = None
    if value is None or value.second or value.microsecond or value.tzinfo:
        rule = {"rule": position + 1} if position is not None else {}
        found.append(_problem("invalid_time", name, position, value=text or "—", **rule))
        return None
    return value


def _count(
    text: str | None, name: str, found: list[Problem], position: int | None, top: int
) -> int:
    if not text:
        return 0
    if not text.isdigit() or int(text) > top:
        rule = {"rule": position + 1} if position is not None else {}
        found.append(_problem("invalid_number", name, position, value=text, **rule))
        return 0
    return int(text)


def _draft(position: int, row: RuleRow, found: list[Problem]) -> RuleDraft | None:
    before = len(found)
    start = _time(row.start, f"r{position}_start", found, position)
    end = _time(row.end, f"r{position}_end", found, position)
    offset = row.offset if row.offset in ("0", "1", "2") else "0"
    shared = {
        c: _count(row.berths.get(c), f"r{position}_{c}", found, position, MAX_BERTHS)
        for c in BerthCategory
    }
    if len(found) > before or start is None or end is None:
        return None
    return RuleDraft(
        day_types=frozenset(DayType(d) for d in row.days),
        start=start,
        end=end,
        end_day_offset=int(offset),
        shared_berths=shared,
    )


def _quiet(form: ScheduleForm, found: list[Problem]) -> tuple[time, time] | None:
    if not form.quiet_start and not form.quiet_end:
        return None
    if not form.quiet_start or not form.quiet_end:
        found.append(_problem("quiet_hours_incomplete", "quiet_start"))
        return None
    start = _time(form.quiet_start, "quiet_start", found)
    end = _time(form.quiet_end, "quiet_end", found)
    return (start, end) if start is not None and end is not None else None


def _tariff(form: ScheduleForm, found: list[Problem]) -> Tariff | None:
    if not (form.free_minutes or form.billing_unit or form.daily_cap or form.rates):
        return None
    before = len(found)
    free = _count(form.free_minutes, "free_minutes", found, None, 24 * 60)
    unit = _count(form.billing_unit or "60", "billing_unit", found, None, 24 * 60)
    if unit < 1:
        found.append(_problem("billing_unit_range", "billing_unit"))
    cap = _fen(form.daily_cap, "daily_cap", found) if form.daily_cap else None
    rates = []
    for i, row in enumerate(form.rates):
        start = _time(row.start, f"t{i}_start", found)
        fen = _fen(row.yuan, f"t{i}_yuan", found)
        if start is not None and fen is not None:
            rates.append(RatePeriod(start, fen))
    if not form.rates:
        found.append(_problem("no_rates", "t0_start"))
    starts = [r.start for r in rates]
    if len(set(starts)) != len(starts):
        found.append(_problem("duplicate_rate_start", "t0_start"))
    if len(found) > before:
        return None
    try:
        return Tariff(
            rates=tuple(sorted(rates, key=lambda r: r.start)),
            free_minutes=free,
            billing_unit_minutes=unit,
            daily_cap_fen=cap,
        )
    except InvalidInput as refused:  # a rule of Tariff the checks above did not foresee
        found.append(Problem("invalid_tariff", "free_minutes", refused.message))
        return None


def _fen(text: str, name: str, found: list[Problem]) -> int | None:
    """Yuan as typed (``12``, ``2.5``, ``¥0.50``) → fen; at most two decimals."""
    try:
        amount = Decimal(text.lstrip("¥￥").strip())
    except InvalidOperation:
        amount = Decimal(-1)
    fen = amount * 100
    if not amount.is_finite() or amount < 0 or fen != fen.to_integral_value() or fen > MAX_FEN:
        found.append(_problem("invalid_money", name, value=text or "—"))
        return None
    return int(fen)


def _yuan(fen: int | None) -> str:
    if fen is None:
        return ""
    return f"{fen // 100}" if fen % 100 == 0 else f"{fen // 100}.{fen % 100:02d}"
