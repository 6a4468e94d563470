"""What a stay costs under a tariff, in integer fen."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from parkshare.errors import InvalidInput, InvalidTimestamp
from parkshare.fees.tariff import RatePeriod, Tariff
from parkshare.schedules.rules import SHANGHAI

DAY_AND_NIGHT = (RatePeriod(time(8), 500), RatePeriod(time(20), 100))
TARIFF = Tariff(DAY_AND_NIGHT, free_minutes=15, daily_cap_fen=3000)
UNCAPPED = Tariff(DAY_AND_NIGHT)


def at(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


def stay(tariff: Tariff, entry: datetime, **length: float) -> int:
    return tariff.fee(entry, entry + timedelta(**length))


MORNING = at(2022, 6, 21, 8)


# -- free minutes and billing units --------------------------------------------------------


@pytest.mark.parametrize("minutes", [0, 1, 15])
def test_stay_within_the_free_minutes_is_free(minutes: int) -> None:
    assert stay(TARIFF, MORNING, minutes=minutes) == 0


def test_stay_past_the_free_minutes_is_charged_from_the_first_minute() -> None:
    assert stay(TARIFF, MORNING, minutes=16) == 500


@pytest.mark.parametrize(("minutes", "fee"), [(60, 500), (61, 1000), (120, 1000), (121, 1500)])
def test_each_started_unit_is_charged_in_full(minutes: int, fee: int) -> None:
    assert stay(TARIFF, MORNING, minutes=minutes) == fee


def test_shorter_billing_unit_charges_its_share_of_the_hourly_rate() -> None:
    quarter_hours = Tariff((RatePeriod(time(0), 400),), billing_unit_minutes=15)
    assert stay(quarter_hours, MORNING, minutes=1) == 100
    assert stay(quarter_hours, MORNING, minutes=16) == 200
    assert stay(quarter_hours, MORNING, minutes=60) == 400


def test_without_free_minutes_a_zero_length_stay_is_free() -> None:
    assert UNCAPPED.fee(MORNING, MORNING) == 0


def test_without_free_minutes_one_minute_is_charged() -> None:
    assert stay(UNCAPPED, MORNING, minutes=1) == 500


# -- rates by period ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("clock", "rate"),
    [(time(7, 59), 100), (time(8), 500), (time(19, 59), 500), (time(20), 100), (time(0), 100)],
)
def test_rate_in_force_at_a_time_of_day(clock: time, rate: int) -> None:
    assert TARIFF.rate_at(datetime.combine(MORNING.date(), clock, SHANGHAI)) == rate


def test_rate_is_read_in_local_time() -> None:
    local_0900 = datetime(2022, 6, 21, 1, 0, tzinfo=UTC)
    assert TARIFF.rate_at(local_0900) == 500


def test_stay_across_a_rate_boundary_pays_each_period_its_rate() -> None:
    assert stay(UNCAPPED, at(2022, 6, 21, 19), hours=2) == 500 + 100
    assert stay(UNCAPPED, at(2022, 6, 21, 18), hours=4) == 2 * 500 + 2 * 100


def test_stay_across_midnight_keeps_the_night_rate_until_the_day_period() -> None:
    assert stay(UNCAPPED, at(2022, 6, 21, 23), hours=10) == 9 * 100 + 500


def test_full_uncapped_day_pays_every_hour() -> None:
    assert stay(UNCAPPED, MORNING, days=1) == 12 * 500 + 12 * 100


def test_entry_given_in_utc_is_charged_at_local_rates() -> None:
    entry = datetime(2022, 6, 21, 11, 0, tzinfo=UTC)  # 19:00 in Qingdao
    assert UNCAPPED.fee(entry, entry + timedelta(hours=2)) == 600


# -- the daily cap --------------------------------------------------------------------------


def test_daily_cap_limits_a_long_day() -> None:
    assert stay(TARIFF, MORNING, hours=12) == 3000  # 6000 uncapped


def test_daily_cap_does_not_raise_a_cheaper_stay() -> None:
    assert stay(TARIFF, MORNING, hours=5) == 2500


def test_daily_cap_restarts_24_hours_after_entry() -> None:
    assert stay(TARIFF, MORNING, hours=25) == 3000 + 500


def test_daily_cap_counts_from_entry_not_from_midnight() -> None:
    # 18:00 → 18:00 next day + 2 h: the second block starts at 18:00, at the day rate.
    assert stay(TARIFF, at(2022, 6, 21, 18), hours=26) == 3000 + 2 * 500


def test_multi_day_stay_is_capped_each_day() -> None:
    assert stay(TARIFF, MORNING, days=3) == 3 * 3000
    assert stay(TARIFF, MORNING, days=3, minutes=1) == 3 * 3000 + 500


def test_zero_daily_cap_makes_every_stay_free() -> None:
    free = Tariff(DAY_AND_NIGHT, daily_cap_fen=0)
    assert stay(free, MORNING, hours=30) == 0


@given(
    entry_minute=st.integers(0, 7 * 24 * 60),
    minutes=st.integers(0, 5 * 24 * 60),
    more=st.integers(1, 24 * 60),
)
def test_staying_longer_never_costs_less(entry_minute: int, minutes: int, more: int) -> None:
    entry = MORNING + timedelta(minutes=entry_minute)
    shorter = stay(TARIFF, entry, minutes=minutes)
    longer = stay(TARIFF, entry, minutes=minutes + more)
    assert shorter <= longer


@given(entry_minute=st.integers(0, 7 * 24 * 60), minutes=st.integers(1, 5 * 24 * 60))
def test_fee_never_exceeds_the_cap_for_each_started_day(entry_minute: int, minutes: int) -> None:
    entry = MORNING + timedelta(minutes=entry_minute)
    started_days = -(-minutes // (24 * 60))
    assert stay(TARIFF, entry, minutes=minutes) <= 3000 * started_days


# -- invalid stays and tariffs --------------------------------------------------------------


def test_stay_ending_before_it_starts_is_invalid() -> None:
    with pytest.raises(InvalidInput) as caught:
        TARIFF.fee(MORNING, MORNING - timedelta(minutes=1))
    assert caught.value.code == "invalid_input"


def test_stay_with_naive_times_is_refused() -> None:
    with pytest.raises(InvalidTimestamp):
        TARIFF.fee(datetime(2022, 6, 21, 8), MORNING + timedelta(hours=1))


def test_tariff_without_rates_is_invalid() -> None:
    with pytest.raises(InvalidInput, match="at least one rate"):
        Tariff(())


@pytest.mark.parametrize(
    "rates",
    [
        (RatePeriod(time(8), 500), RatePeriod(time(8), 100)),
        (RatePeriod(time(20), 100), RatePeriod(time(8), 500)),
    ],
    ids=["repeated", "decreasing"],
)
def test_tariff_with_rate_periods_out_of_order_is_invalid(rates: tuple[RatePeriod, ...]) -> None:
    with pytest.raises(InvalidInput, match="increasing"):
        Tariff(rates)


def test_tariff_with_a_negative_rate_is_invalid() -> None:
    with pytest.raises(InvalidInput, match="negative"):
        Tariff((RatePeriod(time(8), -1),))


def test_tariff_with_negative_free_minutes_is_invalid() -> None:
    with pytest.raises(InvalidInput, match="negative"):
        Tariff(DAY_AND_NIGHT, free_minutes=-1)


@pytest.mark.parametrize("unit", [0, 24 * 60 + 1])
def test_tariff_with_a_billing_unit_outside_1_minute_to_24_hours_is_invalid(unit: int) -> None:
    with pytest.raises(InvalidInput, match="billing unit"):
        Tariff(DAY_AND_NIGHT, billing_unit_minutes=unit)


def test_tariff_with_a_negative_daily_cap_is_invalid() -> None:
    with pytest.raises(InvalidInput, match="cap"):
        Tariff(DAY_AND_NIGHT, daily_cap_fen=-1)


def test_pass_holder_pays_nothing_inside_the_pass_windows() -> None:
    tariff = Tariff(rates=(RatePeriod(time(0), 100),), free_minutes=0)
    sh = SHANGHAI
    entry = datetime(2022, 7, 5, 17, 0, tzinfo=sh)
    window = (datetime(2022, 7, 5, 18, 0, tzinfo=sh), datetime(2022, 7, 6, 7, 30, tzinfo=sh))
    # 17:00–18:00 before the window and 07:30–09:00 after it are charged: 1 h + 2 started hours
    assert tariff.fee_outside(entry, datetime(2022, 7, 6, 9, 0, tzinfo=sh), [window]) == 300
    assert tariff.fee_outside(window[0], window[1], [window]) == 0
    assert tariff.fee_outside(entry, window[0], []) == tariff.fee(entry, window[0])
