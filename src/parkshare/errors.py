"""One error hierarchy for every expected business outcome.

Each error carries a stable machine-readable ``code``, a human ``message`` and the HTTP
status the API answers with. The API has one exception handler for all of them and the CLI
prints ``code: message`` and exits non-zero.
"""

from __future__ import annotations

from typing import Any


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
