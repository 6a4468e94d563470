"""Searching for car parks, as pure values: the query and its checks, the bounding box that
prefilters candidates, the walking estimate, and the named time windows a driver picks.

Distances are straight lines on the sphere (`parkshare.geo.haversine_m`), in WGS-84: a query
point given in GCJ-02 is converted before anything is measured.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from enum import StrEnum

from parkshare.availability.rules import check_interval
from parkshare.calendar import OfficialCalendar
from parkshare.errors import InvalidInput, InvalidInterval, StartsInPast, TooFarAhead
from parkshare.geo import EARTH_RADIUS_M, CoordSystem
from parkshare.lots.model import LotKind
from parkshare.schedules.rules import SHANGHAI, BerthCategory, DayTypes, require_aware

DEFAULT_RADIUS_M = 2_000
MAX_RADIUS_M = 50_000
DEFAULT_LIMIT = 10
MAX_LIMIT = 50
MAX_MIN_FREE = 1_000
# Longer than any sharing window the official calendar makes (the Spring Festival week with
# its bridging weekends is about 8½ days); a longer search could never be booked anyway.
MAX_WINDOW = timedelta(days=10)

# Walking estimate from the straight-line distance. Streets are longer than the straight line:
# in Chinese city centres the walking route is typically 20–40 % longer, so we take 1.3. An
# unhurried adult walks about 4.5 km/h, 75 m a minute. An estimate, never a route.
WALK_DETOUR_FACTOR = 1.3
WALK_SPEED_M_PER_MIN = 75.0

# Named windows (local time, Asia/Shanghai).
NOW_LENGTH = timedelta(hours=2)
TONIGHT_FROM = time(19, 0)
TONIGHT_UNTIL = time(7, 30)  # next morning
WEEKEND_FROM = time(8, 0)  # on the first day of the rest-day block
WEEKEND_UNTIL = time(20, 0)  # on its last day
WEEKEND_LOOKAHEAD_DAYS = 62  # longer than any run of working days in the official calendar
MAX_BLOCK = timedelta(days=31)  # a longer run of days off (overrides) is cut at 31 days


@dataclass(frozen=True)
class SearchQuery:
    """Car parks near (``lon``, ``lat``) with ``min_free`` shared berths of ``category`` free
    over the whole of [``start``, ``end``). ``coords`` is the datum of the query point and of
    the locations in the answer."""

    lon: float
    lat: float
    start: datetime
    end: datetime
    min_free: int = 1
    radius_m: int = DEFAULT_RADIUS_M
    kind: LotKind | None = None
    max_price_fen: int | None = None
    limit: int = DEFAULT_LIMIT
    coords: CoordSystem = CoordSystem.WGS84
    category: BerthCategory = BerthCategory.ORDINARY


def check_query(query: SearchQuery) -> None:
    """Refuse a query that no search can answer (coordinates, limits, the interval's shape)."""
    _check_point(query.lon, query.lat)
    _check_range("radius", query.radius_m, 1, MAX_RADIUS_M, unit=" metres")
    _check_range("min_free", query.min_free, 1, MAX_MIN_FREE)
    _check_range("limit", query.limit, 1, MAX_LIMIT)
    if query.max_price_fen is not None and query.max_price_fen < 0:
        raise InvalidInput("max_price cannot be negative.", field="max_price")
    check_interval(query.start, query.end)
    if query.end - query.start > MAX_WINDOW:
        hours = int(MAX_WINDOW.total_seconds() // 3600)
        raise InvalidInterval(
            f"A search covers at most {hours} hours; no sharing window is longer.",
            start=query.start.isoformat(),
            end=query.end.isoformat(),
            max_hours=hours,
        )


def check_times(
    start: datetime, *, now: datetime, skew: timedelta, booking_horizon: timedelta
) -> None:
    """The booking rules on when an interval may start: not in the past (``skew`` tolerates
    clocks that disagree a little), not beyond the booking horizon."""
    if start < now - skew:
        raise StartsInPast("A search cannot start in the past.", start=start.isoformat())
    if start > now + booking_horizon:
        raise TooFarAhead(
            f"Reservations open {booking_horizon.days} days ahead at most.",
            start=start.isoformat(),
            horizon_days=booking_horizon.days,
        )


def _check_point(lon: float, lat: float) -> None:
    if not (math.isfinite(lat) and -90.0 <= lat <= 90.0):
        raise InvalidInput(f"lat must be between -90 and 90, not {lat}.", field="lat")
    if not (math.isfinite(lon) and -180.0 <= lon <= 180.0):
        raise InvalidInput(f"lon must be between -180 and 180, not {lon}.", field="lon")


def _check_range(name: str, value: int, low: int, high: int, *, unit: str = "") -> None:
    if not low <= value <= high:
        raise InvalidInput(f"{name} must be between {low} and {high}{unit}.", field=name)


@dataclass(frozen=True)
class BoundingBox:
    """A longitude/latitude rectangle (degrees, WGS-84) that holds a circle."""

    min_lon: float
    max_lon: float
    min_lat: float
    max_lat: float

    def contains(self, lon: float, lat: float) -> bool:
        return self.min_lon <= lon <= self.max_lon and self.min_lat <= lat <= self.max_lat


# A little slack so rounding never drops a point on the circle's edge.
_BOX_SLACK_DEG = 1e-7


def bounding_box(lon: float, lat: float, radius_m: float) -> BoundingBox:
    """The smallest lon/lat rectangle holding every point within ``radius_m`` (great-circle)
    of (``lon``, ``lat``).

    The longitude half-width is asin(sin(d) / cos(lat)) for the angular radius d, slightly
    more than d / cos(lat) (J. P. Matuschek, "Finding points within a distance of a
    latitude/longitude using bounding coordinates"). Near a pole, or across the antimeridian,
    the rectangle spans every longitude.
    """
    angle = radius_m / EARTH_RADIUS_M
    min_lat = math.degrees(math.radians(lat) - angle) - _BOX_SLACK_DEG
    max_lat = math.degrees(math.radians(lat) + angle) + _BOX_SLACK_DEG
    if min_lat <= -90.0 or max_lat >= 90.0:
        return BoundingBox(-180.0, 180.0, max(min_lat, -90.0), min(max_lat, 90.0))
    ratio = math.sin(angle) / math.cos(math.radians(lat))
    if ratio >= 1.0:
        return BoundingBox(-180.0, 180.0, min_lat, max_lat)
    half_width = math.degrees(math.asin(ratio)) + _BOX_SLACK_DEG
    min_lon, max_lon = lon - half_width, lon + half_width
    if min_lon < -180.0 or max_lon > 180.0:
        return BoundingBox(-180.0, 180.0, min_lat, max_lat)
    return BoundingBox(min_lon, max_lon, min_lat, max_lat)


def walk_minutes(distance_m: float) -> int:
    """Minutes on foot for a straight-line distance: ``WALK_DETOUR_FACTOR`` times longer on
    the streets, at ``WALK_SPEED_M_PER_MIN``, rounded up."""
    return math.ceil(distance_m * WALK_DETOUR_FACTOR / WALK_SPEED_M_PER_MIN)


class NamedWindow(StrEnum):
    NOW = "now"
    TONIGHT = "tonight"
    WEEKEND = "weekend"


def named_window(
    name: NamedWindow | str, now: datetime, *, calendar: DayTypes | None = None
) -> tuple[datetime, datetime]:
    """The interval a driver means by a named window, in Asia/Shanghai local time.

    - ``now``: from now for two hours.
    - ``tonight``: from 19:00 today (or from now, when that is later) until 07:30 the next
      morning. "Today" is the local calendar day, so in the small hours ``tonight`` is the
      coming evening; ``now`` covers a stay that starts at once.
    - ``weekend``: the next block of consecutive rest days of China's official calendar
      (`parkshare.calendar`): an ordinary Saturday and Sunday, a lone Saturday when Sunday is
      a make-up working day (调休上班), or a whole holiday week. From 08:00 on its first day
      until 20:00 on its last; a block already under way starts now, and one whose 20:00 has
      passed gives way to the next. ``calendar`` carries an administrator's overrides
      (``schedules.service.calendar(session)``); without it the official calendar is used.
    """
    require_aware(now)
    try:
        window = NamedWindow(name)
    except ValueError:
        names = ", ".join(w.value for w in NamedWindow)
        raise InvalidInput(
            f"Unknown window {name!r}; use one of {names}.", field="window"
        ) from None
    local = now.astimezone(SHANGHAI)
    match window:
        case NamedWindow.NOW:
            return local, local + NOW_LENGTH
        case NamedWindow.TONIGHT:
            today = local.date()
            start = max(datetime.combine(today, TONIGHT_FROM, SHANGHAI), local)
            return start, datetime.combine(today + timedelta(days=1), TONIGHT_UNTIL, SHANGHAI)
        case NamedWindow.WEEKEND:
            return _weekend(local, calendar or OfficialCalendar())


def _weekend(local: datetime, calendar: DayTypes) -> tuple[datetime, datetime]:
    day = local.date()
    last_day = day + timedelta(days=WEEKEND_LOOKAHEAD_DAYS)
    while day <= last_day:
        if calendar.day_type(day).is_working:
            day += timedelta(days=1)
            continue
        first = day
        while day < first + MAX_BLOCK and not calendar.day_type(day + timedelta(days=1)).is_working:
            day += timedelta(days=1)
        end = datetime.combine(day, WEEKEND_UNTIL, SHANGHAI)
        if end > local:
            return max(datetime.combine(first, WEEKEND_FROM, SHANGHAI), local), end
        day += timedelta(days=1)
    raise InvalidInput(
        f"The calendar has no rest day within {WEEKEND_LOOKAHEAD_DAYS} days.", field="window"
    )
