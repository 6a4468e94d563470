"""Reading the place a driver names on a form: a landmark, or coordinates typed or picked on
the map (in WGS-84 or GCJ-02, the datum Chinese maps show)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from parkshare.errors import InvalidInput
from parkshare.geo import CoordSystem, to_wgs84
from parkshare.web.landmarks import Landmark, landmark


@dataclass(frozen=True)
class Place:
    lon: float  # in ``coords``
    lat: float
    coords: CoordSystem
    landmark: Landmark | None

    @property
    def wgs84(self) -> tuple[float, float]:
        return to_wgs84(self.lon, self.lat, self.coords)


def place_of(key: str, lat: str, lon: str, coords: str) -> Place:
    """The landmark ``key`` when one is chosen, else the coordinates."""
    if key:
        found = landmark(key)
        if found is None:
            raise InvalidInput(f"There is no landmark {key!r}.", field="place")
        return Place(found.lon, found.lat, CoordSystem.WGS84, found)
    try:
        system = CoordSystem(coords or CoordSystem.WGS84.value)
    except ValueError:
        raise InvalidInput("Coordinates are WGS-84 or GCJ-02.", field="coords") from None
    return Place(_number(lon, "lon"), _number(lat, "lat"), system, None)


def _number(text: str, field: str) -> float:
    try:
        value = float(text.strip())
    except ValueError:
        raise InvalidInput(f"{field} {text!r} is not a number.", field=field) from None
    if not math.isfinite(value):
        raise InvalidInput(f"{field} {text!r} is not a number.", field=field)
    return value
