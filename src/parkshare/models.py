"""Imports every table so that ``Base.metadata`` is complete (migrations, tests)."""

from parkshare.accounts.model import Account, AuthToken, DriverPlate, LoginAttempt
from parkshare.credit.model import BlacklistEntry, Violation
from parkshare.fees.model import TariffRate, TariffRow
from parkshare.idempotency.model import IdempotencyRecord
from parkshare.ingest.model import (
    CountReport,
    GateEvent,
    IngestKey,
    IngestKeyLot,
    ParkingSession,
)
from parkshare.lots.model import Lot, LotBerths, Operator
from parkshare.outbox.model import OutboxMessage
from parkshare.passes.model import ParkingPass, PassApplication, PassOffer
from parkshare.reports.model import Target
from parkshare.reservations.model import Reservation, WaitlistEntry
from parkshare.schedules.model import (
    CalendarOverride,
    SharingRuleBerths,
    SharingRuleRow,
    SharingSchedule,
    SuspensionRow,
)
from parkshare.search.changes import LotChange

__all__ = [
    "Account",
    "AuthToken",
    "BlacklistEntry",
    "CalendarOverride",
    "CountReport",
    "DriverPlate",
    "GateEvent",
    "IdempotencyRecord",
    "IngestKey",
    "IngestKeyLot",
    "LoginAttempt",
    "Lot",
    "LotBerths",
    "LotChange",
    "Operator",
    "OutboxMessage",
    "ParkingPass",
    "ParkingSession",
    "PassApplication",
    "PassOffer",
    "Reservation",
    "SharingRuleBerths",
    "SharingRuleRow",
    "SharingSchedule",
    "SuspensionRow",
    "Target",
    "TariffRate",
    "TariffRow",
    "Violation",
    "WaitlistEntry",
]
