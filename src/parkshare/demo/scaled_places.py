"""Where the car parks of a scaled demo stand: Shandong's 16 cities, each a cluster of
districts (区), county-level cities (市) and counties (县) whose density falls off from their
centres. Centres are approximate WGS-84 points; a coastal district names the bearing of its
sea and how far the coast is, and no car park is placed beyond it.

Pure: a seeded ``random.Random`` decides everything.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass

from parkshare.geo import EARTH_RADIUS_M

_KM_PER_DEGREE_LAT = 111.195
_MIN_SEPARATION_M = 120.0
_GRID_DEGREES = 0.002  # cells of about 200 m: neighbours are checked for the separation
_MAX_ATTEMPTS = 400


@dataclass(frozen=True)
class District:
    name_zh: str
    name_en: str
    lon: float  # approximate centre, WGS-84
    lat: float
    weight: float  # share of its city's car parks
    spread_km: float  # one standard deviation of the scatter around the centre
    urban: bool  # the core that hosts city bureaus, malls and state enterprises
    sea: tuple[float, float] | None = None  # (bearing of the sea in degrees, km to the coast)

    @property
    def is_county_city(self) -> bool:
        return self.name_zh.endswith("市")


@dataclass(frozen=True)
class City:
    name_zh: str
    name_en: str
    plate_letter: str  # 发牌机关代号 after 鲁
    phone_code: str
    weight: float  # share of the province's car parks
    tier: int  # 1: Jinan and Qingdao; 2: large prefecture cities; 3: the others (prices)
    districts: tuple[District, ...]

    @property
    def short_zh(self) -> str:
        return self.name_zh.removesuffix("市")

    def area_zh(self, district: District) -> str:
        """The district's full name: a county-level city stands alone (青州市)."""
        return district.name_zh if district.is_county_city else self.name_zh + district.name_zh

    def area_en(self, district: District) -> str:
        return f"{district.name_en}, {self.name_en}"


def _d(
    zh: str,
    en: str,
    lon: float,
    lat: float,
    weight: float,
    spread: float,
    urban: bool = False,
    sea: tuple[float, float] | None = None,
) -> District:
    return District(zh, en, lon, lat, weight, spread, urban, sea)


# fmt: off
CITIES: tuple[City, ...] = (
    City("济南市", "Jinan", "A", "0531", 15, 1, (
        _d("历下区", "Lixia District", 117.076, 36.666, 3.0, 2.2, True),
        _d("市中区", "Shizhong District", 116.997, 36.651, 2.5, 2.2, True),
        _d("槐荫区", "Huaiyin District", 116.901, 36.651, 2.0, 2.2, True),
        _d("天桥区", "Tianqiao District", 116.987, 36.693, 2.0, 2.0, True),
        _d("历城区", "Licheng District", 117.065, 36.680, 2.0, 3.0, True),
        _d("长清区", "Changqing District", 116.752, 36.554, 1.0, 1.8),
        _d("章丘区", "Zhangqiu District", 117.526, 36.681, 1.2, 2.0),
        _d("莱芜区", "Laiwu District", 117.676, 36.214, 1.2, 2.0),
        _d("济阳区", "Jiyang District", 117.173, 36.979, 0.6, 1.5),
    )),
    City("青岛市", "Qingdao", "B", "0532", 16, 1, (
        _d("市南区", "Shinan District", 120.412, 36.075, 2.5, 1.6, True, (180, 1.0)),
        _d("市北区", "Shibei District", 120.375, 36.095, 2.5, 1.8, True, (270, 3.5)),
        _d("李沧区", "Licang District", 120.432, 36.145, 1.8, 2.0, True, (270, 4.0)),
        _d("崂山区", "Laoshan District", 120.468, 36.107, 1.8, 2.0, True, (180, 1.5)),
        _d("城阳区", "Chengyang District", 120.396, 36.307, 1.6, 2.2, True),
        _d("黄岛区", "Huangdao District", 120.198, 35.960, 2.5, 2.5, True, (160, 1.5)),
        _d("即墨区", "Jimo District", 120.447, 36.389, 1.2, 1.8),
        _d("胶州市", "Jiaozhou", 120.033, 36.264, 1.0, 1.8),
        _d("平度市", "Pingdu", 119.960, 36.787, 0.7, 1.6),
        _d("莱西市", "Laixi", 120.517, 36.889, 0.6, 1.6),
    )),
    City("淄博市", "Zibo", "C", "0533", 6, 2, (
        _d("张店区", "Zhangdian District", 118.018, 36.807, 3.0, 2.5, True),
        _d("淄川区", "Zichuan District", 117.967, 36.643, 1.0, 1.6),
        _d("临淄区", "Linzi District", 118.309, 36.826, 1.0, 1.6),
        _d("博山区", "Boshan District", 117.862, 36.494, 0.7, 1.4),
        _d("周村区", "Zhoucun District", 117.870, 36.803, 0.8, 1.4),
    )),
    City("枣庄市", "Zaozhuang", "D", "0632", 3, 3, (
        _d("薛城区", "Xuecheng District", 117.263, 34.795, 1.0, 1.8, True),
        _d("市中区", "Shizhong District", 117.556, 34.864, 1.2, 1.8, True),
        _d("滕州市", "Tengzhou", 117.165, 35.114, 1.2, 1.8),
    )),
    City("东营市", "Dongying", "E", "0546", 3, 2, (
        _d("东营区", "Dongying District", 118.582, 37.448, 2.5, 2.8, True),
        _d("河口区", "Hekou District", 118.525, 37.886, 0.5, 1.3),
        _d("广饶县", "Guangrao County", 118.407, 37.054, 0.6, 1.4),
    )),
    City("烟台市", "Yantai", "F", "0535", 8, 2, (
        _d("芝罘区", "Zhifu District", 121.400, 37.530, 2.5, 1.8, True, (0, 1.5)),
        _d("莱山区", "Laishan District", 121.445, 37.505, 1.8, 1.8, True, (0, 2.0)),
        _d("福山区", "Fushan District", 121.268, 37.498, 1.0, 1.5),
        _d("牟平区", "Muping District", 121.600, 37.387, 0.8, 1.4),
        _d("龙口市", "Longkou", 120.478, 37.646, 0.8, 1.5),
        _d("蓬莱区", "Penglai District", 120.759, 37.811, 0.6, 1.3, False, (0, 1.0)),
        _d("莱阳市", "Laiyang", 120.711, 36.979, 0.6, 1.3),
    )),
    City("潍坊市", "Weifang", "G", "0536", 8, 2, (
        _d("奎文区", "Kuiwen District", 119.132, 36.707, 2.5, 2.2, True),
        _d("潍城区", "Weicheng District", 119.025, 36.728, 1.5, 1.8, True),
        _d("寒亭区", "Hanting District", 119.219, 36.775, 0.8, 1.5),
        _d("坊子区", "Fangzi District", 119.166, 36.654, 0.8, 1.5),
        _d("青州市", "Qingzhou", 118.480, 36.685, 0.8, 1.5),
        _d("诸城市", "Zhucheng", 119.410, 35.996, 0.8, 1.5),
        _d("寿光市", "Shouguang", 118.791, 36.856, 0.8, 1.5),
        _d("高密市", "Gaomi", 119.756, 36.383, 0.6, 1.4),
    )),
    City("济宁市", "Jining", "H", "0537", 6, 2, (
        _d("任城区", "Rencheng District", 116.595, 35.414, 2.5, 2.4, True),
        _d("兖州区", "Yanzhou District", 116.783, 35.552, 1.0, 1.6),
        _d("曲阜市", "Qufu", 116.986, 35.581, 0.9, 1.4),
        _d("邹城市", "Zoucheng", 116.973, 35.405, 1.0, 1.6),
    )),
    City("泰安市", "Tai'an", "J", "0538", 4, 3, (
        _d("泰山区", "Taishan District", 117.135, 36.193, 2.0, 2.0, True),
        _d("岱岳区", "Daiyue District", 117.042, 36.188, 1.0, 1.8),
        _d("新泰市", "Xintai", 117.767, 35.909, 0.8, 1.5),
        _d("肥城市", "Feicheng", 116.768, 36.182, 0.7, 1.4),
    )),
    City("威海市", "Weihai", "K", "0631", 4, 2, (
        _d("环翠区", "Huancui District", 122.110, 37.500, 2.2, 1.8, True, (70, 2.0)),
        _d("文登区", "Wendeng District", 122.058, 37.194, 0.8, 1.4),
        _d("荣成市", "Rongcheng", 122.486, 37.165, 0.8, 1.4, False, (90, 2.5)),
    )),
    City("日照市", "Rizhao", "L", "0633", 3, 3, (
        _d("东港区", "Donggang District", 119.462, 35.420, 2.0, 2.2, True, (90, 4.0)),
        _d("岚山区", "Lanshan District", 119.318, 35.122, 0.6, 1.3, False, (120, 2.5)),
        _d("莒县", "Ju County", 118.837, 35.580, 0.6, 1.3),
    )),
    City("滨州市", "Binzhou", "M", "0543", 3, 3, (
        _d("滨城区", "Bincheng District", 118.020, 37.384, 2.0, 2.2, True),
        _d("邹平市", "Zouping", 117.743, 36.863, 0.8, 1.4),
        _d("博兴县", "Boxing County", 118.110, 37.150, 0.5, 1.2),
    )),
    City("德州市", "Dezhou", "N", "0534", 4, 3, (
        _d("德城区", "Decheng District", 116.300, 37.451, 2.0, 2.2, True),
        _d("陵城区", "Lingcheng District", 116.576, 37.336, 0.6, 1.3),
        _d("禹城市", "Yucheng", 116.638, 36.934, 0.6, 1.3),
        _d("乐陵市", "Leling", 117.231, 37.730, 0.5, 1.2),
    )),
    City("聊城市", "Liaocheng", "P", "0635", 4, 3, (
        _d("东昌府区", "Dongchangfu District", 115.985, 36.434, 2.0, 2.2, True),
        _d("临清市", "Linqing", 115.704, 36.839, 0.6, 1.3),
        _d("茌平区", "Chiping District", 116.255, 36.580, 0.5, 1.2),
    )),
    City("临沂市", "Linyi", "Q", "0539", 8, 2, (
        _d("兰山区", "Lanshan District", 118.347, 35.051, 3.0, 2.5, True),
        _d("罗庄区", "Luozhuang District", 118.284, 34.997, 1.0, 1.6),
        _d("河东区", "Hedong District", 118.402, 35.089, 1.2, 1.8, True),
        _d("沂水县", "Yishui County", 118.628, 35.790, 0.6, 1.3),
        _d("郯城县", "Tancheng County", 118.367, 34.613, 0.5, 1.2),
        _d("兰陵县", "Lanling County", 118.071, 34.858, 0.5, 1.2),
    )),
    City("菏泽市", "Heze", "R", "0530", 5, 3, (
        _d("牡丹区", "Mudan District", 115.417, 35.252, 2.5, 2.2, True),
        _d("曹县", "Cao County", 115.542, 34.826, 0.7, 1.3),
        _d("单县", "Shan County", 116.087, 34.778, 0.6, 1.3),
        _d("郓城县", "Yuncheng County", 115.944, 35.600, 0.6, 1.3),
    )),
)
# fmt: on

# Shandong's extent (WGS-84), with a margin: every car park falls inside it.
BOUNDS = (114.8, 34.3, 122.8, 38.4)  # min lon, min lat, max lon, max lat


@dataclass(frozen=True)
class Slot:
    """One car park to be generated: its city and district, in generation order."""

    city: City
    district: District


def apportion(total: int, weights: Sequence[float]) -> list[int]:
    """Split ``total`` in proportion to ``weights`` (largest remainders; stable and exact)."""
    whole = sum(weights)
    shares = [total * w / whole for w in weights]
    counts = [math.floor(s) for s in shares]
    by_remainder = sorted(range(len(shares)), key=lambda i: (counts[i] - shares[i], i))
    for i in by_remainder[: total - sum(counts)]:
        counts[i] += 1
    return counts


def slots(total: int) -> list[Slot]:
    """``total`` car parks over the cities and their districts, city by city."""
    result: list[Slot] = []
    for city, count in zip(CITIES, apportion(total, [c.weight for c in CITIES]), strict=True):
        weights = [d.weight for d in city.districts]
        for district, n in zip(city.districts, apportion(count, weights), strict=True):
            result.extend(Slot(city, district) for _ in range(n))
    return result


class Placer:
    """Draws car park positions around district centres, at least 120 m apart."""

    def __init__(self, rng: random.Random, *, total: int) -> None:
        self._rng = rng
        # A very large network spreads wider: the same density as 20,000 car parks.
        self._stretch = max(1.0, math.sqrt(total / 20_000))
        self._grid: dict[tuple[int, int], list[tuple[float, float]]] = {}

    def place(self, district: District) -> tuple[float, float]:
        spread = district.spread_km * self._stretch
        km_per_degree_lon = _KM_PER_DEGREE_LAT * math.cos(math.radians(district.lat))
        for attempt in range(_MAX_ATTEMPTS):
            east_km = self._rng.gauss(0.0, spread)
            north_km = self._rng.gauss(0.0, spread)
            if math.hypot(east_km, north_km) > 3 * spread or _at_sea(district, east_km, north_km):
                continue
            lon = round(district.lon + east_km / km_per_degree_lon, 6)
            lat = round(district.lat + north_km / _KM_PER_DEGREE_LAT, 6)
            # After many misses a crowded centre accepts closer neighbours.
            if self._free(lon, lat, _MIN_SEPARATION_M / (1 + attempt // 100)):
                self._remember(lon, lat)
                return lon, lat
        raise RuntimeError(f"could not place a car park in {district.name_en}")

    def _cell(self, lon: float, lat: float) -> tuple[int, int]:
        return math.floor(lon / _GRID_DEGREES), math.floor(lat / _GRID_DEGREES)

    def _free(self, lon: float, lat: float, separation_m: float) -> bool:
        x, y = self._cell(lon, lat)
        for dx in (-1, 0, 1):
            for dy in (-1, 0, 1):
                for other_lon, other_lat in self._grid.get((x + dx, y + dy), ()):
                    if _distance_m(lon, lat, other_lon, other_lat) < separation_m:
                        return False
        return True

    def _remember(self, lon: float, lat: float) -> None:
        self._grid.setdefault(self._cell(lon, lat), []).append((lon, lat))


def _at_sea(district: District, east_km: float, north_km: float) -> bool:
    if district.sea is None:
        return False
    bearing, coast_km = district.sea
    towards_sea = east_km * math.sin(math.radians(bearing)) + north_km * math.cos(
        math.radians(bearing)
    )
    return towards_sea > coast_km


def _distance_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Equirectangular distance: exact enough over a few hundred metres, and fast."""
    x = math.radians(lon2 - lon1) * math.cos(math.radians((lat1 + lat2) / 2))
    y = math.radians(lat2 - lat1)
    return EARTH_RADIUS_M * math.hypot(x, y)
