"""Strict parsing of instants, and the clocks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from parkshare.clock import FixedClock, SystemClock, parse_instant
from parkshare.errors import InvalidTimestamp

SHANGHAI = ZoneInfo("Asia/Shanghai")


def test_parse_instant_keeps_the_given_offset() -> None:
    parsed = parse_instant("2022-06-24T19:00+08:00")
    assert parsed == datetime(2022, 6, 24, 11, 0, tzinfo=UTC)
    assert parsed.utcoffset() == timedelta(hours=8)


def test_parse_instant_reads_negative_offsets() -> None:
    parsed = parse_instant("2022-06-24T06:00-05:00")
    assert parsed == datetime(2022, 6, 24, 11, 0, tzinfo=UTC)
    assert parsed.utcoffset() == timedelta(hours=-5)


def test_parse_instant_reads_z_as_utc() -> None:
    assert parse_instant("2022-06-24T11:00:00Z") == datetime(2022, 6, 24, 11, 0, tzinfo=UTC)


def test_parse_instant_ignores_surrounding_whitespace() -> None:
    assert parse_instant("  2022-06-24T19:00+08:00\n") == datetime(2022, 6, 24, 11, tzinfo=UTC)


def test_parse_instant_refuses_a_naive_instant_without_assume_tz() -> None:
    with pytest.raises(InvalidTimestamp) as caught:
        parse_instant("2022-06-24T19:00", name="start")
    assert caught.value.code == "invalid_timestamp"
    assert "time zone" in caught.value.message
    assert caught.value.details == {"field": "start"}


def test_parse_instant_reads_a_naive_instant_in_assume_tz() -> None:
    parsed = parse_instant("2022-06-24T19:00", assume_tz=SHANGHAI)
    assert parsed == datetime(2022, 6, 24, 11, 0, tzinfo=UTC)
    assert parsed.tzinfo is SHANGHAI


def test_parse_instant_prefers_the_given_offset_over_assume_tz() -> None:
    parsed = parse_instant("2022-06-24T19:00+00:00", assume_tz=SHANGHAI)
    assert parsed == datetime(2022, 6, 24, 19, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "text",
    ["", "tomorrow", "2022-13-01T00:00+08:00", "2022-06-24T25:00+08:00", "19:00+08:00"],
)
def test_parse_instant_refuses_garbage(text: str) -> None:
    with pytest.raises(InvalidTimestamp) as caught:
        parse_instant(text, name="end")
    assert caught.value.code == "invalid_timestamp"
    assert "ISO-8601" in caught.value.message
    assert caught.value.details == {"field": "end"}


@pytest.mark.parametrize("text", ["9999-12-31T23:59+08:00", "1969-12-31T23:59+00:00"])
def test_parse_instant_refuses_years_outside_2000_to_2100(text: str) -> None:
    with pytest.raises(InvalidTimestamp) as caught:
        parse_instant(text)
    assert caught.value.code == "invalid_timestamp"
    assert "2000–2100" in caught.value.message


def test_parse_instant_refuses_a_far_year_given_as_naive_local_time() -> None:
    with pytest.raises(InvalidTimestamp):
        parse_instant("9999-12-31T23:59", assume_tz=SHANGHAI)


@pytest.mark.parametrize("text", ["2000-01-01T00:00+08:00", "2100-12-31T23:59+08:00"])
def test_parse_instant_accepts_the_first_and_last_allowed_years(text: str) -> None:
    assert parse_instant(text).tzinfo is not None


def test_fixed_clock_stands_still_until_set() -> None:
    at = datetime(2022, 6, 24, 10, 0, tzinfo=UTC)
    clock = FixedClock(at)
    assert clock.now() == at
    assert clock.now() == at
    later = at + timedelta(hours=3)
    clock.set(later)
    assert clock.now() == later


def test_system_clock_gives_an_aware_utc_instant() -> None:
    now = SystemClock().now()
    assert now.utcoffset() == timedelta(0)
    assert abs(now - datetime.now(UTC)) < timedelta(minutes=1)
