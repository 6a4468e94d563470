"""Imports every table so that ``Base.metadata`` is complete (migrations, tests)."""

from parkshare.fees.model import TariffRate, TariffRow
from parkshare.lots.model import Lot, LotBerths, Operator
from parkshare.reports.model import Target
from parkshare.schedules.model import (
    CalendarOverride,
    SharingRuleBerths,
    SharingRuleRow,
    SharingSchedule,
    SuspensionRow,
)

__all__ = [
    "CalendarOverride",
    "Lot",
    "LotBerths",
    "Operator",
    "SharingRuleBerths",
    "SharingRuleRow",
    "SharingSchedule",
    "SuspensionRow",
    "Target",
    "TariffRate",
    "TariffRow",
]
