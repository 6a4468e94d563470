"""The West Coast demo network: car parks in 黄岛区 (Qingdao West Coast New Area).

A pure, deterministic generator: a fixed seed always yields the same 32 institutional and
85 commercial car parks, whose shared berths add up to the network's totals (2,940 and
14,623). Unit, company and car-park names and phone numbers are fictional; the sub-districts
(街道) and towns (镇) are real, their centres approximate. Coordinates are WGS-84 and always
fall on land inside the district boundary.
"""

from __future__ import annotations

import json
import math
import random
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from importlib import resources

from shapely.geometry import MultiPolygon, Point, shape
from shapely.prepared import PreparedGeometry, prep

from parkshare.geo import haversine_m

INSTITUTIONAL_SHARED_BERTHS = 2_940
COMMERCIAL_SHARED_BERTHS = 14_623
BERTH_CATEGORIES = ("ordinary", "ev_charging", "accessible")

_SEED = 370_211  # 黄岛区's administrative division code
_KM_PER_DEGREE_LAT = 111.195
_MIN_SEPARATION_M = 150.0
_MAX_PLACEMENT_ATTEMPTS = 10_000


class SiteKind(StrEnum):
    INSTITUTIONAL = "institutional"
    COMMERCIAL = "commercial"


class Use(StrEnum):
    GOVERNMENT = "government"
    PUBLIC_INSTITUTION = "public_institution"  # 事业单位: hospital, school, library, stadium…
    STATE_ENTERPRISE = "state_enterprise"
    MALL = "mall"
    HOTEL = "hotel"
    OFFICE = "office"


@dataclass(frozen=True)
class Site:
    code: str
    name_zh: str
    name_en: str
    operator_zh: str
    operator_en: str
    kind: SiteKind
    use: Use
    area_zh: str
    area_en: str
    address_zh: str
    lon: float
    lat: float
    total_berths: int
    shared_berths: dict[str, int]
    contact_phone: str


@dataclass(frozen=True)
class Landmark:
    name_zh: str
    name_en: str
    lon: float
    lat: float


@dataclass(frozen=True)
class Area:
    """A sub-district (街道) or town (镇) of 黄岛区 and how many demo car parks it holds."""

    name_zh: str
    name_en: str
    lon: float  # approximate centre, WGS-84
    lat: float
    spread_km: float  # how far car parks scatter around the centre (one standard deviation)
    urban: bool  # the built-up core that hosts district bureaus, malls and state enterprises
    institutional_sites: int
    commercial_sites: int
    roads: tuple[str, ...] = ()

    @property
    def short_zh(self) -> str:
        return self.name_zh.removesuffix("街道").removesuffix("镇")

    @property
    def short_en(self) -> str:
        return self.name_en.rsplit(" ", 1)[0]

    @property
    def is_town(self) -> bool:
        return self.name_zh.endswith("镇")


# fmt: off
AREAS: tuple[Area, ...] = (
    Area("长江路街道", "Changjianglu Subdistrict", 120.195, 35.962, 1.6, True, 4, 22,
         ("长江中路", "峨眉山路", "武夷山路", "井冈山路", "庐山路", "紫金山路")),
    Area("黄岛街道", "Huangdao Subdistrict", 120.242, 36.000, 1.0, True, 2, 9,
         ("黄河东路", "长江东路", "前湾港路")),
    Area("薛家岛街道", "Xuejiadao Subdistrict", 120.270, 35.975, 1.3, True, 3, 12,
         ("嘉陵江东路", "漓江东路", "连江路", "金沙滩路")),
    Area("辛安街道", "Xin'an Subdistrict", 120.145, 36.005, 1.6, True, 2, 8,
         ("前湾港路", "江山中路", "淮河东路", "昆仑山路")),
    Area("灵山卫街道", "Lingshanwei Subdistrict", 120.110, 35.918, 1.4, True, 2, 6,
         ("东岳东路", "灵山湾路", "滨海大道")),
    Area("隐珠街道", "Yinzhu Subdistrict", 119.990, 35.880, 1.4, True, 2, 8,
         ("人民路", "淮阳路", "宜阳路", "大沙路")),
    Area("珠海街道", "Zhuhai Subdistrict", 120.020, 35.868, 1.3, True, 3, 8,
         ("珠海中路", "珠山路", "世纪大道")),
    Area("滨海街道", "Binhai Subdistrict", 120.060, 35.895, 1.5, False, 1, 3, ("滨海大道",)),
    Area("灵珠山街道", "Lingzhushan Subdistrict", 120.085, 35.975, 2.0, False, 1, 2,
         ("江山南路", "小珠山路")),
    Area("红石崖街道", "Hongshiya Subdistrict", 120.065, 36.105, 2.0, False, 1, 2),
    Area("铁山街道", "Tieshan Subdistrict", 119.960, 35.925, 2.0, False, 1, 2, ("海西三路",)),
    Area("王台街道", "Wangtai Subdistrict", 119.970, 36.030, 2.0, False, 1, 1),
    Area("张家楼街道", "Zhangjialou Subdistrict", 119.880, 35.915, 2.0, False, 1, 0),
    Area("泊里镇", "Boli Town", 119.820, 35.700, 2.0, False, 1, 1),
    Area("琅琊镇", "Langya Town", 119.900, 35.665, 1.5, False, 1, 1),
    Area("大场镇", "Dachang Town", 119.720, 35.720, 2.0, False, 1, 0),
    Area("宝山镇", "Baoshan Town", 119.760, 35.970, 2.0, False, 1, 0),
    Area("大村镇", "Dacun Town", 119.910, 35.990, 2.0, False, 1, 0),
    Area("六汪镇", "Liuwang Town", 119.820, 36.000, 2.0, False, 1, 0),
    Area("藏南镇", "Cangnan Town", 119.790, 35.840, 2.0, False, 1, 0),
    Area("海青镇", "Haiqing Town", 119.600, 35.680, 2.0, False, 1, 0),
)

LANDMARKS: tuple[Landmark, ...] = (
    Landmark("金沙滩", "Golden Beach (Jinshatan)", 120.250, 35.963),
    Landmark("唐岛湾公园", "Tangdao Bay Park", 120.195, 35.946),
    Landmark("灵山湾", "Lingshan Bay", 120.100, 35.893),
    Landmark("西海岸新区管委(政务服务中心)",
             "West Coast New Area Administrative Committee (Government Service Centre)",
             120.185, 35.960),
    Landmark("青岛西站", "Qingdao West Railway Station", 119.951174, 35.901536),
    Landmark("积米崖", "Jimiya Fishing Port", 120.152, 35.912),
    Landmark("东方影都", "Oriental Movie Metropolis", 120.190, 35.918),
    Landmark("黄岛客运站", "Huangdao Bus Station", 120.178, 35.966),
)

_BUREAUS = (
    ("财政局", "Finance Bureau"), ("教育和体育局", "Education and Sports Bureau"),
    ("自然资源局", "Natural Resources Bureau"), ("交通运输局", "Transport Bureau"),
    ("住房和城乡建设局", "Housing and Urban-Rural Development Bureau"),
    ("市场监督管理局", "Market Supervision Administration"),
    ("人力资源和社会保障局", "Human Resources and Social Security Bureau"),
    ("文化和旅游局", "Culture and Tourism Bureau"), ("民政局", "Civil Affairs Bureau"),
    ("农业农村局", "Agriculture and Rural Affairs Bureau"), ("商务局", "Commerce Bureau"),
    ("应急管理局", "Emergency Management Bureau"), ("水务局", "Water Affairs Bureau"),
    ("统计局", "Statistics Bureau"), ("审计局", "Audit Bureau"), ("司法局", "Justice Bureau"),
)
_HOSPITALS = (
    ("第二人民医院", "Second People's Hospital"), ("第三人民医院", "Third People's Hospital"),
    ("中医医院", "Hospital of Traditional Chinese Medicine"),
    ("妇幼保健院", "Maternal and Child Health Hospital"),
)
_VENUES = (
    ("图书馆", "Library"), ("体育中心", "Sports Centre"), ("档案馆", "Archives"),
    ("文化艺术中心", "Culture and Arts Centre"), ("青少年活动中心", "Youth Activity Centre"),
    ("科技馆", "Science and Technology Museum"), ("全民健身中心", "Public Fitness Centre"),
)
_SCHOOLS = (
    *((f"第{zh}中学", f"No. {n} Middle School") for n, zh in enumerate("一二三四五六七八九", 1)),
    ("实验高级中学", "Experimental Senior High School"),
)
_STATE_ENTERPRISES = (
    ("城市建设投资集团", "Urban Construction Investment Group"), ("水务集团", "Water Group"),
    ("公共交通集团", "Public Transport Group"), ("热力集团", "Heating Group"),
    ("旅游发展集团", "Tourism Development Group"), ("港航物流集团", "Port Logistics Group"),
    ("国有资本运营公司", "State Capital Operation Company"),
)
# Fictional brand-free name stems for commercial buildings, with their pinyin.
_STEMS = (
    ("海悦", "Haiyue"), ("嘉和", "Jiahe"), ("金湾", "Jinwan"), ("蓝湾", "Lanwan"),
    ("云栖", "Yunqi"), ("丰和", "Fenghe"), ("瑞海", "Ruihai"), ("德润", "Derun"),
    ("恒远", "Hengyuan"), ("盛海", "Shenghai"), ("锦澜", "Jinlan"), ("星海", "Xinghai"),
    ("鼎盛", "Dingsheng"), ("远航", "Yuanhang"), ("海润", "Hairun"), ("泰和", "Taihe"),
    ("润达", "Runda"), ("景澜", "Jinglan"), ("瀚海", "Hanhai"), ("沧澜", "Canglan"),
    ("青澜", "Qinglan"), ("滨港", "Bingang"), ("泓海", "Honghai"), ("宏图", "Hongtu"),
    ("兴港", "Xinggang"), ("昊海", "Haohai"), ("银滩", "Yintan"), ("聚海", "Juhai"),
    ("和泰", "Hetai"), ("安澜", "Anlan"), ("博远", "Boyuan"), ("融汇", "Ronghui"),
    ("鸿瑞", "Hongrui"), ("唐岛", "Tangdao"), ("珠山", "Zhushan"), ("灵湾", "Lingwan"),
    ("金沙", "Jinsha"), ("海川", "Haichuan"), ("明澜", "Minglan"), ("辰海", "Chenhai"),
)
_FACILITIES: dict[Use, tuple[tuple[str, str], ...]] = {
    Use.MALL: (("购物中心", "Shopping Centre"), ("广场", "Plaza"), ("城市广场", "City Plaza"),
               ("商业中心", "Commercial Centre"), ("生活广场", "Lifestyle Plaza")),
    Use.HOTEL: (("大酒店", "Grand Hotel"), ("海景酒店", "Seaview Hotel"),
                ("商务酒店", "Business Hotel"), ("国际酒店", "International Hotel"),
                ("度假酒店", "Resort Hotel")),
    Use.OFFICE: (("国际大厦", "International Tower"), ("金融中心", "Financial Centre"),
                 ("商务中心", "Business Centre"), ("科技大厦", "Technology Building"),
                 ("创新园", "Innovation Park")),
}
_OPERATORS: dict[Use, tuple[tuple[str, str], ...]] = {
    Use.MALL: (("汇海商业运营管理", "Huihai Commercial Operation Management"),
               ("澜岸商业管理", "Lan'an Commercial Management"),
               ("泓远商业管理", "Hongyuan Commercial Management")),
    Use.HOTEL: (("海韵酒店管理", "Haiyun Hotel Management"),
                ("锦途酒店管理", "Jintu Hotel Management"),
                ("云帆酒店管理", "Yunfan Hotel Management"),
                ("栖湾酒店管理", "Qiwan Hotel Management")),
    Use.OFFICE: (("德泰物业服务", "Detai Property Services"),
                 ("嘉润物业管理", "Jiarun Property Management"),
                 ("恒安物业服务", "Heng'an Property Services"),
                 ("盛合物业管理", "Shenghe Property Management")),
}
_INSTITUTIONAL_WEIGHT = {
    Use.GOVERNMENT: 0.35, Use.PUBLIC_INSTITUTION: 0.45, Use.STATE_ENTERPRISE: 0.2,
}
_PARKING_OPERATOR = ("泊安停车管理", "Bo'an Parking Management")
# (lowest, highest, most likely) shared berths, and the shared share of all berths
_SHARED_RANGE: dict[Use, tuple[int, int, int]] = {
    Use.GOVERNMENT: (40, 160, 70), Use.PUBLIC_INSTITUTION: (40, 200, 90),
    Use.STATE_ENTERPRISE: (40, 150, 60), Use.MALL: (200, 600, 300),
    Use.HOTEL: (60, 250, 110), Use.OFFICE: (80, 350, 150),
}
_SHARED_FRACTION: dict[Use, tuple[float, float]] = {
    Use.GOVERNMENT: (0.5, 0.85), Use.PUBLIC_INSTITUTION: (0.35, 0.7),
    Use.STATE_ENTERPRISE: (0.5, 0.85), Use.MALL: (0.3, 0.55),
    Use.HOTEL: (0.4, 0.7), Use.OFFICE: (0.45, 0.8),
}
# fmt: on


@dataclass(frozen=True)
class _Naming:
    name_zh: str
    name_en: str
    operator_zh: str
    operator_en: str


@dataclass(frozen=True)
class _Slot:
    """One car park to be generated: where it is and what it serves."""

    kind: SiteKind
    area: Area
    use: Use
    naming: _Naming


@cache
def huangdao_boundary() -> MultiPolygon:
    """The land boundary of 黄岛区 (WGS-84), islands included."""
    data = resources.files("parkshare.demo").joinpath("data/huangdao-boundary.geojson")
    collection = json.loads(data.read_text(encoding="utf-8"))
    geometry = shape(collection["features"][0]["geometry"])
    if not isinstance(geometry, MultiPolygon):
        raise TypeError(f"expected a MultiPolygon boundary, got {geometry.geom_type}")
    return geometry


@cache
def _land() -> PreparedGeometry[MultiPolygon]:
    return prep(huangdao_boundary())


def west_coast_sites() -> list[Site]:
    """The demo network: 32 institutional then 85 commercial car parks, always the same."""
    rng = random.Random(_SEED)
    taken: set[str] = set()
    slots = _institutional_slots(rng, taken) + _commercial_slots(rng, taken)
    shared = _fit_to_total(
        rng, [s.use for s in slots if s.kind is SiteKind.INSTITUTIONAL], INSTITUTIONAL_SHARED_BERTHS
    ) + _fit_to_total(
        rng, [s.use for s in slots if s.kind is SiteKind.COMMERCIAL], COMMERCIAL_SHARED_BERTHS
    )
    placed: list[tuple[float, float]] = []
    phones: set[str] = set()
    sites: list[Site] = []
    counters = {SiteKind.INSTITUTIONAL: 0, SiteKind.COMMERCIAL: 0}
    for slot, shared_total in zip(slots, shared, strict=True):
        counters[slot.kind] += 1
        lon, lat = _place(rng, slot.area, placed)
        placed.append((lon, lat))
        sites.append(_build_site(rng, slot, counters[slot.kind], shared_total, lon, lat, phones))
    return sites


def _build_site(
    rng: random.Random,
    slot: _Slot,
    number: int,
    shared_total: int,
    lon: float,
    lat: float,
    phones: set[str],
) -> Site:
    letter = "I" if slot.kind is SiteKind.INSTITUTIONAL else "C"
    low, high = _SHARED_FRACTION[slot.use]
    total = 5 * math.ceil(shared_total / rng.uniform(low, high) / 5)
    roads = slot.area.roads or (f"{slot.area.short_zh}路", f"{slot.area.short_zh}大街")
    return Site(
        code=f"HD-{letter}-{number:03d}",
        name_zh=slot.naming.name_zh,
        name_en=slot.naming.name_en,
        operator_zh=slot.naming.operator_zh,
        operator_en=slot.naming.operator_en,
        kind=slot.kind,
        use=slot.use,
        area_zh=slot.area.name_zh,
        area_en=slot.area.name_en,
        address_zh=f"青岛市黄岛区{slot.area.name_zh}{rng.choice(roads)}{rng.randint(1, 899)}号",
        lon=lon,
        lat=lat,
        total_berths=max(total, shared_total),
        shared_berths=_split_categories(rng, shared_total),
        contact_phone=_phone(rng, phones),
    )


def _institutional_slots(rng: random.Random, taken: set[str]) -> list[_Slot]:
    slots: list[_Slot] = []
    for area in AREAS:
        for _ in range(area.institutional_sites):
            options = _institutional_options(area, taken)
            uses = sorted(options)
            use = rng.choices(uses, weights=[_INSTITUTIONAL_WEIGHT[u] for u in uses])[0]
            naming = rng.choice(rng.choice(options[use]))
            taken.add(naming.name_zh)
            slots.append(_Slot(SiteKind.INSTITUTIONAL, area, use, naming))
    return slots


def _institutional_options(area: Area, taken: set[str]) -> dict[Use, list[list[_Naming]]]:
    """Still-unused institutional units that could stand in `area`, by use and family."""
    if area.is_town:
        office = (f"{area.name_zh}人民政府", f"{area.short_en} Town Government")
        clinic = (f"{area.short_zh}中心卫生院", f"{area.short_en} Central Health Centre")
    else:
        office = (f"{area.name_zh}办事处", f"{area.name_en} Office")
        clinic = (f"{area.short_zh}社区卫生服务中心", f"{area.short_en} Community Health Centre")
    school = (f"{area.short_zh}中学", f"{area.short_en} Middle School")
    options: dict[Use, list[list[_Naming]]] = {
        Use.GOVERNMENT: [[_local_unit(office, "机关停车场", "Car Park")]],
        Use.PUBLIC_INSTITUTION: [
            [_local_unit(clinic, "职工停车场", "Staff Car Park")],
            [_local_unit(school, "校园停车场", "Campus Car Park")],
        ],
    }
    if area.urban:
        options[Use.GOVERNMENT][0] += [
            _district_unit(b, "机关停车场", "Office Car Park") for b in _BUREAUS
        ]
        options[Use.PUBLIC_INSTITUTION] = [
            [_district_unit(h, "职工停车场", "Staff Car Park") for h in _HOSPITALS],
            [_district_unit(v, "停车场", "Car Park") for v in _VENUES],
            [_district_unit(s, "校园停车场", "Campus Car Park") for s in _SCHOOLS],
        ]
        options[Use.STATE_ENTERPRISE] = [
            [
                _district_unit(e, "办公区停车场", "Office Car Park", company=True)
                for e in _STATE_ENTERPRISES
            ]
        ]
    available = {
        use: [[n for n in family if n.name_zh not in taken] for family in families]
        for use, families in options.items()
    }
    return {use: [f for f in families if f] for use, families in available.items() if any(families)}


def _local_unit(unit: tuple[str, str], car_park_zh: str, car_park_en: str) -> _Naming:
    zh, en = unit
    return _Naming(
        f"{zh}{car_park_zh}", f"{en} {car_park_en}", f"青岛市黄岛区{zh}", f"{en}, Huangdao District"
    )


def _district_unit(
    unit: tuple[str, str], car_park_zh: str, car_park_en: str, *, company: bool = False
) -> _Naming:
    zh, en = unit
    suffix_zh, suffix_en = ("有限公司", " Co., Ltd.") if company else ("", "")
    return _Naming(
        f"西海岸新区{zh}{car_park_zh}",
        f"West Coast New Area {en} {car_park_en}",
        f"青岛西海岸新区{zh}{suffix_zh}",
        f"Qingdao West Coast New Area {en}{suffix_en}",
    )


def _commercial_slots(rng: random.Random, taken: set[str]) -> list[_Slot]:
    slots: list[_Slot] = []
    for area in AREAS:
        for _ in range(area.commercial_sites):
            use = _commercial_use(rng, area)
            slots.append(_Slot(SiteKind.COMMERCIAL, area, use, _commercial_naming(rng, use, taken)))
    return slots


def _commercial_use(rng: random.Random, area: Area) -> Use:
    if area.is_town:  # the towns' few commercial car parks serve visitors' hotels
        return Use.HOTEL
    weights = (0.18, 0.37, 0.45) if area.urban else (0.1, 0.5, 0.4)
    return rng.choices((Use.MALL, Use.HOTEL, Use.OFFICE), weights=weights)[0]


def _commercial_naming(rng: random.Random, use: Use, taken: set[str]) -> _Naming:
    while True:
        stem_zh, stem_en = rng.choice(_STEMS)
        facility_zh, facility_en = rng.choice(_FACILITIES[use])
        if f"{stem_zh}{facility_zh}" not in taken:
            break
    taken.add(f"{stem_zh}{facility_zh}")
    car_park_zh, car_park_en = rng.choice(
        (("停车场", "Car Park"), ("地下停车场", "Underground Car Park"))
    )
    operator_zh, operator_en = (
        _PARKING_OPERATOR if rng.random() < 0.15 else rng.choice(_OPERATORS[use])
    )
    return _Naming(
        f"{stem_zh}{facility_zh}{car_park_zh}",
        f"{stem_en} {facility_en} {car_park_en}",
        f"青岛{operator_zh}有限公司",
        f"Qingdao {operator_en} Co., Ltd.",
    )


def _fit_to_total(rng: random.Random, uses: list[Use], total: int) -> list[int]:
    """Draw shared berths for each use within its range, then scale them to sum to `total`."""
    bounds = [_SHARED_RANGE[u][:2] for u in uses]
    if not sum(lo for lo, _ in bounds) <= total <= sum(hi for _, hi in bounds):
        raise ValueError(f"{total} shared berths cannot be split over these uses")
    draws = [
        rng.triangular(lo, hi, _SHARED_RANGE[u][2])
        for u, (lo, hi) in zip(uses, bounds, strict=True)
    ]
    excess = sum(draws) - total
    scaled = draws
    if excess > 0:  # shrink each draw towards its lowest value, in proportion to its slack
        slack = [d - lo for d, (lo, _) in zip(draws, bounds, strict=True)]
        scaled = [d - s * excess / sum(slack) for d, s in zip(draws, slack, strict=True)]
    elif excess < 0:  # grow each draw towards its highest value, in proportion to its headroom
        room = [hi - d for d, (_, hi) in zip(draws, bounds, strict=True)]
        scaled = [d - r * excess / sum(room) for d, r in zip(draws, room, strict=True)]
    result = [min(max(math.floor(v), lo), hi) for v, (lo, hi) in zip(scaled, bounds, strict=True)]
    by_fraction = sorted(range(len(scaled)), key=lambda i: scaled[i] - result[i], reverse=True)
    for i in by_fraction:  # hand out what rounding down lost, largest fractions first
        if sum(result) >= total:
            break
        if result[i] < bounds[i][1]:
            result[i] += 1
    if sum(result) != total:
        raise ValueError(f"could not fit shared berths to {total}")
    return result


def _split_categories(rng: random.Random, shared: int) -> dict[str, int]:
    ev_charging = round(shared * rng.uniform(0.05, 0.15))
    accessible = max(1, round(shared * 0.02))
    return {
        "ordinary": shared - ev_charging - accessible,
        "ev_charging": ev_charging,
        "accessible": accessible,
    }


def _place(
    rng: random.Random, area: Area, placed: list[tuple[float, float]]
) -> tuple[float, float]:
    """A point on land near the area's centre, at least 150 m from every car park placed so far."""
    km_per_degree_lon = _KM_PER_DEGREE_LAT * math.cos(math.radians(area.lat))
    for _ in range(_MAX_PLACEMENT_ATTEMPTS):
        east_km, north_km = rng.gauss(0.0, area.spread_km), rng.gauss(0.0, area.spread_km)
        if math.hypot(east_km, north_km) > 2.5 * area.spread_km:
            continue
        lon = round(area.lon + east_km / km_per_degree_lon, 6)
        lat = round(area.lat + north_km / _KM_PER_DEGREE_LAT, 6)
        if not _land().contains(Point(lon, lat)):
            continue  # in the sea (or across the district border): draw again
        if all(haversine_m(lon, lat, *other) >= _MIN_SEPARATION_M for other in placed):
            return lon, lat
    raise RuntimeError(f"could not place a car park in {area.name_en}")


def _phone(rng: random.Random, taken: set[str]) -> str:
    while (phone := f"0532-8{rng.randrange(10_000_000):07d}") in taken:
        pass
    taken.add(phone)
    return phone
