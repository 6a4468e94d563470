"""The searches of the search benchmark: what drivers ask, drawn with a fixed seed.

Each search is made near a car park (a random online one, the point moved up to ``NEAR_M`` in a
random direction), for one of the windows a driver picks in the app — ``tonight`` (19:00 to
07:30) on one of the next 7 evenings, ``now`` (two hours) from a quarter hour of the next 7 days,
or the ``weekend`` (this one or the next) — with ``min_free`` 1-3, a radius of 1-5 km (in
100 m) and ``limit`` 10. All on quarter hours in +08:00, the searches the index answers; every
window starts at or after the benchmark's now, within the booking horizon.
"""

from __future__ import annotations

import math
import random
from datetime import datetime, timedelta
from urllib.parse import urlencode

from sqlalchemy import text

from parkshare.db import Database
from parkshare.search.rules import NamedWindow, SearchQuery, named_window

NEAR_M = 1_000.0
DAYS = 7
SHARES = ((0.4, NamedWindow.TONIGHT), (0.8, NamedWindow.NOW), (1.0, NamedWindow.WEEKEND))
METRES_PER_DEGREE = 111_195.0


def online_places(database: Database) -> list[tuple[float, float]]:
    with database.engine.connect() as connection:
        rows = connection.execute(
            text("SELECT lon, lat FROM lots WHERE status = 'online' ORDER BY id")
        )
        return [(float(lon), float(lat)) for lon, lat in rows]


def windows(now: datetime, rng: random.Random) -> tuple[str, datetime, datetime]:
    draw = rng.random()
    name = next(window for share, window in SHARES if draw < share)
    match name:
        case NamedWindow.TONIGHT:
            start, end = named_window(name, now + timedelta(days=rng.randrange(DAYS)))
        case NamedWindow.NOW:
            at = now + timedelta(minutes=15 * rng.randrange(DAYS * 96))
            start, end = named_window(name, at)
        case _:
            start, end = named_window(name, now + timedelta(days=7 * rng.randrange(2)))
    return str(name), start, end


def draw_queries(
    places: list[tuple[float, float]], now: datetime, count: int, *, seed: int
) -> list[tuple[str, SearchQuery]]:
    """``count`` searches, each with the name of its window."""
    rng = random.Random(seed)
    drawn = []
    for _ in range(count):
        lon, lat = rng.choice(places)
        distance, bearing = NEAR_M * math.sqrt(rng.random()), rng.uniform(0, 2 * math.pi)
        lat += distance * math.cos(bearing) / METRES_PER_DEGREE
        lon += distance * math.sin(bearing) / (METRES_PER_DEGREE * math.cos(math.radians(lat)))
        name, start, end = windows(now, rng)
        query = SearchQuery(
            lon=round(lon, 6),
            lat=round(lat, 6),
            start=start,
            end=end,
            min_free=rng.randint(1, 3),
            radius_m=100 * rng.randint(10, 50),
            limit=10,
        )
        drawn.append((name, query))
    return drawn


def path_of(query: SearchQuery) -> str:
    """The same search as ``GET /api/v1/search``."""
    params = {
        "lat": repr(query.lat),
        "lon": repr(query.lon),
        "from": query.start.isoformat(),
        "to": query.end.isoformat(),
        "min_free": query.min_free,
        "radius": query.radius_m,
        "limit": query.limit,
    }
    return "/api/v1/search?" + urlencode(params)
