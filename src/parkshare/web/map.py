"""The map, drawn by the app itself: no tile server needed.

Coordinates are shown the way Chinese maps show them, in GCJ-02, projected with Web Mercator
(metres), so that an optional production tile layer (``PARKSHARE_MAP_TILE_URL``, a
``{z}/{x}/{y}`` template of GCJ-02 tiles such as Amap's) lines up under the drawing. The page's
script turns a click back into GCJ-02 longitude and latitude (``static/map.js``).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import cache
from importlib import resources

from shapely.geometry import shape

from parkshare.geo import wgs84_to_gcj02

EARTH_RADIUS = 6_378_137.0
HALF_WORLD = math.pi * EARTH_RADIUS  # Web Mercator x of longitude 180°
OUTLINE_TOLERANCE_M = 60.0  # simplification of the district outline (metres)


@dataclass(frozen=True)
class Marker:
    code: str
    label: str
    lon: float  # WGS-84 (converted for drawing)
    lat: float
    state: str = ""  # a CSS class: live, stale, offline, free, full, …
    detail: str = ""
    href: str = ""


@dataclass(frozen=True)
class PlacedMarker:
    marker: Marker
    x: float
    y: float
    lon: float  # GCJ-02, as shown
    lat: float


@dataclass(frozen=True)
class Tile:
    href: str
    x: float
    y: float
    size: float


@dataclass(frozen=True)
class MapView:
    view_box: tuple[float, float, float, float]
    outline: str  # SVG path data
    markers: tuple[PlacedMarker, ...]
    tiles: tuple[Tile, ...]
    pin: tuple[float, float] | None  # a chosen place (x, y)

    @property
    def view_box_text(self) -> str:
        return " ".join(f"{v:.0f}" for v in self.view_box)

    @property
    def marker_radius(self) -> float:
        return max(self.view_box[2], self.view_box[3]) / 100


def project(lon: float, lat: float) -> tuple[float, float]:
    """GCJ-02 degrees → SVG coordinates (Web Mercator metres, y pointing down)."""
    x = math.radians(lon) * EARTH_RADIUS
    y = math.log(math.tan(math.pi / 4 + math.radians(lat) / 2)) * EARTH_RADIUS
    return x, -y


@cache
def outline_path() -> tuple[str, tuple[float, float, float, float]]:
    """The Huangdao district outline as SVG path data, and its bounds."""
    text = (resources.files("parkshare.demo") / "data" / "huangdao-boundary.geojson").read_text()
    geometry = shape(json.loads(text)["features"][0]["geometry"])
    parts: list[str] = []
    xs: list[float] = []
    ys: list[float] = []
    for polygon in getattr(geometry, "geoms", [geometry]):
        points = [project(*wgs84_to_gcj02(lon, lat)) for lon, lat in polygon.exterior.coords]
        simple = _simplify(points)
        xs += [p[0] for p in simple]
        ys += [p[1] for p in simple]
        parts.append("M" + " L".join(f"{x:.0f} {y:.0f}" for x, y in simple) + " Z")
    return " ".join(parts), (min(xs), min(ys), max(xs), max(ys))


def _simplify(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    from shapely.geometry import LineString

    line = LineString(points).simplify(OUTLINE_TOLERANCE_M)
    return [(float(x), float(y)) for x, y in line.coords]


def build_map(
    markers: list[Marker],
    *,
    tile_url: str | None = None,
    pin: tuple[float, float] | None = None,
    fit_markers: bool = False,
) -> MapView:
    """A view of the district (or, with ``fit_markers``, of the markers) with its markers and a
    pin at a chosen place (WGS-84 lon, lat)."""
    path, bounds = outline_path()
    placed = tuple(_place(m) for m in markers)
    if fit_markers and placed:
        xs = [p.x for p in placed] + ([project(*wgs84_to_gcj02(*pin))[0]] if pin else [])
        ys = [p.y for p in placed] + ([project(*wgs84_to_gcj02(*pin))[1]] if pin else [])
        bounds = (min(xs), min(ys), max(xs), max(ys))
    margin = max(bounds[2] - bounds[0], bounds[3] - bounds[1], 1_500.0) * 0.06
    view = (
        bounds[0] - margin,
        bounds[1] - margin,
        bounds[2] - bounds[0] + 2 * margin,
        bounds[3] - bounds[1] + 2 * margin,
    )
    tiles = _tiles(tile_url, view) if tile_url else ()
    pin_xy = project(*wgs84_to_gcj02(*pin)) if pin else None
    return MapView(view_box=view, outline=path, markers=placed, tiles=tiles, pin=pin_xy)


def _place(marker: Marker) -> PlacedMarker:
    lon, lat = wgs84_to_gcj02(marker.lon, marker.lat)
    x, y = project(lon, lat)
    return PlacedMarker(marker=marker, x=x, y=y, lon=lon, lat=lat)


def _tiles(url: str, view: tuple[float, float, float, float]) -> tuple[Tile, ...]:
    """Slippy-map tiles covering the view, at the zoom that needs about 4 across."""
    span = max(view[2], view[3])
    zoom = max(0, min(18, round(math.log2(2 * HALF_WORLD * 4 / span))))
    size = 2 * HALF_WORLD / 2**zoom
    first_x = math.floor((view[0] + HALF_WORLD) / size)
    first_y = math.floor((view[1] + HALF_WORLD) / size)
    last_x = math.floor((view[0] + view[2] + HALF_WORLD) / size)
    last_y = math.floor((view[1] + view[3] + HALF_WORLD) / size)
    return tuple(
        Tile(
            href=url.format(z=zoom, x=tx, y=ty),
            x=tx * size - HALF_WORLD,
            y=ty * size - HALF_WORLD,
            size=size,
        )
        for tx in range(first_x, last_x + 1)
        for ty in range(first_y, last_y + 1)
    )
