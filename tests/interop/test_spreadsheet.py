"""Reading spreadsheets safely and validating every row, without a database."""

from __future__ import annotations

import io
import zipfile
from datetime import date, datetime
from typing import Any

import openpyxl
import pytest

from parkshare.errors import (
    BadEncoding,
    NotASpreadsheet,
    SpreadsheetTooLarge,
    UploadTooLarge,
)
from parkshare.geo import CoordSystem, gcj02_to_wgs84, wgs84_to_gcj02
from parkshare.interop.rows import COLUMNS, column_key, validate_table
from parkshare.interop.spreadsheet import MAX_ROWS, MAX_UPLOAD_BYTES, read_table, write_xlsx
from parkshare.lots.model import LotKind, LotStatus
from parkshare.schedules.rules import BerthCategory

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00"

ROW = {
    "code": "HD-101",
    "name": "区政府停车场",
    "name_en": "District Government Car Park",
    "operator": "黄岛区机关事务中心",
    "operator_en": "Huangdao offices",
    "kind": "institutional",
    "use": "government",
    "area": "长江路街道",
    "area_en": "Changjianglu",
    "address": "长江中路1号",
    "lon": "120.18",
    "lat": "35.96",
    "ordinary": "100",
    "ev_charging": "10",
    "accessible": "4",
    "status": "online",
    "opened_on": "2022-03-01",
    "contact_phone": "0532-86000000",
    "schedule": "qingdao_institutional",
    "shared_ordinary": "40",
    "shared_ev_charging": "",
    "shared_accessible": "2",
    "coords": "",
}


def csv_bytes(*rows: dict[str, Any], header: list[str] | None = None, bom: bool = False) -> bytes:
    header = header or [column.label for column in COLUMNS]
    keys = [column_key(label) or label for label in header]
    lines = [",".join(header)]
    lines += [",".join(str(row.get(key, "")) for key in keys) for row in rows]
    return ("\ufeff" if bom else "").encode() + ("\r\n".join(lines) + "\r\n").encode("utf-8")


def row(**changes: Any) -> dict[str, Any]:
    return {**ROW, **changes}


def xlsx_bytes(header: list[Any], *rows: list[Any]) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(header)
    for values in rows:
        sheet.append(values)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def zip_bytes(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, content in entries.items():
            archive.writestr(name, content)
    return buffer.getvalue()


# --- headers ------------------------------------------------------------------------------


@pytest.mark.parametrize("header", ["编号 code", "code", "编号", " CODE ", "编号  code"])
def test_a_column_is_known_by_its_english_key_its_chinese_label_or_both(header: str) -> None:
    assert column_key(header) == "code"


def test_unknown_columns_are_ignored_and_named() -> None:
    table = read_table(csv_bytes(row(), header=[*(c.label for c in COLUMNS), "备注 notes"]))
    result = validate_table(table)

    assert result.problems == []
    assert result.ignored_columns == ["备注 notes"]


def test_a_missing_required_column_is_reported_on_the_header_row() -> None:
    header = [c.label for c in COLUMNS if c.key != "lat"]
    result = validate_table(read_table(csv_bytes(row(), header=header)))

    assert [(p.row, p.column, p.problem) for p in result.problems] == [
        (1, "lat", "the column is missing")
    ]
    assert result.records == []


# --- rows ---------------------------------------------------------------------------------


def test_a_good_row_becomes_a_canonical_car_park() -> None:
    result = validate_table(read_table(csv_bytes(row())))

    assert result.problems == []
    [(number, record)] = result.records
    assert number == 2
    assert (record.code, record.kind, record.status) == (
        "HD-101",
        LotKind.INSTITUTIONAL,
        LotStatus.ONLINE,
    )
    assert record.berths == {
        BerthCategory.ORDINARY: 100,
        BerthCategory.EV_CHARGING: 10,
        BerthCategory.ACCESSIBLE: 4,
    }
    # A blank shared cell shares every berth of its category.
    assert record.shared == {
        BerthCategory.ORDINARY: 40,
        BerthCategory.EV_CHARGING: 10,
        BerthCategory.ACCESSIBLE: 2,
    }
    assert record.opened_on == date(2022, 3, 1)
    assert record.schedule == "qingdao_institutional"
    assert (record.lon, record.lat) == (120.18, 35.96)


def test_every_row_is_checked_and_every_problem_reported() -> None:
    table = read_table(
        csv_bytes(
            row(code="A"),
            row(code="B", lat="north", kind="palace"),
            row(code="C"),
            row(code="D", shared_ordinary="101"),
            row(code="E", schedule="weekends"),
            row(code="A"),
        )
    )
    result = validate_table(table)

    problems = {(p.row, p.column) for p in result.problems}
    assert problems == {
        (3, "lat"),
        (3, "kind"),
        (5, "shared_ordinary"),
        (6, "schedule"),
        (7, "code"),
    }
    by_place = {(p.row, p.column): p.problem for p in result.problems}
    assert by_place[(7, "code")] == "A is already on row 2"
    assert "qingdao_institutional" in by_place[(6, "schedule")]
    assert [record.code for _, record in result.records] == ["A", "C"]


@pytest.mark.parametrize(
    ("changes", "column", "problem"),
    [
        ({"code": ""}, "code", "required"),
        ({"name": "x" * 201}, "name", "longer than 200 characters"),
        ({"lon": "181"}, "lon", "Input should be less than or equal to 180"),
        ({"ordinary": "-1"}, "ordinary", "Input should be greater than or equal to 0"),
        ({"ordinary": "0", "ev_charging": "0", "accessible": "0", "shared_ordinary": "0", "shared_accessible": "0"}, "ordinary", "a car park needs at least one berth"),
        ({"shared_accessible": "5"}, "shared_accessible", "shares 5 accessible berths but has 4"),
        ({"status": ""}, "status", "required"),
        ({"opened_on": "24 June"}, "opened_on", "Input should be a valid date or datetime, input is too short"),
        ({"coords": "bd09"}, "coords", "Input should be 'wgs84' or 'gcj02'"),
    ],
)  # fmt: skip
def test_a_bad_cell_is_reported_with_its_row_and_column(
    changes: dict[str, str], column: str, problem: str
) -> None:
    result = validate_table(read_table(csv_bytes(row(), row(**{"code": "B", **changes}))))

    assert [(p.row, p.column, p.problem) for p in result.problems] == [(3, column, problem)]


def test_text_cells_refuse_control_characters() -> None:
    values = [*ROW.values()]
    values[1] = "A\nB"
    table = read_table(xlsx_bytes([c.label for c in COLUMNS], values))
    result = validate_table(table)

    assert [(p.row, p.column, p.problem) for p in result.problems] == [
        (2, "name", "contains control characters (line breaks, tabs, …)")
    ]


def test_gcj02_coordinates_are_converted_to_wgs84() -> None:
    lon, lat = wgs84_to_gcj02(120.18, 35.96)
    by_column = validate_table(read_table(csv_bytes(row(lon=lon, lat=lat, coords="gcj02"))))
    by_default = validate_table(
        read_table(csv_bytes(row(lon=lon, lat=lat))), coords=CoordSystem.GCJ02
    )

    for result in (by_column, by_default):
        [(_, record)] = result.records
        assert (record.lon, record.lat) == gcj02_to_wgs84(lon, lat)
        assert record.lon == pytest.approx(120.18, abs=1e-8)


def test_workbook_cells_keep_their_meaning() -> None:
    header = [c.label for c in COLUMNS]
    values = [*ROW.values()]
    values[header.index("开放日期 opened_on")] = datetime(2022, 3, 1)
    values[header.index("联系电话 contact_phone")] = 53286000000
    values[header.index("经度 lon")] = 120.18
    values[header.index("普通泊位 ordinary")] = 100
    result = validate_table(read_table(xlsx_bytes(header, values)))

    [(_, record)] = result.records
    assert record.opened_on == date(2022, 3, 1)
    assert record.contact_phone == "53286000000"
    assert record.berths[BerthCategory.ORDINARY] == 100


def test_formulas_are_never_evaluated() -> None:
    header = [c.label for c in COLUMNS]
    link = [*ROW.values()]
    link[header.index("名称 name")] = '=HYPERLINK("http://example.invalid","x")'
    sum_ = [*ROW.values()]
    sum_[header.index("普通泊位 ordinary")] = "=50+50"
    result = validate_table(read_table(xlsx_bytes(header, link, sum_)))

    # openpyxl stores no computed value, so a formula cell reads as blank: never as its result.
    assert [(p.row, p.column, p.problem) for p in result.problems] == [
        (2, "name", "required"),
        (3, "shared_ordinary", "shares 40 ordinary berths but has 0"),
    ]


def test_blank_rows_are_skipped_and_row_numbers_are_what_excel_shows() -> None:
    data = csv_bytes(row(code="A"), {}, row(code="B", lat="x"))
    result = validate_table(read_table(data))

    assert [(p.row, p.column) for p in result.problems] == [(4, "lat")]


# --- files --------------------------------------------------------------------------------


def test_csv_is_read_with_or_without_a_bom() -> None:
    plain = validate_table(read_table(csv_bytes(row())))
    with_bom = validate_table(read_table(csv_bytes(row(), bom=True)))

    assert plain.records == with_bom.records
    assert len(plain.records) == 1


def test_csv_in_gbk_is_refused_with_a_clear_error() -> None:
    data = csv_bytes(row()).decode("utf-8").encode("gbk")

    with pytest.raises(BadEncoding, match="CSV UTF-8"):
        read_table(data, filename="lots.csv")


@pytest.mark.parametrize(
    ("data", "filename"),
    [
        (PNG, "lots.xlsx"),
        (PNG, "lots.csv"),
        (b"%PDF-1.7\n\x00\x01binary", "lots.csv"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64, "lots.xls"),
        (zip_bytes({"readme.txt": b"hello"}), "lots.xlsx"),
        (b"PK\x03\x04 broken", "lots.xlsx"),
        (b"code,name\nA,B\n", "lots.xlsx"),
        (b"", "lots.csv"),
    ],
    ids=["png-named-xlsx", "png-named-csv", "pdf", "legacy-xls", "plain-zip", "broken-zip", "text-named-xlsx", "empty"],
)  # fmt: skip
def test_what_is_not_a_spreadsheet_is_refused_by_content(data: bytes, filename: str) -> None:
    with pytest.raises(NotASpreadsheet):
        read_table(data, filename=filename)


def test_a_damaged_workbook_is_refused() -> None:
    data = zip_bytes({"[Content_Types].xml": b"<Types/>", "xl/workbook.xml": b"<not closed"})

    with pytest.raises(NotASpreadsheet):
        read_table(data, filename="lots.xlsx")


def test_workbooks_are_parsed_with_defusedxml() -> None:
    assert openpyxl.DEFUSEDXML  # openpyxl uses defusedxml whenever it is installed
    workbook = xlsx_bytes([c.label for c in COLUMNS], [*ROW.values()])
    laughs = (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
        b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        b'<sheetData><row><c t="inlineStr"><is><t>&lol2;</t></is></c></row></sheetData>'
        b"</worksheet>"
    )
    with zipfile.ZipFile(io.BytesIO(workbook)) as original:
        parts = {name: original.read(name) for name in original.namelist()}
    parts["xl/worksheets/sheet1.xml"] = laughs

    with pytest.raises(NotASpreadsheet):
        read_table(zip_bytes(parts))


def test_a_zip_bomb_is_refused_before_it_is_unpacked() -> None:
    bomb = zip_bytes(
        {
            "[Content_Types].xml": b"<Types/>",
            "xl/workbook.xml": b"<workbook/>",
            "xl/worksheets/sheet1.xml": b" " * (51 * 1024 * 1024),
        }
    )
    assert len(bomb) < 200_000

    with pytest.raises(SpreadsheetTooLarge, match="unpack"):
        read_table(bomb)


def test_a_workbook_of_too_many_parts_is_refused() -> None:
    parts = {f"xl/media/{n}.bin": b"" for n in range(1_001)}

    with pytest.raises(SpreadsheetTooLarge, match="parts"):
        read_table(zip_bytes(parts))


def test_too_many_rows_are_refused() -> None:
    data = csv_bytes(*(row(code=f"C{n}") for n in range(MAX_ROWS + 1)))

    with pytest.raises(SpreadsheetTooLarge, match="rows"):
        read_table(data)


def test_an_oversized_file_is_refused_unread() -> None:
    with pytest.raises(UploadTooLarge):
        read_table(b"x" * (MAX_UPLOAD_BYTES + 1))


def test_written_workbooks_read_back_and_keep_text_as_text() -> None:
    header = ["编号 code", "名称 name", "开放日期 opened_on", "经度 lon"]
    data = write_xlsx(
        header, [["A", "=cmd|' /C calc'!A0", date(2022, 3, 1), 120.123456789]], title="t"
    )

    table = read_table(data, filename="lots.xlsx")
    assert table.header == tuple(header)
    assert table.rows == ((2, ("A", "=cmd|' /C calc'!A0", datetime(2022, 3, 1), 120.123456789)),)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        sheet = archive.read("xl/worksheets/sheet1.xml")
    assert b"<f>" not in sheet
