"""Why a spreadsheet upload is refused. Each refusal has a stable code and a 4xx status; a
refused file changes nothing."""

from __future__ import annotations

from parkshare.errors import InvalidInput, ParkshareError


class ImportInvalid(InvalidInput):
    """One or more rows are bad: nothing was imported. ``details`` lists every problem."""

    code = "import_invalid"


class UploadTooLarge(ParkshareError):
    code = "upload_too_large"
    status = 413


class SpreadsheetTooLarge(ParkshareError):
    """Too many rows, or a workbook that would unpack to too much (a zip bomb)."""

    code = "spreadsheet_too_large"
    status = 413


class NotASpreadsheet(ParkshareError):
    code = "not_a_spreadsheet"
    status = 415


class BadEncoding(ParkshareError):
    code = "bad_encoding"
    status = 415
