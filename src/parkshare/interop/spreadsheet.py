"""Reading and writing spreadsheets (.xlsx, and UTF-8 .csv for reading), refusing what is not
safe to open.

A file is judged by its content, never by its name. An .xlsx workbook is a zip archive of XML
parts: before openpyxl opens one we check the archive's entry count and total unpacked size
(a zip bomb is refused here, not discovered while unpacking), and openpyxl then reads it in
read-only mode, values only (``data_only``): a formula is never evaluated, its cached value is
read if the file has one. openpyxl parses the parts with defusedxml (installed with us), so
entity tricks are refused too. Blank rows are skipped; the row numbers we report are the ones
the user sees in Excel (the header is row 1).
"""

from __future__ import annotations

import csv
import io
import warnings
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any
from xml.etree.ElementTree import ParseError

import openpyxl
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.utils.exceptions import InvalidFileException
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from parkshare.errors import (
    BadEncoding,
    NotASpreadsheet,
    SpreadsheetTooLarge,
    UploadTooLarge,
)

MAX_UPLOAD_BYTES = 10 * 1024 * 1024
MAX_UNPACKED_BYTES = 50 * 1024 * 1024
MAX_ZIP_ENTRIES = 1_000
MAX_ROWS = 20_000  # data rows, not counting the header
MAX_SCANNED_ROWS = 5 * MAX_ROWS  # blank rows included: bounds the work on a padded sheet
MAX_COLUMNS = 64

XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_ZIP = b"PK\x03\x04"
_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # legacy .xls (and .doc, .msg)
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
# What a broken or hostile workbook can make openpyxl raise while it opens or reads it.
_UNREADABLE = (
    InvalidFileException,
    zipfile.BadZipFile,
    ParseError,
    KeyError,
    ValueError,
    TypeError,
    IndexError,
    AttributeError,
    EOFError,
    OSError,
)

Value = str | int | float | bool | date | datetime | None


@dataclass(frozen=True)
class Table:
    header: tuple[Value, ...]
    rows: tuple[tuple[int, tuple[Value, ...]], ...]  # (row number as shown, cells)


def read_table(data: bytes, *, filename: str = "") -> Table:
    """The first sheet of an .xlsx workbook, or a UTF-8 CSV file (with or without BOM)."""
    if len(data) > MAX_UPLOAD_BYTES:
        raise UploadTooLarge(
            f"The file has {len(data):,} bytes; the limit is {MAX_UPLOAD_BYTES:,}.",
            limit_bytes=MAX_UPLOAD_BYTES,
        )
    if data.startswith(_ZIP):
        return _read_xlsx(data)
    _refuse_binary(data, filename)
    return _read_csv(data)


def _refuse_binary(data: bytes, filename: str) -> None:
    if not data.strip():
        raise NotASpreadsheet("The file is empty.")
    if data.startswith(_OLE2):
        raise NotASpreadsheet(
            "This is a legacy binary Excel file (.xls) or a password-protected workbook; "
            "save it unprotected as .xlsx or as CSV UTF-8."
        )
    if data.startswith(_UTF16_BOMS):
        raise BadEncoding("The file is UTF-16 text; save it as CSV UTF-8 (逗号分隔) or .xlsx.")
    if filename.lower().endswith((".xlsx", ".xlsm")):
        raise NotASpreadsheet(f"{filename!r} is named as a workbook but is not one.")
    if b"\x00" in data[:8192]:
        raise NotASpreadsheet("The file is binary: neither an .xlsx workbook nor CSV text.")


def _read_xlsx(data: bytes) -> Table:
    _check_archive(data)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # openpyxl warns about styles it cannot read
            workbook = openpyxl.load_workbook(
                io.BytesIO(data), read_only=True, data_only=True, keep_links=False
            )
            try:
                if not workbook.worksheets:
                    raise NotASpreadsheet("The workbook has no worksheet.")
                sheet = workbook.worksheets[0]
                return _table(sheet.iter_rows(max_col=MAX_COLUMNS, values_only=True))
            finally:
                workbook.close()
    except _UNREADABLE as exc:
        raise NotASpreadsheet(f"The workbook cannot be read: {type(exc).__name__}.") from None


def _check_archive(data: bytes) -> None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            entries = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        raise NotASpreadsheet("The file is a damaged zip archive, not a workbook.") from None
    if len(entries) > MAX_ZIP_ENTRIES:
        raise SpreadsheetTooLarge(
            f"The workbook holds {len(entries):,} parts; the limit is {MAX_ZIP_ENTRIES:,}.",
            limit_entries=MAX_ZIP_ENTRIES,
        )
    unpacked = sum(entry.file_size for entry in entries)
    if unpacked > MAX_UNPACKED_BYTES:
        raise SpreadsheetTooLarge(
            f"The workbook would unpack to {unpacked:,} bytes; the limit is "
            f"{MAX_UNPACKED_BYTES:,}.",
            limit_unpacked_bytes=MAX_UNPACKED_BYTES,
        )
    names = {entry.filename for entry in entries}
    if not {"[Content_Types].xml", "xl/workbook.xml"} <= names:
        raise NotASpreadsheet("The file is a zip archive but not an Excel workbook (.xlsx).")


def _read_csv(data: bytes) -> Table:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise BadEncoding(
            f"The CSV file is not UTF-8 (byte {exc.start:,} cannot be read). Excel saves "
            "“CSV (逗号分隔)” in GBK: choose “CSV UTF-8 (逗号分隔)” or .xlsx instead."
        ) from None
    try:
        return _table(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as exc:
        raise NotASpreadsheet(f"The CSV file cannot be read: {exc}.") from None


def _table(rows: Iterable[Sequence[Any]]) -> Table:
    iterator = iter(rows)
    header = _trimmed(next(iterator, ()))
    body: list[tuple[int, tuple[Value, ...]]] = []
    for number, cells in enumerate(iterator, start=2):
        if number > MAX_SCANNED_ROWS:
            raise _too_many_rows()
        row = _trimmed(cells)
        if not any(_filled(cell) for cell in row):
            continue
        if len(body) == MAX_ROWS:
            raise _too_many_rows()
        body.append((number, row))
    return Table(header=header, rows=tuple(body))


def _trimmed(cells: Sequence[Any]) -> tuple[Value, ...]:
    row = list(cells[:MAX_COLUMNS])
    while row and not _filled(row[-1]):
        row.pop()
    return tuple(row)


def _filled(cell: Any) -> bool:
    return cell is not None and not (isinstance(cell, str) and not cell.strip())


def _too_many_rows() -> SpreadsheetTooLarge:
    return SpreadsheetTooLarge(
        f"The file has more than {MAX_ROWS:,} rows; split it.", limit_rows=MAX_ROWS
    )


def write_xlsx(header: Sequence[str], rows: Iterable[Sequence[Value]], *, title: str) -> bytes:
    """One sheet, a bold frozen header row. Text is always stored as text: a value that begins
    with ``=`` never becomes a formula."""
    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet(title)
    sheet.freeze_panes = "A2"
    for index, label in enumerate(header):
        sheet.column_dimensions[get_column_letter(index + 1)].width = max(12, len(label) + 4)
    bold = Font(bold=True)
    sheet.append([_cell(sheet, label, font=bold) for label in header])
    for row in rows:
        sheet.append([_cell(sheet, value) for value in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _cell(sheet: WriteOnlyWorksheet, value: Value, *, font: Font | None = None) -> Cell:
    if isinstance(value, str):
        value = ILLEGAL_CHARACTERS_RE.sub("", value)
    elif isinstance(value, date) and not isinstance(value, datetime):
        value = datetime.combine(value, time(0))  # shown as a date, see number_format
    cell = WriteOnlyCell(sheet, value=value)
    if isinstance(value, str):
        cell.data_type = "s"  # openpyxl would store "=…" as a formula
    if isinstance(value, date):
        cell.number_format = "yyyy-mm-dd"
    if font is not None:
        cell.font = font
    return cell
