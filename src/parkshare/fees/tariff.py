"""Tariffs as pure values, and what a stay costs under one. Money is integer fen (分).

A tariff has free minutes, hourly rates by time of day, a billing unit (charged per started
unit) and a cap per 24 hours from entry. A stay no longer than the free minutes is free;
longer stays are charged from the first minute.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from parkshare.errors import InvalidInput
from parkshare.schedules.rules import SHANGHAI, require_aware


@dataclass(frozen=True)
class RatePeriod:
    """From ``start`` until the next period's start, ``fen_per_hour``."""

    start: time
    fen_per_hour: int


@dataclass(frozen=True)
class Tariff:
    rates: tuple[RatePeriod, ...]
    free_minutes: int = 0
    billing_unit_minutes: int = 60
    daily_cap_fen: int | None = None
    tz: ZoneInfo = SHANGHAI

    def __post_init__(self) -> None:
        if not self.rates:
            raise InvalidInput("A tariff needs at least one rate period.")
        starts = [p.start for p in self.rates]
        if starts != sorted(set(starts)):
            raise InvalidInput("Rate periods must start at distinct, increasing times.")
        if any(p.fen_per_hour < 0 for p in self.rates) or self.free_minutes < 0:
            raise InvalidInput("Rates and free minutes cannot be negative.")
        if not 1 <= self.billing_unit_minutes <= 24 * 60:
            raise InvalidInput("The billing unit must be between 1 minute and 24 hours.")
        if self.daily_cap_fen is not None and self.daily_cap_fen < 0:
            raise InvalidInput("The daily cap cannot be negative.")

    def rate_at(self, instant: datetime) -> int:
        clock = instant.astimezone(self.tz).time()
        current = self.rates[-1]  # before the first start, the last period runs on from yesterday
        for period in self.rates:
            if period.start <= clock:
                current = period
        return current.fen_per_hour

    def fee(self, entry: datetime, exit: datetime) -> int:
        """What a stay from ``entry`` to ``exit`` costs, in fen."""
        require_aware(entry, exit)
        if exit < entry:
            raise InvalidInput("A stay cannot end before it starts.")
        stay = exit - entry
        if stay <= timedelta(minutes=self.free_minutes):
            return 0
        unit = timedelta(minutes=self.billing_unit_minutes)
        day = timedelta(days=1)
        total = 0
        day_start = entry
        while day_start < exit:
            day_end = min(day_start + day, exit)
            units = math.ceil((day_end - day_start) / unit)
            day_fee = sum(
                math.ceil(self.rate_at(day_start + unit * i) * self.billing_unit_minutes / 60)
                for i in range(units)
            )
            total += min(day_fee, self.daily_cap_fen) if self.daily_cap_fen is not None else day_fee
            day_start = day_end
        return total

    def fee_outside(
        self, entry: datetime, exit: datetime, free: Sequence[tuple[datetime, datetime]]
    ) -> int:
        """What a stay costs when the spans in ``free`` cost nothing (a pass holder inside
        the windows of the pass): each stretch of the stay outside them is charged alone."""
        require_aware(entry, exit)
        stretches = [(entry, exit)]
        for free_start, free_end in sorted(free):
            kept = []
            for start, end in stretches:
                if free_end <= start or end <= free_start:
                    kept.append((start, end))
                    continue
                if start < free_start:
                    kept.append((start, free_start))
                if free_end < end:
                    kept.append((free_end, end))
            stretches = kept
        return sum(self.fee(start, end) for start, end in stretches)


def overstay_surcharge(due: datetime, exit: datetime, *, fen_per_hour: int) -> int:
    """The surcharge for leaving after ``due`` (must-leave-by plus grace): per started hour."""
    if exit <= due:
        return 0
    return math.ceil((exit - due) / timedelta(hours=1)) * fen_per_hour
