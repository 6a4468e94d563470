"""One error hierarchy for every expected business outcome.

Each error carries a stable machine-readable ``code``, a human ``message`` and the HTTP
status the API answers with. The API has one exception handler for all of them and the CLI
prints ``code: message`` and exits non-zero.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class ErrorRead(BaseModel):
    """The body of every API error (4xx): what ``ParkshareError.to_dict`` gives."""

    code: str
    message: str
    details: dict[str, Any] = Field(default_factory=dict)  # left out when there are none


class ParkshareError(Exception):
    code = "error"
    status = 400

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.details:
            body["details"] = self.details
        return body


class NotFound(ParkshareError):
    code = "not_found"
    status = 404


class LotNotFound(NotFound):
    code = "lot_not_found"


class InvalidInput(ParkshareError):
    code = "invalid_input"
    status = 422


class InvalidInterval(InvalidInput):
    code = "invalid_interval"


class InvalidTimestamp(InvalidInput):
    code = "invalid_timestamp"


class InvalidSchedule(InvalidInput):
    code = "invalid_schedule"


class CalendarNotCovered(ParkshareError):
    code = "calendar_not_covered"
    status = 422


class Conflict(ParkshareError):
    code = "conflict"
    status = 409


class Forbidden(ParkshareError):
    code = "forbidden"
    status = 403


class NoCapacity(Conflict):
    code = "no_capacity"


class NotServable(ParkshareError):
    """The interval cannot be booked at this car park; ``code`` is the availability reason."""

    status = 409

    def __init__(self, code: str, message: str, **details: object) -> None:
        super().__init__(message, **details)
        self.code = code


class IdempotencyKeyReused(InvalidInput):
    code = "idempotency_key_reused"


class Barred(Forbidden):
    code = "barred"


class BookingLimitReached(ParkshareError):
    code = "booking_limit_reached"
    status = 429


class InvalidTransition(Conflict):
    code = "invalid_transition"


class InvalidPlate(InvalidInput):
    code = "invalid_plate"


class PlateAlreadyBooked(Conflict):
    code = "plate_already_booked"


class StartsInPast(InvalidInput):
    code = "starts_in_past"


class TooFarAhead(InvalidInput):
    code = "too_far_ahead"


class CancellationRefused(Conflict):
    code = "cancellation_refused"


class LotNotInScope(Forbidden):
    code = "lot_not_in_scope"


# Spreadsheet uploads: a refused file changes nothing.


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


# --- accounts and access


class NotSignedIn(ParkshareError):
    code = "not_signed_in"
    status = 401


class WrongCredentials(ParkshareError):
    code = "wrong_credentials"
    status = 401


class TooManyAttempts(ParkshareError):
    """Sign-in throttled (by client address) or the account locked after failed attempts."""

    code = "too_many_attempts"
    status = 429


class CsrfFailed(Forbidden):
    code = "csrf_failed"


class NotYourCarPark(Forbidden):
    code = "not_your_car_park"


class NotYourPlate(Forbidden):
    code = "not_your_plate"


class PlainHttpError(ParkshareError):
    """A routing error (an unknown page: 404, a wrong method: 405) shown as a web page."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code


class LoginTaken(Conflict):
    code = "login_taken"


class WeakPassword(InvalidInput):
    code = "weak_password"


class InvalidPhone(InvalidInput):
    code = "invalid_phone"
