"""Use cases of fees: a car park's tariff as a value."""

from __future__ import annotations

from parkshare.fees.model import TariffRate, TariffRow
from parkshare.fees.tariff import RatePeriod, Tariff
from parkshare.lots.model import Lot


def tariff_of(lot: Lot) -> Tariff | None:
    """The tariff of a car park loaded with it (``None`` when it has none yet)."""
    row = lot.tariff
    if row is None:
        return None
    return Tariff(
        rates=tuple(RatePeriod(rate.start, rate.fen_per_hour) for rate in row.rates),
        free_minutes=row.free_minutes,
        billing_unit_minutes=row.billing_unit_minutes,
        daily_cap_fen=row.daily_cap_fen,
    )


def tariff_row(tariff: Tariff) -> TariffRow:
    return TariffRow(
        free_minutes=tariff.free_minutes,
        billing_unit_minutes=tariff.billing_unit_minutes,
        daily_cap_fen=tariff.daily_cap_fen,
        rates=[TariffRate(start=p.start, fen_per_hour=p.fen_per_hour) for p in tariff.rates],
    )
