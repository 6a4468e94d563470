"""The car parks of a scaled demo: a pure, deterministic generator of any number of sites over
Shandong's cities, with the West Coast demo's realism — institutional units (government,
public institutions, state enterprises) and commercial buildings (malls, hotels, offices),
their operators, berths by category and the part they share.

Unit, company and car-park names and phone numbers are fictional; the cities, districts and
counties are real, their centres approximate (see ``scaled_places``).
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import date, timedelta

from parkshare.demo.scaled_places import City, District, Placer, Slot, slots
from parkshare.demo.sites import (
    _BUREAUS,
    _FACILITIES,
    _HOSPITALS,
    _INSTITUTIONAL_WEIGHT,
    _OPERATORS,
    _PARKING_OPERATOR,
    _SHARED_FRACTION,
    _STATE_ENTERPRISES,
    _STEMS,
    _VENUES,
    SiteKind,
    Use,
)
from parkshare.schedules.rules import BerthCategory

FIRST_OPENING = date(2021, 1, 4)  # Qingdao's shared-parking scheme started in 2021
ONBOARDING_SHARE = 0.03  # signed up, not yet online
HENGAN = ("恒安物业服务", "Heng'an Property Services")  # runs the demo operator's car parks

# Shared berths by use: (median, lowest, highest) of a log-normal draw. A province has more
# small car parks than the West Coast's flagship list.
_SHARED: dict[Use, tuple[int, int, int]] = {
    Use.GOVERNMENT: (30, 10, 160),
    Use.PUBLIC_INSTITUTION: (36, 10, 200),
    Use.STATE_ENTERPRISE: (30, 10, 150),
    Use.MALL: (110, 50, 600),
    Use.HOTEL: (40, 15, 250),
    Use.OFFICE: (50, 20, 350),
}
_SIGMA = 0.55
# Peak utilisation of a car park's sharing windows (reservations and passes): the mode of a
# triangular draw between 0.3 and 0.9.
_DEMAND_MODE: dict[Use, float] = {
    Use.GOVERNMENT: 0.55,
    Use.PUBLIC_INSTITUTION: 0.65,
    Use.STATE_ENTERPRISE: 0.5,
    Use.MALL: 0.5,
    Use.HOTEL: 0.4,
    Use.OFFICE: 0.55,
}
# Of the demand beyond passes, the part booked ahead (the rest drives in): every car park sees
# some bookings, a popular few are booked out; hotels and malls are used more on the day.
_BOOKED: dict[Use, float] = {
    Use.GOVERNMENT: 1.0,
    Use.PUBLIC_INSTITUTION: 1.0,
    Use.STATE_ENTERPRISE: 1.0,
    Use.MALL: 0.5,
    Use.HOTEL: 0.5,
    Use.OFFICE: 1.0,
}
# fmt: off
# Common street-name stems of Chinese cities, for addresses, sub-district offices and schools.
ROADS = (
    ("人民", "Renmin"), ("解放", "Jiefang"), ("建设", "Jianshe"), ("和平", "Heping"),
    ("胜利", "Shengli"), ("文化", "Wenhua"), ("新华", "Xinhua"), ("友谊", "Youyi"),
    ("光明", "Guangming"), ("幸福", "Xingfu"), ("振兴", "Zhenxing"), ("青年", "Qingnian"),
    ("团结", "Tuanjie"), ("东风", "Dongfeng"), ("朝阳", "Chaoyang"), ("花园", "Huayuan"),
    ("滨河", "Binhe"), ("工业", "Gongye"), ("公园", "Gongyuan"), ("中山", "Zhongshan"),
    ("府前", "Fuqian"), ("民生", "Minsheng"), ("学府", "Xuefu"), ("金山", "Jinshan"),
)
# fmt: on
_ROAD_KINDS = ("路", "街", "大道", "东路", "西路", "南路", "北路")


@dataclass(frozen=True)
class ScaledSite:
    code: str
    name_zh: str
    name_en: str
    operator_zh: str
    operator_en: str
    kind: SiteKind
    use: Use
    city: City
    area_zh: str
    area_en: str
    address_zh: str
    lon: float
    lat: float
    total_berths: int
    shared_berths: dict[BerthCategory, int]
    daytime_share: float  # malls: the part of the shared berths also shared while trading
    contact_phone: str
    opened_on: date | None  # None: still onboarding
    demand: float  # peak utilisation of its sharing windows, 0.3–0.9
    booked: float  # the part of that demand (beyond monthly passes) booked ahead


@dataclass(frozen=True)
class _Unit:
    """A unit or building that owns a car park, with its car park's name suffix."""

    zh: str
    en: str
    park_zh: str
    park_en: str
    operator_zh: str
    operator_en: str


def code_of(number: int, total: int) -> str:
    return f"SD-{number:0{max(5, len(str(total)))}d}"


def scaled_sites(total: int, *, seed: int, today: date) -> list[ScaledSite]:
    """``total`` car parks over Shandong, always the same for the same seed and day."""
    rng = random.Random(seed)
    placer = Placer(rng, total=total)
    namer = _Namer(rng)
    phones: set[str] = set()
    sites = []
    for number, slot in enumerate(slots(total), start=1):
        kind = _kind(rng, slot.district)
        use = _use(rng, kind, slot.district)
        unit = namer.unit(slot, kind, use)
        lon, lat = placer.place(slot.district)
        sites.append(
            _site(rng, code_of(number, total), slot, kind, use, unit, lon, lat, phones, today)
        )
    return sites


def _site(
    rng: random.Random,
    code: str,
    slot: Slot,
    kind: SiteKind,
    use: Use,
    unit: _Unit,
    lon: float,
    lat: float,
    phones: set[str],
    today: date,
) -> ScaledSite:
    city, district = slot.city, slot.district
    shared = _shared(rng, use)
    low, high = _SHARED_FRACTION[use]
    total = max(5 * math.ceil(sum(shared.values()) / rng.uniform(low, high) / 5), 1)
    road_zh, _ = rng.choice(ROADS)
    mode = min(0.9, _DEMAND_MODE[use] + (0.1 if district.urban else 0.0))
    return ScaledSite(
        code=code,
        name_zh=unit.zh,
        name_en=unit.en,
        operator_zh=unit.operator_zh,
        operator_en=unit.operator_en,
        kind=kind,
        use=use,
        city=city,
        area_zh=city.area_zh(district),
        area_en=city.area_en(district),
        address_zh=f"{city.name_zh}{district.name_zh}{road_zh}{rng.choice(_ROAD_KINDS)}"
        f"{rng.randint(1, 899)}号",
        lon=lon,
        lat=lat,
        total_berths=max(total, sum(shared.values())),
        shared_berths=shared,
        daytime_share=rng.choice((0.2, 0.25, 0.3)) if use is Use.MALL else 0.0,
        contact_phone=_phone(rng, city, phones),
        opened_on=_opened_on(rng, today),
        demand=rng.triangular(0.3, 0.9, mode),
        booked=_BOOKED[use] * (0.1 + 0.9 * rng.triangular(0.0, 1.0, 0.0)),
    )


def _kind(rng: random.Random, district: District) -> SiteKind:
    institutional = 0.35 if district.urban else 0.5
    return SiteKind.INSTITUTIONAL if rng.random() < institutional else SiteKind.COMMERCIAL


def _use(rng: random.Random, kind: SiteKind, district: District) -> Use:
    if kind is SiteKind.INSTITUTIONAL:
        uses = sorted(_INSTITUTIONAL_WEIGHT)
        return rng.choices(uses, weights=[_INSTITUTIONAL_WEIGHT[u] for u in uses])[0]
    weights = (0.2, 0.25, 0.55) if district.urban else (0.15, 0.4, 0.45)
    return rng.choices((Use.MALL, Use.HOTEL, Use.OFFICE), weights=weights)[0]


def _shared(rng: random.Random, use: Use) -> dict[BerthCategory, int]:
    median, lowest, highest = _SHARED[use]
    shared = min(max(round(median * math.exp(rng.gauss(0.0, _SIGMA))), lowest), highest)
    ev_charging = round(shared * rng.uniform(0.05, 0.15))
    accessible = max(1, round(shared * 0.02))
    return {
        BerthCategory.ORDINARY: shared - ev_charging - accessible,
        BerthCategory.EV_CHARGING: ev_charging,
        BerthCategory.ACCESSIBLE: accessible,
    }


def _opened_on(rng: random.Random, today: date) -> date | None:
    if rng.random() < ONBOARDING_SHARE or today <= FIRST_OPENING:
        return None
    span = (today - FIRST_OPENING).days
    # The network grew: more car parks opened lately than at the start.
    return FIRST_OPENING + timedelta(days=min(span - 1, int(span * math.sqrt(rng.random()))))


def _phone(rng: random.Random, city: City, taken: set[str]) -> str:
    while (phone := f"{city.phone_code}-{rng.choice('5678')}{rng.randrange(10**7):07d}") in taken:
        pass
    taken.add(phone)
    return phone


class _Namer:
    """Hands out units and buildings per district without repeating a name: a pool of
    plausible units per district and use, drawn in a seeded order; a unit with a second car
    park numbers it (…2号停车场)."""

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self._pools: dict[tuple[City, District, Use], list[_Unit]] = {}
        self._used: dict[tuple[str, str], int] = {}
        self._hengan_given = False

    def unit(self, slot: Slot, kind: SiteKind, use: Use) -> _Unit:
        if kind is SiteKind.INSTITUTIONAL:
            key = (slot.city, slot.district, use)
            pool = self._pools.get(key)
            if pool is None:
                pool = self._pools[key] = _institutional_pool(*key)
                self._rng.shuffle(pool)
            # Every unit of the district has a car park already: a second one for one of them.
            base = pool.pop() if pool else self._rng.choice(_institutional_pool(*key))
        else:
            base = self._commercial(slot, use)
        return self._numbered(slot.city, base)

    def _commercial(self, slot: Slot, use: Use) -> _Unit:
        city = slot.city
        for _ in range(8):  # prefer a building name not yet used in the city
            (stem_zh, stem_en), (facility_zh, facility_en) = (
                self._rng.choice(_STEMS),
                self._rng.choice(_FACILITIES[use]),
            )
            if (city.name_zh, stem_zh + facility_zh) not in self._used:
                break
        park_zh, park_en = self._rng.choice(
            (("停车场", "Car Park"), ("地下停车场", "Underground Car Park"))
        )
        operator_zh, operator_en = (
            _PARKING_OPERATOR if self._rng.random() < 0.15 else self._rng.choice(_OPERATORS[use])
        )
        if use is Use.OFFICE and city.plate_letter == "B" and not self._hengan_given:
            operator_zh, operator_en = HENGAN  # the demo operator account's company
            self._hengan_given = True
        return _Unit(
            stem_zh + facility_zh,
            f"{stem_en} {facility_en}",
            park_zh,
            park_en,
            f"{city.short_zh}{operator_zh}有限公司",
            f"{city.name_en} {operator_en} Co., Ltd.",
        )

    def _numbered(self, city: City, base: _Unit) -> _Unit:
        key = (city.name_zh, base.zh)
        number = self._used.get(key, 0) + 1
        self._used[key] = number
        if number == 1:
            return _Unit(
                base.zh + base.park_zh,
                f"{base.en} {base.park_en}",
                base.park_zh,
                base.park_en,
                base.operator_zh,
                base.operator_en,
            )
        return _Unit(
            f"{base.zh}{number}号{base.park_zh}",
            f"{base.en} {base.park_en} No. {number}",
            base.park_zh,
            base.park_en,
            base.operator_zh,
            base.operator_en,
        )


_OFFICE = ("机关停车场", "Office Car Park")
_OFFICE_YARD = ("机关停车场", "Car Park")  # after a name that already ends in "Office"
_STAFF = ("职工停车场", "Staff Car Park")
_CAMPUS = ("校园停车场", "Campus Car Park")
_PLAIN = ("停车场", "Car Park")
_COMPANY = ("办公区停车场", "Office Car Park")


def _institutional_pool(city: City, district: District, use: Use) -> list[_Unit]:
    """The institutional units that could own a car park in ``district``: its own government,
    bureaus, hospitals, schools and venues, the city's in the city's core district, and the
    city's state enterprises and their branches."""
    place = _Place(city, district)
    if use is Use.GOVERNMENT:
        return _government(place)
    if use is Use.PUBLIC_INSTITUTION:
        return _public_institutions(place)
    return _state_enterprises(place)


@dataclass(frozen=True)
class _Place:
    city: City
    district: District

    @property
    def core(self) -> bool:
        return self.district == self.city.districts[0]

    def local(self, zh: str, en: str, park: tuple[str, str]) -> _Unit:
        full_zh = self.city.area_zh(self.district)
        name_en = f"{self.district.name_en} {en}"
        where_en = "" if self.district.is_county_city else f", {self.city.name_en}"
        return _Unit(full_zh + zh, name_en, *park, full_zh + zh, name_en + where_en)

    def municipal(self, zh: str, en: str, park: tuple[str, str]) -> _Unit:
        name_en = f"{self.city.name_en} {en}"
        return _Unit(self.city.name_zh + zh, name_en, *park, self.city.name_zh + zh, name_en)


def _government(place: _Place) -> list[_Unit]:
    units = [place.local("人民政府", "People's Government", _OFFICE)]
    units += [place.local(zh, en, _OFFICE) for zh, en in _BUREAUS]
    units += [place.local("人民法院", "People's Court", _OFFICE)]
    units += [place.local("人民检察院", "People's Procuratorate", _OFFICE)]
    units += [
        place.local(f"{zh}街道办事处", f"{en} Subdistrict Office", _OFFICE_YARD)
        for zh, en in ROADS[:10]
    ]
    if place.core:
        units += [place.municipal(zh, f"Municipal {en}", _OFFICE) for zh, en in _BUREAUS]
    return units


def _public_institutions(place: _Place) -> list[_Unit]:
    units = [place.local("人民医院", "People's Hospital", _STAFF)]
    units += [place.local("中医医院", "Hospital of Traditional Chinese Medicine", _STAFF)]
    units += [place.local("妇幼保健院", "Maternal and Child Health Hospital", _STAFF)]
    units += [place.local(zh, en, _PLAIN) for zh, en in _VENUES]
    units += [place.local("实验中学", "Experimental Middle School", _CAMPUS)]
    units += [place.local(f"{zh}小学", f"{en} Primary School", _CAMPUS) for zh, en in ROADS[:8]]
    units += [
        place.local(f"{zh}社区卫生服务中心", f"{en} Community Health Centre", _STAFF)
        for zh, en in ROADS[8:16]
    ]
    if place.core:
        units += [place.municipal(zh, en, _STAFF) for zh, en in _HOSPITALS]
        units += [
            place.municipal(f"第{n}中学", f"No. {n} Middle School", _CAMPUS) for n in range(1, 21)
        ]
    return units


def _state_enterprises(place: _Place) -> list[_Unit]:
    """The city's companies (in its core district) and their branches in every district."""
    city, district = place.city, place.district
    short_zh = district.name_zh[:-1] if len(district.name_zh) > 2 else district.name_zh
    short_en = district.name_en.removesuffix(" District").removesuffix(" County")
    units: list[_Unit] = []
    for zh, en in _STATE_ENTERPRISES:
        company_zh, company_en = f"{city.short_zh}{zh}有限公司", f"{city.name_en} {en} Co., Ltd."
        if place.core:
            units.append(_Unit(company_zh, company_en, *_COMPANY, company_zh, company_en))
        branch_zh = f"{company_zh}{short_zh}分公司"
        branch_en = f"{company_en} {short_en} Branch"
        units.append(_Unit(branch_zh, branch_en, *_COMPANY, branch_zh, branch_en))
    return units
