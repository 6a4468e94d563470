"""Availability over [start, end): least shared capacity minus commitments, or why not."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from parkshare.availability.rules import Availability, Commitment, Unservable, availability
from parkshare.calendar import DayType, OfficialCalendar
from parkshare.errors import InvalidInterval, InvalidTimestamp
from parkshare.schedules import presets
from parkshare.schedules.rules import (
    SHANGHAI,
    BerthCategory,
    Schedule,
    SharingRule,
    Suspension,
)

ORDINARY = BerthCategory.ORDINARY
EV = BerthCategory.EV_CHARGING
CALENDAR = OfficialCalendar()
QINGDAO = Schedule(
    presets.qingdao_institutional({ORDINARY: 10, EV: 2}), presets.QINGDAO_QUIET_HOURS
)
MALL = Schedule(presets.mall({ORDINARY: 100}, {ORDINARY: 20}))


def at(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


def ask(
    start: datetime,
    end: datetime,
    *commitments: Commitment,
    schedule: Schedule = QINGDAO,
    category: BerthCategory = ORDINARY,
) -> Availability:
    return availability(schedule, CALENDAR, commitments, start, end, category=category)


# Tuesday 2022-06-21 18:00 → Wednesday 07:30 is a Qingdao window; quiet 22:00–06:00.
EVENING = (at(2022, 6, 21, 18), at(2022, 6, 21, 21))


# -- free berths --------------------------------------------------------------------------


def test_free_is_the_shared_capacity_when_nothing_is_committed() -> None:
    answer = ask(*EVENING)
    assert answer.servable
    assert (answer.free, answer.shared) == (10, 10)
    assert answer.free_by_category == {ORDINARY: 10, EV: 2, BerthCategory.ACCESSIBLE: 0}


def test_commitment_over_the_whole_interval_takes_its_berth() -> None:
    answer = ask(*EVENING, Commitment(at(2022, 6, 21, 18), at(2022, 6, 22, 7, 30)))
    assert (answer.free, answer.shared) == (9, 10)


def test_commitment_overlapping_part_of_the_interval_counts_at_its_peak() -> None:
    answer = ask(*EVENING, Commitment(at(2022, 6, 21, 20), at(2022, 6, 21, 20, 30), berths=3))
    assert answer.free == 7


def test_commitment_from_before_the_interval_still_counts() -> None:
    answer = ask(*EVENING, Commitment(at(2022, 6, 21, 17), at(2022, 6, 21, 18, 1), berths=2))
    assert answer.free == 8


def test_back_to_back_commitments_do_not_add_up() -> None:
    answer = ask(
        *EVENING,
        Commitment(at(2022, 6, 21, 18), at(2022, 6, 21, 19, 30), berths=4),
        Commitment(at(2022, 6, 21, 19, 30), at(2022, 6, 21, 21), berths=4),
    )
    assert answer.free == 6


def test_overlapping_commitments_add_up() -> None:
    answer = ask(
        *EVENING,
        Commitment(at(2022, 6, 21, 18), at(2022, 6, 21, 19, 30), berths=4),
        Commitment(at(2022, 6, 21, 19), at(2022, 6, 21, 21), berths=4),
    )
    assert answer.free == 2


def test_commitments_outside_the_interval_do_not_count() -> None:
    answer = ask(
        *EVENING,
        Commitment(at(2022, 6, 21, 21), at(2022, 6, 22, 7, 30), berths=5),  # starts at the end
        Commitment(at(2022, 6, 20, 18), at(2022, 6, 21, 7, 30), berths=5),  # last night
    )
    assert answer.free == 10


def test_commitments_of_another_category_do_not_count() -> None:
    answer = ask(*EVENING, Commitment(*EVENING, category=EV, berths=2))
    assert answer.free == 10
    assert answer.free_by_category[EV] == 0


def test_availability_of_another_category() -> None:
    answer = ask(*EVENING, Commitment(*EVENING, category=EV), category=EV)
    assert (answer.category, answer.free, answer.shared) == (EV, 1, 2)


def test_free_is_never_negative_when_overcommitted() -> None:
    answer = ask(*EVENING, Commitment(*EVENING, berths=12))
    assert answer.free == 0
    assert answer.servable


def test_free_is_the_least_over_a_window_with_changing_capacity() -> None:
    # The mall shares 100 at night and 20 while trading (from 09:30 on working days).
    night = ask(at(2022, 6, 21, 22), at(2022, 6, 22, 9, 30), schedule=MALL)
    into_day = ask(at(2022, 6, 21, 22), at(2022, 6, 22, 9, 31), schedule=MALL)
    assert (night.free, night.shared) == (100, 100)
    assert (into_day.free, into_day.shared) == (20, 20)


def test_commitment_counts_against_the_capacity_at_its_own_time() -> None:
    # 85 held overnight leave 15 at night; the trading day's 20 are all free after 09:30.
    held = Commitment(at(2022, 6, 21, 22), at(2022, 6, 22, 9, 30), berths=85)
    answer = ask(at(2022, 6, 21, 23), at(2022, 6, 22, 12), held, schedule=MALL)
    assert answer.free == 15


def test_commitment_during_the_low_capacity_part_sets_the_minimum() -> None:
    held = Commitment(at(2022, 6, 22, 10), at(2022, 6, 22, 11), berths=18)
    answer = ask(at(2022, 6, 21, 23), at(2022, 6, 22, 12), held, schedule=MALL)
    assert answer.free == 2


def test_interval_given_in_utc_gets_the_same_answer() -> None:
    start, end = EVENING
    in_utc = ask(start.astimezone(UTC), end.astimezone(UTC), Commitment(*EVENING))
    assert (in_utc.free, in_utc.reason) == (9, None)


# -- the window and its must-leave-by -----------------------------------------------------


def test_answer_carries_the_window_and_its_must_leave_by() -> None:
    answer = ask(*EVENING)
    assert (answer.window_start, answer.must_leave_by) == (
        at(2022, 6, 21, 18),
        at(2022, 6, 22, 7, 30),
    )


def test_interval_ending_exactly_at_must_leave_by_is_servable() -> None:
    answer = ask(at(2022, 6, 24, 19), at(2022, 6, 27, 7, 30))  # Friday → Monday
    assert answer.servable
    assert answer.free == 10


def test_interval_across_the_national_day_week_is_servable() -> None:
    answer = ask(at(2022, 9, 30, 19), at(2022, 10, 8, 7, 30))
    assert answer.servable
    assert answer.must_leave_by == at(2022, 10, 8, 7, 30)


def test_round_the_clock_window_has_no_must_leave_by_and_is_servable() -> None:
    always = Schedule(
        (SharingRule(frozenset(DayType), time(0), time(0), {ORDINARY: 5}, end_day_offset=1),)
    )
    answer = ask(at(2022, 6, 21, 12), at(2022, 6, 23, 12), schedule=always)
    assert answer.servable
    assert (answer.window_start, answer.must_leave_by) == (None, None)
    assert answer.free == 5


def test_interval_beyond_the_horizon_sees_the_capacity_there() -> None:
    # Round the clock: 10 berths, but only 3 on holidays (Mid-Autumn 2022: 10–12 September).
    fewer_on_holidays = Schedule(
        (
            SharingRule(
                frozenset(DayType) - {DayType.HOLIDAY},
                time(0),
                time(0),
                {ORDINARY: 10},
                end_day_offset=1,
            ),
            SharingRule(
                frozenset({DayType.HOLIDAY}), time(0), time(0), {ORDINARY: 3}, end_day_offset=1
            ),
        )
    )
    start, end = at(2022, 8, 1, 12), at(2022, 9, 11, 12)
    answer = availability(fewer_on_holidays, CALENDAR, [], start, end, horizon_days=31)
    assert (answer.free, answer.shared) == (3, 3)


# -- why an interval cannot be served -----------------------------------------------------


def test_interval_starting_outside_sharing_hours_is_unservable() -> None:
    answer = ask(at(2022, 6, 21, 12), at(2022, 6, 21, 19))  # Tuesday noon
    assert answer.reason is Unservable.OUTSIDE_SHARING_HOURS
    assert not answer.servable
    assert (answer.free, answer.window_start, answer.must_leave_by) == (0, None, None)


def test_interval_that_straddles_two_windows_is_unservable() -> None:
    answer = ask(at(2022, 6, 21, 19), at(2022, 6, 22, 19))  # Tuesday 19:00 → Wednesday 19:00
    assert answer.reason is Unservable.SPANS_WINDOWS
    assert answer.free == 0
    assert answer.free_by_category == {c: 0 for c in BerthCategory}
    assert answer.must_leave_by == at(2022, 6, 22, 7, 30)


def test_interval_past_the_must_leave_by_by_a_minute_is_unservable() -> None:
    answer = ask(at(2022, 6, 21, 19), at(2022, 6, 22, 7, 31))
    assert answer.reason is Unservable.SPANS_WINDOWS


@pytest.mark.parametrize("entry", [at(2022, 6, 21, 22), at(2022, 6, 21, 23, 59)])
def test_entry_in_quiet_hours_is_unservable(entry: datetime) -> None:
    assert ask(entry, at(2022, 6, 22, 7)).reason is Unservable.ENTRY_IN_QUIET_HOURS


def test_exit_in_quiet_hours_is_unservable() -> None:
    assert ask(at(2022, 6, 21, 19), at(2022, 6, 21, 23)).reason is Unservable.EXIT_IN_QUIET_HOURS


def test_exit_when_quiet_hours_begin_or_end_is_servable() -> None:
    assert ask(at(2022, 6, 21, 19), at(2022, 6, 21, 22)).servable
    assert ask(at(2022, 6, 21, 19), at(2022, 6, 22, 6)).servable


def test_interval_overlapping_a_suspension_is_suspended() -> None:
    event = Suspension(at(2022, 6, 25, 10), at(2022, 6, 25, 14), "marathon")
    schedule = Schedule(QINGDAO.rules, QINGDAO.quiet_hours, suspensions=(event,))
    starts_before = ask(at(2022, 6, 24, 19), at(2022, 6, 25, 12), schedule=schedule)
    starts_inside = ask(at(2022, 6, 25, 11), at(2022, 6, 25, 20), schedule=schedule)
    assert starts_before.reason is Unservable.SUSPENDED
    assert starts_inside.reason is Unservable.SUSPENDED


def test_interval_touching_a_suspension_is_servable() -> None:
    event = Suspension(at(2022, 6, 25, 10), at(2022, 6, 25, 14), "marathon")
    schedule = Schedule(QINGDAO.rules, QINGDAO.quiet_hours, suspensions=(event,))
    before = ask(at(2022, 6, 24, 19), at(2022, 6, 25, 10), schedule=schedule)
    after = ask(at(2022, 6, 25, 14), at(2022, 6, 25, 20), schedule=schedule)
    assert (before.servable, before.must_leave_by) == (True, at(2022, 6, 25, 10))
    assert (after.servable, after.window_start) == (True, at(2022, 6, 25, 14))


# -- invalid input ------------------------------------------------------------------------


@pytest.mark.parametrize("length", [timedelta(0), timedelta(hours=-1)], ids=["empty", "reversed"])
def test_empty_or_reversed_interval_is_invalid(length: timedelta) -> None:
    start = at(2022, 6, 21, 19)
    with pytest.raises(InvalidInterval) as caught:
        ask(start, start + length)
    assert caught.value.code == "invalid_interval"
    assert caught.value.status == 422


def test_naive_interval_is_refused() -> None:
    with pytest.raises(InvalidTimestamp) as caught:
        ask(datetime(2022, 6, 21, 19), at(2022, 6, 21, 21))
    assert caught.value.code == "invalid_timestamp"
    with pytest.raises(InvalidTimestamp):
        ask(at(2022, 6, 21, 19), datetime(2022, 6, 21, 21))


# -- property: the answer equals a minute-by-minute count ---------------------------------

# The mall's window from Sunday 2022-06-19 22:00 to Saturday 2022-06-25 09:30: 100 berths at
# night, 20 while trading 09:30–22:00 on the working days in between.
WINDOW_START = at(2022, 6, 19, 22)
WINDOW_MINUTES = int((at(2022, 6, 25, 9, 30) - WINDOW_START) / timedelta(minutes=1))
MINUTE = timedelta(minutes=1)


def mall_capacity(t: datetime) -> int:
    local = t.astimezone(SHANGHAI)
    trading = local.weekday() < 5 and time(9, 30) <= local.time() < time(22)
    return 20 if trading else 100


@st.composite
def commitments(draw: st.DrawFn) -> Commitment:
    start = draw(st.integers(-600, WINDOW_MINUTES))
    length = draw(st.integers(1, 3000))
    return Commitment(
        WINDOW_START + start * MINUTE,
        WINDOW_START + (start + length) * MINUTE,
        category=draw(st.sampled_from([ORDINARY, EV])),
        berths=draw(st.integers(1, 30)),
    )


@st.composite
def intervals(draw: st.DrawFn) -> tuple[datetime, datetime]:
    start = draw(st.integers(0, WINDOW_MINUTES - 1))
    end = draw(st.integers(start + 1, min(start + 2880, WINDOW_MINUTES)))
    return WINDOW_START + start * MINUTE, WINDOW_START + end * MINUTE


@settings(deadline=None)
@given(interval=intervals(), held=st.lists(commitments(), max_size=8))
def test_free_equals_a_minute_by_minute_count(
    interval: tuple[datetime, datetime], held: list[Commitment]
) -> None:
    start, end = interval
    answer = ask(start, end, *held, schedule=MALL)
    minutes = [start + n * MINUTE for n in range(int((end - start) / MINUTE))]
    expected = min(
        mall_capacity(t)
        - sum(c.berths for c in held if c.category is ORDINARY and c.start <= t < c.end)
        for t in minutes
    )
    assert answer.servable
    assert answer.free == max(0, expected)
    assert answer.shared == min(mall_capacity(t) for t in minutes)
