"""The registry spreadsheet's columns, and one validated input class per row.

Headers are bilingual (``编号 code``); a header is recognised by its English key, its Chinese
label or both. Unknown columns are ignored and named in the report. Every row is validated
and every problem is collected (row, column, problem): the import goes ahead only when there
are none.

Blank optional cells take defaults: text "", berths 0, no opening date. Shared berths left
blank equal the physical berths. ``schedule`` names a preset; blank or ``custom`` keeps a car
park's rules as they are (a new car park then starts with none). ``coords`` says whether the
row's lon/lat are WGS-84 or GCJ-02 (Amap/Tencent); blank means the import's default.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    model_validator,
)

from parkshare.geo import CoordSystem, to_wgs84
from parkshare.interop.presets import CUSTOM, Preset
from parkshare.interop.sites import peak_by_category
from parkshare.interop.spreadsheet import Table, Value
from parkshare.lots.model import Lot, LotKind, LotStatus
from parkshare.schedules.rules import BerthCategory

MAX_BERTHS = 100_000
MAX_PROBLEMS = 1_000  # reported; every row is still checked


@dataclass(frozen=True)
class Column:
    key: str
    zh: str

    @property
    def label(self) -> str:
        return f"{self.zh} {self.key}"


COLUMNS = (
    Column("code", "编号"),
    Column("name", "名称"),
    Column("name_en", "英文名称"),
    Column("operator", "运营单位"),
    Column("operator_en", "运营单位英文名"),
    Column("kind", "类型"),
    Column("use", "用途"),
    Column("area", "街道"),
    Column("area_en", "街道英文名"),
    Column("address", "地址"),
    Column("lon", "经度"),
    Column("lat", "纬度"),
    Column("ordinary", "普通泊位"),
    Column("ev_charging", "充电泊位"),
    Column("accessible", "无障碍泊位"),
    Column("status", "状态"),
    Column("opened_on", "开放日期"),
    Column("contact_phone", "联系电话"),
    Column("schedule", "共享方案"),
    Column("shared_ordinary", "共享普通泊位"),
    Column("shared_ev_charging", "共享充电泊位"),
    Column("shared_accessible", "共享无障碍泊位"),
    Column("coords", "坐标系"),
)
REQUIRED = ("code", "name", "operator", "kind", "area", "lon", "lat", "status")
_KEYS = {column.key for column in COLUMNS}
_BY_ZH = {column.zh: column.key for column in COLUMNS}


class RowProblem(BaseModel):
    row: int
    column: str
    problem: str


# --- cell conversions -------------------------------------------------------------------


def _as_text(value: object) -> object:
    """Numbers typed into text cells (telephone numbers, numeric codes) are read as text."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else str(value)
    return value


def _printable(value: str) -> str:
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
        raise ValueError("contains control characters (line breaks, tabs, …)")
    return value


def _as_number(value: object) -> object:
    if isinstance(value, bool | date):
        raise ValueError("must be a number")
    if isinstance(value, str):
        return value.strip().replace(",", "")
    return value


def _as_word(value: object) -> object:
    return value.strip().lower() if isinstance(value, str) else value


def _as_day(value: object) -> object:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, int | float):
        raise ValueError("write the date as YYYY-MM-DD")
    if isinstance(value, str):
        return value.strip().replace("/", "-")
    return value


def _schedule(value: str) -> str:
    allowed = [p.value for p in Preset]
    if value not in (*allowed, CUSTOM):
        raise ValueError(
            f"must be one of {', '.join(allowed)}, or {CUSTOM} / blank to keep the rules"
        )
    return value


Text = Annotated[
    str,
    BeforeValidator(_as_text),
    StringConstraints(strip_whitespace=True),
    AfterValidator(_printable),
]


def _limit(max_length: int, *, required: bool = False) -> Any:
    return Field(min_length=int(required), max_length=max_length)


Berths = Annotated[int, BeforeValidator(_as_number), Field(ge=0, le=MAX_BERTHS)]


class RowInput(BaseModel):
    """One spreadsheet row as typed; ``to_canonical()`` gives the car park it describes."""

    model_config = ConfigDict(extra="forbid")

    code: Annotated[Text, _limit(40, required=True)]
    name: Annotated[Text, _limit(200, required=True)]
    name_en: Annotated[Text, _limit(200)] = ""
    operator: Annotated[Text, _limit(200, required=True)]
    operator_en: Annotated[Text, _limit(200)] = ""
    kind: Annotated[LotKind, BeforeValidator(_as_word)]
    use: Annotated[Text, _limit(40)] = ""
    area: Annotated[Text, _limit(80, required=True)]
    area_en: Annotated[Text, _limit(80)] = ""
    address: Annotated[Text, _limit(300)] = ""
    lon: Annotated[float, BeforeValidator(_as_number), Field(ge=-180, le=180)]
    lat: Annotated[float, BeforeValidator(_as_number), Field(ge=-90, le=90)]
    ordinary: Berths = 0
    ev_charging: Berths = 0
    accessible: Berths = 0
    status: Annotated[LotStatus, BeforeValidator(_as_word)]
    opened_on: Annotated[date | None, BeforeValidator(_as_day)] = None
    contact_phone: Annotated[Text, _limit(40)] = ""
    schedule: Annotated[str, BeforeValidator(_as_word), AfterValidator(_schedule)] = ""
    shared_ordinary: Berths | None = None
    shared_ev_charging: Berths | None = None
    shared_accessible: Berths | None = None
    coords: Annotated[CoordSystem | None, BeforeValidator(_as_word)] = None

    @model_validator(mode="before")
    @classmethod
    def _blanks_take_defaults(cls, data: Any) -> Any:
        if isinstance(data, dict):
            return {k: v for k, v in data.items() if v is not None and v != ""}
        return data

    @property
    def berths(self) -> dict[BerthCategory, int]:
        return {
            BerthCategory.ORDINARY: self.ordinary,
            BerthCategory.EV_CHARGING: self.ev_charging,
            BerthCategory.ACCESSIBLE: self.accessible,
        }

    @property
    def shared(self) -> dict[BerthCategory, int]:
        given = {
            BerthCategory.ORDINARY: self.shared_ordinary,
            BerthCategory.EV_CHARGING: self.shared_ev_charging,
            BerthCategory.ACCESSIBLE: self.shared_accessible,
        }
        return {c: self.berths[c] if n is None else n for c, n in given.items()}

    def problems(self) -> list[tuple[str, str]]:
        """What is wrong across columns: (column, problem)."""
        found: list[tuple[str, str]] = []
        if sum(self.berths.values()) == 0:
            found.append(("ordinary", "a car park needs at least one berth"))
        for category, shared in self.shared.items():
            if shared > self.berths[category]:
                found.append(
                    (
                        f"shared_{category}",
                        f"shares {shared} {category} berths but has {self.berths[category]}",
                    )
                )
        return found

    def to_canonical(self, default_coords: CoordSystem) -> LotRecord:
        lon, lat = to_wgs84(self.lon, self.lat, self.coords or default_coords)
        return LotRecord(
            code=self.code,
            name=self.name,
            name_en=self.name_en,
            operator=self.operator,
            operator_en=self.operator_en,
            kind=self.kind,
            use=self.use,
            area=self.area,
            area_en=self.area_en,
            address=self.address,
            lon=lon,
            lat=lat,
            berths=self.berths,
            shared=self.shared,
            status=self.status,
            opened_on=self.opened_on,
            contact_phone=self.contact_phone,
            schedule=self.schedule,
        )


@dataclass(frozen=True)
class LotRecord:
    """A car park as the registry stores it: coordinates in WGS-84."""

    code: str
    name: str
    name_en: str
    operator: str
    operator_en: str
    kind: LotKind
    use: str
    area: str
    area_en: str
    address: str
    lon: float
    lat: float
    berths: dict[BerthCategory, int]
    shared: dict[BerthCategory, int]
    status: LotStatus
    opened_on: date | None
    contact_phone: str
    schedule: str  # a Preset value, "custom" or "" (keep the rules)

    @property
    def preset(self) -> Preset | None:
        return Preset(self.schedule) if self.schedule in set(Preset) else None


@dataclass
class Validated:
    records: list[tuple[int, LotRecord]] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)


def validate_table(table: Table, *, coords: CoordSystem = CoordSystem.WGS84) -> Validated:
    """Every row checked; ``records`` is complete only when ``problems`` is empty."""
    result = Validated()
    columns = _columns(table.header, result)
    if result.problems:
        return result
    first_row: dict[str, int] = {}
    for number, cells in table.rows:
        raw = {key: cells[index] for index, key in columns.items() if index < len(cells)}
        try:
            row = RowInput.model_validate(raw)
        except ValidationError as exc:
            result.problems += [_problem(number, error) for error in exc.errors()]
            continue
        found = row.problems()
        if row.code in first_row:
            found.append(("code", f"{row.code} is already on row {first_row[row.code]}"))
        first_row.setdefault(row.code, number)
        result.problems += [RowProblem(row=number, column=c, problem=p) for c, p in found]
        if not found:
            result.records.append((number, row.to_canonical(coords)))
    return result


def _columns(header: tuple[Value, ...], result: Validated) -> dict[int, str]:
    columns: dict[int, str] = {}
    for index, cell in enumerate(header):
        if cell is None or not str(cell).strip():
            continue
        key = column_key(str(cell))
        if key is None:
            result.ignored_columns.append(str(cell).strip())
        elif key in columns.values():
            result.problems.append(RowProblem(row=1, column=key, problem="the column is repeated"))
        else:
            columns[index] = key
    for key in REQUIRED:
        if key not in columns.values():
            result.problems.append(RowProblem(row=1, column=key, problem="the column is missing"))
    return columns


def column_key(header: str) -> str | None:
    """``编号 code``, ``code`` and ``编号`` all name the column ``code``."""
    words = header.split()
    if not words:
        return None
    for word in (words[-1].lower(), words[0].lower()):
        if word in _KEYS:
            return word
    return _BY_ZH.get(words[0])


def _problem(row: int, error: Any) -> RowProblem:
    column = str(error["loc"][0]) if error["loc"] else ""
    message = str(error["msg"])
    if error["type"] == "value_error":
        message = str(error["ctx"]["error"])
    elif error["type"] in ("missing", "too_short"):
        message = "required"
    elif error["type"] == "too_long":
        message = f"longer than {error['ctx']['max_length']} characters"
    elif error["type"] == "extra_forbidden":
        message = "not a column"
    return RowProblem(row=row, column=column, problem=message)


def export_row(lot: Lot, schedule: str) -> list[Value]:
    """A car park as a row of ``COLUMNS`` (``lot`` loaded with operator, berths and rules)."""
    berths = {row.category: row.total for row in lot.berths}
    shared = peak_by_category(lot)
    return [
        lot.code,
        lot.name,
        lot.name_en,
        lot.operator.name,
        lot.operator.name_en,
        lot.kind.value,
        lot.use,
        lot.area,
        lot.area_en,
        lot.address,
        lot.lon,
        lot.lat,
        *(berths.get(category, 0) for category in BerthCategory),
        lot.status.value,
        lot.opened_on,
        lot.contact_phone,
        schedule,
        *(shared[category] for category in BerthCategory),
        CoordSystem.WGS84.value,
    ]
