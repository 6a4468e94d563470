"""Coordinate helpers: WGS-84, GCJ-02 and distances on the sphere.

We store every coordinate in WGS-84 (what GPS receivers, OpenStreetMap and GeoJSON use) and
convert only at the edges. Chinese map tiles and geocoders (Amap/高德, Tencent) work in
GCJ-02, the officially obfuscated "Mars" datum, which is offset from WGS-84 by a few hundred
metres; mixing the two silently puts a car park on the wrong street.

The GCJ-02 offset formula is public and about thirty lines, so we implement it here. The PyPI
packages that offer it are unmaintained and only provide the one-step approximate inverse
(metre-level error); `gcj02_to_wgs84` below inverts the forward formula exactly by iteration.
"""

from __future__ import annotations

import math
from enum import StrEnum

__all__ = [
    "EARTH_RADIUS_M",
    "CoordSystem",
    "from_wgs84",
    "gcj02_to_wgs84",
    "haversine_m",
    "out_of_china",
    "to_wgs84",
    "wgs84_to_gcj02",
]

# Krasovsky 1940 ellipsoid, as used by the GCJ-02 formula.
_KRASOVSKY_A = 6378245.0
_KRASOVSKY_EE = 0.00669342162296594323

EARTH_RADIUS_M = 6_371_008.8  # mean Earth radius (IUGG)

_INVERSE_TOLERANCE_DEG = 1e-9
_INVERSE_MAX_ITERATIONS = 30


class CoordSystem(StrEnum):
    """A geodetic datum a coordinate pair may be expressed in."""

    WGS84 = "wgs84"
    GCJ02 = "gcj02"


def out_of_china(lon: float, lat: float) -> bool:
    """True when the point lies outside the rectangle where GCJ-02 applies its shift."""
    return not (72.004 <= lon <= 137.8347 and 0.8293 <= lat <= 55.8271)


def _shift_lat(x: float, y: float) -> float:
    shift = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
    shift += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    shift += (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2.0 / 3.0
    shift += (
        (160.0 * math.sin(y / 12.0 * math.pi) + 320.0 * math.sin(y * math.pi / 30.0)) * 2.0 / 3.0
    )
    return shift


def _shift_lon(x: float, y: float) -> float:
    shift = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
    shift += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    shift += (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2.0 / 3.0
    shift += (
        (150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi)) * 2.0 / 3.0
    )
    return shift


def _gcj02_offset(lon: float, lat: float) -> tuple[float, float]:
    """The (d_lon, d_lat) in degrees that GCJ-02 adds to a WGS-84 point inside China."""
    x, y = lon - 105.0, lat - 35.0
    d_lat = _shift_lat(x, y)
    d_lon = _shift_lon(x, y)
    rad_lat = math.radians(lat)
    magic = 1.0 - _KRASOVSKY_EE * math.sin(rad_lat) ** 2
    sqrt_magic = math.sqrt(magic)
    d_lat = (d_lat * 180.0) / (
        (_KRASOVSKY_A * (1.0 - _KRASOVSKY_EE)) / (magic * sqrt_magic) * math.pi
    )
    d_lon = (d_lon * 180.0) / (_KRASOVSKY_A / sqrt_magic * math.cos(rad_lat) * math.pi)
    return d_lon, d_lat


def wgs84_to_gcj02(lon: float, lat: float) -> tuple[float, float]:
    """Shift a WGS-84 point into GCJ-02; points outside China are returned unchanged."""
    if out_of_china(lon, lat):
        return lon, lat
    d_lon, d_lat = _gcj02_offset(lon, lat)
    return lon + d_lon, lat + d_lat


def gcj02_to_wgs84(lon: float, lat: float) -> tuple[float, float]:
    """Exact inverse of `wgs84_to_gcj02`, found by fixed-point iteration.

    Starting from the GCJ-02 point itself, each step moves the WGS-84 guess by the residual
    between its forward image and the target. The offset varies slowly (its derivative is
    about 1e-3), so the error shrinks roughly a thousandfold per step and a handful of steps
    reach the 1e-9 degree tolerance. Points outside China are returned unchanged.

    The iteration uses the offset formula without the rectangle test, so a guess that strays
    just past the rectangle's edge does not make it oscillate. Within about 0.01 degrees of
    the rectangle's east and north edges the forward shift can carry a point out of the
    rectangle; such GCJ-02 points are ambiguous and are treated as outside China.
    """
    if out_of_china(lon, lat):
        return lon, lat
    wgs_lon, wgs_lat = lon, lat
    for _ in range(_INVERSE_MAX_ITERATIONS):
        d_lon, d_lat = _gcj02_offset(wgs_lon, wgs_lat)
        err_lon, err_lat = wgs_lon + d_lon - lon, wgs_lat + d_lat - lat
        if abs(err_lon) < _INVERSE_TOLERANCE_DEG and abs(err_lat) < _INVERSE_TOLERANCE_DEG:
            break
        wgs_lon -= err_lon
        wgs_lat -= err_lat
    return wgs_lon, wgs_lat


def to_wgs84(lon: float, lat: float, system: CoordSystem) -> tuple[float, float]:
    """Convert a point expressed in `system` to WGS-84."""
    match system:
        case CoordSystem.WGS84:
            return lon, lat
        case CoordSystem.GCJ02:
            return gcj02_to_wgs84(lon, lat)


def from_wgs84(lon: float, lat: float, system: CoordSystem) -> tuple[float, float]:
    """Convert a WGS-84 point to `system`."""
    match system:
        case CoordSystem.WGS84:
            return lon, lat
        case CoordSystem.GCJ02:
            return wgs84_to_gcj02(lon, lat)


def haversine_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Great-circle distance in metres between two points on a spherical Earth."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    d_phi = phi2 - phi1
    d_lambda = math.radians(lon2 - lon1)
    h = math.sin(d_phi / 2.0) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(d_lambda / 2.0) ** 2
    return 2.0 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))
