"""Use cases of fees: a car park's tariff as a value, and replacing it."""

from __future__ import annotations

from sqlalchemy.orm import Session, object_session

from parkshare.errors import LotNotFound
from parkshare.fees.model import TariffRate, TariffRow
from parkshare.fees.tariff import RatePeriod, Tariff
from parkshare.lots.model import Lot
from parkshare.lots.repository import LotRepository
from parkshare.lots.service import get_lot


def tariff_of(lot: Lot) -> Tariff | None:
    """The tariff of a car park loaded with it (``None`` when it has none yet)."""
    row = lot.tariff
    if row is None:
        return None
    rates = tuple(RatePeriod(rate.start, rate.fen_per_hour) for rate in row.rates)
    return tariff_value(rates, row.free_minutes, row.billing_unit_minutes, row.daily_cap_fen)


def tariff_value(
    rates: tuple[RatePeriod, ...], free_minutes: int, billing_unit_minutes: int, cap: int | None
) -> Tariff:
    """A stored tariff's value."""
    return Tariff(
        rates=rates,
        free_minutes=free_minutes,
        billing_unit_minutes=billing_unit_minutes,
        daily_cap_fen=cap,
    )


def tariff_row(tariff: Tariff) -> TariffRow:
    return TariffRow(
        free_minutes=tariff.free_minutes,
        billing_unit_minutes=tariff.billing_unit_minutes,
        daily_cap_fen=tariff.daily_cap_fen,
        rates=[TariffRate(start=p.start, fen_per_hour=p.fen_per_hour) for p in tariff.rates],
    )


def save_tariff(session: Session, code: str, tariff: Tariff) -> Lot:
    """Replace a car park's tariff under its lock. The version bump makes cached profiles
    (which price new bookings) reload; bookings already made keep their estimate."""
    if LotRepository(session).lock_by_code(code) is None:
        raise LotNotFound(f"No car park has the code {code!r}.", lot=code)
    lot = get_lot(session, code)
    if tariff_of(lot) == tariff:
        return lot
    set_tariff(lot, tariff)
    session.flush()
    return lot


def set_tariff(lot: Lot, tariff: Tariff) -> None:
    """Replace the tariff of a car park loaded with it."""
    row = lot.tariff
    if row is None:
        lot.tariff = tariff_row(tariff)
    else:
        session = object_session(row)
        if session is not None and row.rates:
            # The old rates go first: written in one flush with the new ones, a new rate would
            # meet an old one's unique (tariff, start) before that is deleted.
            row.rates = []
            session.flush()
        row.free_minutes = tariff.free_minutes
        row.billing_unit_minutes = tariff.billing_unit_minutes
        row.daily_cap_fen = tariff.daily_cap_fen
        row.rates = [TariffRate(start=p.start, fen_per_hour=p.fen_per_hour) for p in tariff.rates]
    lot.version = (lot.version or 0) + 1
