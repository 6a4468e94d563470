"""Time: an injected clock (stored in UTC, shown in Asia/Shanghai) and strict parsing."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Protocol

from parkshare.errors import InvalidTimestamp

# The calendar and the tariffs only make sense for dates near the present; years far outside
# this range are refused as input mistakes rather than carried into date arithmetic.
EARLIEST_YEAR = 2000
LATEST_YEAR = 2100


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class FixedClock:
    """A clock for tests and simulations: it stands still until moved."""

    def __init__(self, at: datetime) -> None:
        self._at = at

    def now(self) -> datetime:
        return self._at

    def set(self, at: datetime) -> None:
        self._at = at


def parse_instant(
    text: str, *, assume_tz: tzinfo | None = None, name: str = "timestamp"
) -> datetime:
    """Parse an ISO-8601 instant.

    An instant without an offset is refused unless ``assume_tz`` says how to read it (the CLI
    reads local Asia/Shanghai time; the API insists on an offset).
    """
    try:
        parsed = datetime.fromisoformat(text.strip())
    except ValueError:
        raise InvalidTimestamp(
            f"{name} {text!r} is not an ISO-8601 date-time such as 2022-06-24T19:00+08:00.",
            field=name,
        ) from None
    if parsed.tzinfo is None:
        if assume_tz is None:
            raise InvalidTimestamp(
                f"{name} {text!r} has no time zone; add an offset such as +08:00.", field=name
            )
        parsed = parsed.replace(tzinfo=assume_tz)
    if not EARLIEST_YEAR <= parsed.year <= LATEST_YEAR:
        raise InvalidTimestamp(
            f"{name} {text!r} is outside the years {EARLIEST_YEAR}–{LATEST_YEAR}.", field=name
        )
    return parsed


def month_bounds(month: date, tz: tzinfo) -> tuple[datetime, datetime]:
    """The first instant of ``month`` and of the month after, in local time ``tz``."""
    first = datetime.combine(month.replace(day=1), time(0), tz)
    following = (first + timedelta(days=32)).replace(day=1)
    return first, following
