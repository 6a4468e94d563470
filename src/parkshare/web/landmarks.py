"""Places of Qingdao West Coast New Area (黄岛区) a driver can search around without knowing
coordinates: real landmarks, near the car parks of the demo network.

Coordinates are WGS-84, rounded to about 50 m: where the place is, not a navigation target.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Landmark:
    key: str  # in URLs: /find?place=golden-beach
    name_zh: str
    name_en: str
    lon: float  # WGS-84
    lat: float

    def name(self, lang: str) -> str:
        return self.name_zh if lang == "zh" else self.name_en


LANDMARKS: tuple[Landmark, ...] = (
    Landmark("tangdao-bay-park", "唐岛湾公园", "Tangdao Bay Park", 120.1925, 35.9440),
    Landmark("golden-beach", "金沙滩", "Golden Beach (Jinshatan)", 120.2530, 35.9640),
    Landmark(
        "district-government",
        "西海岸新区管委（黄岛区政府）",
        "West Coast New Area Administrative Committee (district government)",
        120.1845,
        35.9605,
    ),
    Landmark(
        "upc",
        "中国石油大学（华东）",
        "China University of Petroleum (East China)",
        120.1745,
        35.9375,
    ),
    Landmark("movie-metropolis", "东方影都", "Oriental Movie Metropolis", 120.1900, 35.9180),
    Landmark("bus-station", "黄岛汽车站", "Huangdao Bus Station", 120.1780, 35.9660),
    Landmark(
        "sdust",
        "山东科技大学",
        "Shandong University of Science and Technology",
        120.1235,
        35.9990,
    ),
    Landmark("lingshan-bay", "灵山湾", "Lingshan Bay", 120.1000, 35.8950),
    Landmark("jimiya", "积米崖渔港", "Jimiya Fishing Port", 120.1520, 35.9120),
    Landmark("west-station", "青岛西站", "Qingdao West Railway Station", 119.9512, 35.9015),
)

_BY_KEY = {landmark.key: landmark for landmark in LANDMARKS}


def landmark(key: str) -> Landmark | None:
    return _BY_KEY.get(key)
