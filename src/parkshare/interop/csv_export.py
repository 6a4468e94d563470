"""The registry as CSV, for opening in Excel: UTF-8 with a byte-order mark (without it Excel
reads the file as GBK and the Chinese turns to mojibake), CRLF line ends, and the same columns
as the .xlsx export.

A text cell that begins like a formula (``=``, ``+``, ``-``, ``@``, a tab or a carriage return)
is written with a leading apostrophe so that Excel shows it as text and never evaluates it
(CSV injection). The .xlsx export is the one that imports back unchanged. Exports carry the
registry only: no plates, no personal data of drivers.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import date

from sqlalchemy.orm import Session

from parkshare.interop.presets import preset_of
from parkshare.interop.rows import COLUMNS, export_row
from parkshare.interop.sites import peak_by_category
from parkshare.interop.spreadsheet import Value
from parkshare.lots.repository import LotRepository

CSV_MEDIA_TYPE = "text/csv; charset=utf-8"
BOM = "\ufeff"
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def export_registry_csv(session: Session) -> bytes:
    """Every car park, by code, with the import's columns."""
    lots = sorted(LotRepository(session).all_with_rules(), key=lambda lot: lot.code)
    rows = (export_row(lot, preset_of(lot, peak_by_category(lot))) for lot in lots)
    return write_csv([column.label for column in COLUMNS], rows)


def write_csv(header: Sequence[str], rows: Iterable[Sequence[Value]]) -> bytes:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([_cell(label) for label in header])
    for row in rows:
        writer.writerow([_cell(value) for value in row])
    return (BOM + buffer.getvalue()).encode("utf-8")


def _cell(value: Value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, int | float):
        return str(value)
    return "'" + value if value.startswith(_FORMULA_STARTS) else value
