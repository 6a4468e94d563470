"""Sharing rules, quiet hours, suspensions and the windows they make; the ready-made presets."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from parkshare.calendar import DAYS_OFF, WORKING_DAYS, DayType, OfficialCalendar
from parkshare.errors import InvalidSchedule, InvalidTimestamp
from parkshare.schedules import presets
from parkshare.schedules.rules import (
    NO_BERTHS,
    SHANGHAI,
    BerthCategory,
    Berths,
    QuietHours,
    Schedule,
    SharingRule,
    Suspension,
    Window,
    segments_on,
    window_at,
    windows_between,
)

ORDINARY = BerthCategory.ORDINARY
EV = BerthCategory.EV_CHARGING
CALENDAR = OfficialCalendar()
QINGDAO = Schedule(presets.qingdao_institutional({ORDINARY: 10}), presets.QINGDAO_QUIET_HOURS)
ALL_DAYS = frozenset(DayType)


def at(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


def berths(**counts: int) -> dict[BerthCategory, int]:
    return {category: counts.get(category.value, 0) for category in BerthCategory}


def window(schedule: Schedule, instant: datetime, calendar: OfficialCalendar = CALENDAR) -> Window:
    found = window_at(schedule, calendar, instant)
    assert found is not None, f"no window at {instant}"
    return found


def bounds(found: Window | None) -> tuple[datetime | None, datetime | None] | None:
    return None if found is None else (found.start, found.end)


# -- the Qingdao institutional rules ------------------------------------------------------------


def test_workday_window_runs_from_1800_to_0730_the_next_day() -> None:
    found = window(QINGDAO, at(2022, 6, 21, 19))  # Tuesday
    assert (found.start, found.end) == (at(2022, 6, 21, 18), at(2022, 6, 22, 7, 30))


def test_must_leave_by_is_the_end_of_the_window() -> None:
    assert window(QINGDAO, at(2022, 6, 21, 19)).must_leave_by == at(2022, 6, 22, 7, 30)


def test_window_crosses_midnight_with_the_same_capacity() -> None:
    found = window(QINGDAO, at(2022, 6, 21, 19))
    for instant in (at(2022, 6, 21, 23, 59), at(2022, 6, 22, 0, 0), at(2022, 6, 22, 3)):
        assert found.shared_at(instant) == berths(ordinary=10)


def test_window_queried_from_its_morning_part_is_the_same_window() -> None:
    evening = window(QINGDAO, at(2022, 6, 21, 19))
    morning = window(QINGDAO, at(2022, 6, 22, 3))
    assert (morning.start, morning.end) == (evening.start, evening.end)


def test_window_holds_its_start_but_not_its_end() -> None:
    assert window_at(QINGDAO, CALENDAR, at(2022, 6, 21, 18)) is not None
    assert window_at(QINGDAO, CALENDAR, at(2022, 6, 21, 17, 59)) is None
    assert window_at(QINGDAO, CALENDAR, at(2022, 6, 22, 7, 30)) is None


def test_no_window_outside_sharing_hours() -> None:
    assert window_at(QINGDAO, CALENDAR, at(2022, 6, 21, 12)) is None  # Tuesday noon


@pytest.mark.parametrize(
    "instant",
    [at(2022, 6, 24, 19), at(2022, 6, 25, 12), at(2022, 6, 26, 23), at(2022, 6, 27, 3)],
    ids=["fri-evening", "sat-noon", "sun-night", "mon-early"],
)
def test_friday_evening_to_monday_morning_is_one_window(instant: datetime) -> None:
    found = window(QINGDAO, instant)
    assert (found.start, found.end) == (at(2022, 6, 24, 18), at(2022, 6, 27, 7, 30))


@pytest.mark.parametrize(
    "instant",
    [at(2022, 9, 30, 18), at(2022, 10, 1, 0), at(2022, 10, 3, 12), at(2022, 10, 8, 7, 29)],
    ids=["eve", "first-day", "mid-week", "last-minute"],
)
def test_national_day_week_2022_is_one_window(instant: datetime) -> None:
    found = window(QINGDAO, instant)
    assert (found.start, found.end) == (at(2022, 9, 30, 18), at(2022, 10, 8, 7, 30))


def test_makeup_workday_saturday_shares_only_from_1800_like_a_workday() -> None:
    assert window_at(QINGDAO, CALENDAR, at(2022, 10, 8, 12)) is None
    found = window(QINGDAO, at(2022, 10, 8, 19))
    assert (found.start, found.end) == (at(2022, 10, 8, 18), at(2022, 10, 9, 7, 30))


def test_makeup_workday_sunday_window_ends_on_monday_morning() -> None:
    found = window(QINGDAO, at(2022, 10, 9, 19))
    assert (found.start, found.end) == (at(2022, 10, 9, 18), at(2022, 10, 10, 7, 30))


def test_override_to_holiday_joins_the_windows_around_the_day() -> None:
    calendar = OfficialCalendar({date(2022, 6, 21): DayType.HOLIDAY})  # a Tuesday
    found = window(QINGDAO, at(2022, 6, 21, 12), calendar)
    assert (found.start, found.end) == (at(2022, 6, 20, 18), at(2022, 6, 22, 7, 30))


def test_override_to_makeup_workday_splits_a_weekend() -> None:
    calendar = OfficialCalendar({date(2022, 6, 25): DayType.MAKEUP_WORKDAY})  # a Saturday
    friday = window(QINGDAO, at(2022, 6, 24, 19), calendar)
    assert (friday.start, friday.end) == (at(2022, 6, 24, 18), at(2022, 6, 25, 7, 30))
    assert window_at(QINGDAO, calendar, at(2022, 6, 25, 12)) is None


def test_window_is_found_from_an_instant_in_another_zone() -> None:
    saturday_0030 = datetime(2022, 6, 24, 16, 30, tzinfo=UTC)
    found = window(QINGDAO, saturday_0030)
    assert (found.start, found.end) == (at(2022, 6, 24, 18), at(2022, 6, 27, 7, 30))


def test_window_at_refuses_a_naive_instant() -> None:
    with pytest.raises(InvalidTimestamp) as caught:
        window_at(QINGDAO, CALENDAR, datetime(2022, 6, 21, 19))
    assert caught.value.code == "invalid_timestamp"


def test_shared_at_outside_the_window_is_no_berths() -> None:
    found = window(QINGDAO, at(2022, 6, 21, 19))
    assert found.shared_at(at(2022, 6, 22, 12)) == NO_BERTHS
    assert found.shared_at(at(2022, 6, 21, 17)) == NO_BERTHS


def test_segments_on_a_workday_are_the_morning_tail_and_the_evening() -> None:
    segments = segments_on(QINGDAO, CALENDAR, date(2022, 6, 21))
    assert [(s.start, s.end, dict(s.shared)) for s in segments] == [
        (at(2022, 6, 21, 0), at(2022, 6, 21, 7, 30), berths(ordinary=10)),
        (at(2022, 6, 21, 18), at(2022, 6, 22, 0), berths(ordinary=10)),
    ]


def test_segments_on_a_rest_day_cover_the_whole_day() -> None:
    segments = segments_on(QINGDAO, CALENDAR, date(2022, 6, 25))
    assert [(s.start, s.end) for s in segments] == [(at(2022, 6, 25), at(2022, 6, 26))]


def test_rule_ending_two_days_later_reaches_into_the_second_day() -> None:
    rule = SharingRule(
        frozenset({DayType.REST_DAY}), time(12), time(6), {ORDINARY: 3}, end_day_offset=2
    )
    schedule = Schedule((rule,))
    # Sunday 2022-06-26 12:00 → Tuesday 06:00, joined with Saturday's span.
    found = window(schedule, at(2022, 6, 28, 5))
    assert (found.start, found.end) == (at(2022, 6, 25, 12), at(2022, 6, 28, 6))


# -- overlapping rules and the presets --------------------------------------------------------


def test_overlapping_rules_take_the_larger_capacity_not_the_sum() -> None:
    schedule = Schedule(
        (
            SharingRule(WORKING_DAYS, time(18), time(23), {ORDINARY: 10}),
            SharingRule(WORKING_DAYS, time(20), time(22), {ORDINARY: 15, EV: 2}),
            SharingRule(WORKING_DAYS, time(21), time(22), {ORDINARY: 4}),
        )
    )
    found = window(schedule, at(2022, 6, 21, 19))
    assert (found.start, found.end) == (at(2022, 6, 21, 18), at(2022, 6, 21, 23))
    assert found.shared_at(at(2022, 6, 21, 19)) == berths(ordinary=10)
    assert found.shared_at(at(2022, 6, 21, 21, 30)) == berths(ordinary=15, ev_charging=2)
    assert found.shared_at(at(2022, 6, 21, 22, 30)) == berths(ordinary=10)


def test_identical_overlapping_rules_do_not_add_up() -> None:
    rule = SharingRule(WORKING_DAYS, time(18), time(7, 30), {ORDINARY: 10}, end_day_offset=1)
    found = window(Schedule((rule, rule)), at(2022, 6, 21, 19))
    assert found.shared_at(at(2022, 6, 21, 19)) == berths(ordinary=10)


def test_mall_shares_part_of_the_car_park_while_trading_inside_one_long_window() -> None:
    mall = Schedule(presets.mall({ORDINARY: 100}, {ORDINARY: 20}))
    found = window(mall, at(2022, 6, 21, 12))  # Tuesday noon
    assert found.shared_at(at(2022, 6, 21, 12)) == berths(ordinary=20)
    assert found.shared_at(at(2022, 6, 21, 23)) == berths(ordinary=100)
    assert found.shared_at(at(2022, 6, 22, 9, 29)) == berths(ordinary=100)
    assert found.shared_at(at(2022, 6, 22, 9, 30)) == berths(ordinary=20)
    # Sunday night to Saturday morning: trading days join the nights into one window.
    assert (found.start, found.end) == (at(2022, 6, 19, 22), at(2022, 6, 25, 9, 30))


def test_mall_shares_nothing_while_trading_on_days_off() -> None:
    mall = Schedule(presets.mall({ORDINARY: 100}, {ORDINARY: 20}))
    assert window_at(mall, CALENDAR, at(2022, 6, 25, 12)) is None  # Saturday noon


def test_hotel_shares_between_check_out_and_the_evening_arrivals() -> None:
    hotel = Schedule(presets.hotel({ORDINARY: 30}))
    found = window(hotel, at(2022, 6, 25, 12))
    assert (found.start, found.end) == (at(2022, 6, 25, 8), at(2022, 6, 25, 18))
    assert window_at(hotel, CALENDAR, at(2022, 6, 25, 19)) is None


def test_office_shares_workday_nights_and_whole_days_off() -> None:
    office = Schedule(presets.office({ORDINARY: 50}))
    tuesday = window(office, at(2022, 6, 21, 20))
    assert (tuesday.start, tuesday.end) == (at(2022, 6, 21, 19), at(2022, 6, 22, 8))
    weekend = window(office, at(2022, 6, 25, 12))
    assert (weekend.start, weekend.end) == (at(2022, 6, 24, 19), at(2022, 6, 27, 8))


# -- rule validation ----------------------------------------------------------------------


def rule(
    *,
    day_types: frozenset[DayType] = WORKING_DAYS,
    start: time = time(18),
    end: time = time(7, 30),
    shared: Berths | None = None,
    end_day_offset: int = 1,
) -> SharingRule:
    return SharingRule(
        day_types, start, end, shared or {ORDINARY: 10}, end_day_offset=end_day_offset
    )


def test_rule_of_zero_length_is_invalid() -> None:
    with pytest.raises(InvalidSchedule) as caught:
        rule(start=time(18), end=time(18), end_day_offset=0)
    assert caught.value.code == "invalid_schedule"


def test_rule_ending_before_it_starts_on_the_same_day_is_invalid() -> None:
    with pytest.raises(InvalidSchedule):
        rule(start=time(18), end=time(7, 30), end_day_offset=0)


def test_rule_longer_than_48_hours_is_invalid() -> None:
    with pytest.raises(InvalidSchedule, match="48 hours"):
        rule(start=time(0), end=time(0, 1), end_day_offset=2)


def test_rule_of_exactly_48_hours_is_valid() -> None:
    assert rule(start=time(6), end=time(6), end_day_offset=2).end_day_offset == 2


def test_rule_with_negative_berths_is_invalid() -> None:
    with pytest.raises(InvalidSchedule, match="negative"):
        rule(shared={ORDINARY: 10, EV: -1})


def test_rule_without_day_types_is_invalid() -> None:
    with pytest.raises(InvalidSchedule, match="day type"):
        rule(day_types=frozenset())


@pytest.mark.parametrize("offset", [-1, 3])
def test_rule_with_an_end_day_offset_outside_0_to_2_is_invalid(offset: int) -> None:
    with pytest.raises(InvalidSchedule):
        rule(end_day_offset=offset)


def test_rule_describes_itself() -> None:
    assert rule(day_types=DAYS_OFF, start=time(0)).describe() == "holiday+rest_day 00:00–07:30+1d"


# -- quiet hours --------------------------------------------------------------------------

QUIET = presets.QINGDAO_QUIET_HOURS


@pytest.mark.parametrize("clock", [time(22), time(23, 59), time(0), time(5, 59)])
def test_entry_is_forbidden_in_quiet_hours(clock: time) -> None:
    assert QUIET.forbids_entry_at(datetime.combine(date(2022, 6, 21), clock, SHANGHAI), SHANGHAI)


@pytest.mark.parametrize("clock", [time(6), time(21, 59), time(12)])
def test_entry_is_allowed_outside_quiet_hours(clock: time) -> None:
    instant = datetime.combine(date(2022, 6, 21), clock, SHANGHAI)
    assert not QUIET.forbids_entry_at(instant, SHANGHAI)


@pytest.mark.parametrize("clock", [time(22), time(6), time(21, 59), time(7, 30)])
def test_exit_is_allowed_at_the_edges_of_quiet_hours_and_outside(clock: time) -> None:
    instant = datetime.combine(date(2022, 6, 21), clock, SHANGHAI)
    assert not QUIET.forbids_exit_at(instant, SHANGHAI)


@pytest.mark.parametrize("clock", [time(22, 1), time(23), time(3), time(5, 59)])
def test_exit_is_forbidden_inside_quiet_hours(clock: time) -> None:
    instant = datetime.combine(date(2022, 6, 21), clock, SHANGHAI)
    assert QUIET.forbids_exit_at(instant, SHANGHAI)


def test_quiet_hours_are_read_in_local_time() -> None:
    local_2200 = datetime(2022, 6, 21, 14, 0, tzinfo=UTC)
    assert QUIET.forbids_entry_at(local_2200, SHANGHAI)
    assert not QUIET.forbids_exit_at(local_2200, SHANGHAI)


def test_quiet_hours_within_one_day() -> None:
    lunch = QuietHours(time(12), time(13))
    assert lunch.forbids_entry_at(at(2022, 6, 21, 12), SHANGHAI)
    assert not lunch.forbids_entry_at(at(2022, 6, 21, 13), SHANGHAI)
    assert not lunch.forbids_exit_at(at(2022, 6, 21, 12), SHANGHAI)
    assert lunch.forbids_exit_at(at(2022, 6, 21, 12, 30), SHANGHAI)
    assert not lunch.forbids_entry_at(at(2022, 6, 21, 23), SHANGHAI)


def test_quiet_hours_that_start_and_end_together_are_invalid() -> None:
    with pytest.raises(InvalidSchedule):
        QuietHours(time(22), time(22))


# -- suspensions --------------------------------------------------------------------------

SATURDAY_EVENT = Suspension(at(2022, 6, 25, 10), at(2022, 6, 25, 14), "marathon")
QINGDAO_SUSPENDED = Schedule(QINGDAO.rules, QINGDAO.quiet_hours, suspensions=(SATURDAY_EVENT,))


def test_suspension_cuts_a_window_and_its_start_becomes_the_must_leave_by() -> None:
    found = window(QINGDAO_SUSPENDED, at(2022, 6, 24, 19))
    assert (found.start, found.must_leave_by) == (at(2022, 6, 24, 18), at(2022, 6, 25, 10))


def test_no_window_during_a_suspension() -> None:
    assert window_at(QINGDAO_SUSPENDED, CALENDAR, at(2022, 6, 25, 12)) is None
    assert window_at(QINGDAO_SUSPENDED, CALENDAR, at(2022, 6, 25, 10)) is None


def test_window_resumes_at_the_end_of_a_suspension() -> None:
    found = window(QINGDAO_SUSPENDED, at(2022, 6, 25, 14))
    assert (found.start, found.end) == (at(2022, 6, 25, 14), at(2022, 6, 27, 7, 30))


def test_suspension_given_in_utc_cuts_at_the_same_instant() -> None:
    in_utc = Suspension(datetime(2022, 6, 25, 2, tzinfo=UTC), datetime(2022, 6, 25, 6, tzinfo=UTC))
    schedule = Schedule(QINGDAO.rules, suspensions=(in_utc,))
    assert window(schedule, at(2022, 6, 24, 19)).must_leave_by == at(2022, 6, 25, 10)


def test_suspension_across_a_whole_window_removes_it() -> None:
    whole = Suspension(at(2022, 6, 21, 17), at(2022, 6, 22, 8))
    schedule = Schedule(QINGDAO.rules, suspensions=(whole,))
    assert window_at(schedule, CALENDAR, at(2022, 6, 21, 19)) is None
    assert window_at(schedule, CALENDAR, at(2022, 6, 22, 3)) is None


@pytest.mark.parametrize("length", [timedelta(0), timedelta(hours=-1)], ids=["empty", "reversed"])
def test_suspension_must_resume_after_it_starts(length: timedelta) -> None:
    with pytest.raises(InvalidSchedule) as caught:
        Suspension(at(2022, 6, 25, 10), at(2022, 6, 25, 10) + length)
    assert caught.value.code == "invalid_schedule"


def test_suspension_refuses_naive_times() -> None:
    with pytest.raises(InvalidTimestamp):
        Suspension(datetime(2022, 6, 25, 10), at(2022, 6, 25, 14))
    with pytest.raises(InvalidTimestamp):
        Suspension(at(2022, 6, 25, 10), datetime(2022, 6, 25, 14))


def test_suspension_overlap_is_half_open() -> None:
    assert SATURDAY_EVENT.overlaps(at(2022, 6, 25, 13, 59), at(2022, 6, 25, 20))
    assert not SATURDAY_EVENT.overlaps(at(2022, 6, 25, 14), at(2022, 6, 25, 20))
    assert not SATURDAY_EVENT.overlaps(at(2022, 6, 25, 8), at(2022, 6, 25, 10))


# -- open windows and the horizon ---------------------------------------------------------


def test_round_the_clock_window_is_open_at_both_ends() -> None:
    always = Schedule((SharingRule(ALL_DAYS, time(0), time(0), {ORDINARY: 5}, end_day_offset=1),))
    found = window(always, at(2022, 6, 21, 12))
    assert (found.start, found.end, found.must_leave_by) == (None, None, None)
    assert found.shared_at(at(2022, 7, 1, 12)) == berths(ordinary=5)


def test_window_end_beyond_the_horizon_is_unknown_and_within_it_known() -> None:
    days_off = Schedule((SharingRule(DAYS_OFF, time(0), time(0), {ORDINARY: 5}, end_day_offset=1),))
    short = window_at(days_off, CALENDAR, at(2022, 10, 1, 12), horizon_days=3)
    long = window_at(days_off, CALENDAR, at(2022, 10, 1, 12), horizon_days=10)
    assert bounds(short) == (at(2022, 10, 1), None)
    assert bounds(long) == (at(2022, 10, 1), at(2022, 10, 8))


# -- windows between two instants ---------------------------------------------------------


def test_windows_between_list_each_window_of_a_week_clipped_to_the_range() -> None:
    found = windows_between(QINGDAO, CALENDAR, at(2022, 6, 20), at(2022, 6, 28))
    assert [(w.start, w.end) for w in found] == [
        (at(2022, 6, 20, 0), at(2022, 6, 20, 7, 30)),  # Sunday's window, clipped
        (at(2022, 6, 20, 18), at(2022, 6, 21, 7, 30)),
        (at(2022, 6, 21, 18), at(2022, 6, 22, 7, 30)),
        (at(2022, 6, 22, 18), at(2022, 6, 23, 7, 30)),
        (at(2022, 6, 23, 18), at(2022, 6, 24, 7, 30)),
        (at(2022, 6, 24, 18), at(2022, 6, 27, 7, 30)),
        (at(2022, 6, 27, 18), at(2022, 6, 28, 0)),  # clipped at the end of the range
    ]


def test_windows_between_keep_capacity_changes_inside_one_window() -> None:
    mall = Schedule(presets.mall({ORDINARY: 100}, {ORDINARY: 20}))
    (found,) = windows_between(mall, CALENDAR, at(2022, 6, 21, 20), at(2022, 6, 22, 12))
    assert (found.start, found.end) == (at(2022, 6, 21, 20), at(2022, 6, 22, 12))
    assert found.shared_at(at(2022, 6, 21, 21)) == berths(ordinary=20)
    assert found.shared_at(at(2022, 6, 22, 3)) == berths(ordinary=100)
    assert found.shared_at(at(2022, 6, 22, 11)) == berths(ordinary=20)


def test_windows_between_refuse_naive_instants() -> None:
    with pytest.raises(InvalidTimestamp):
        windows_between(QINGDAO, CALENDAR, datetime(2022, 6, 20), at(2022, 6, 28))


# -- property: windows agree with a brute-force reading of the rules ----------------------

BASE = date(2022, 6, 1)
STEP = timedelta(minutes=15)
FIRST = datetime.combine(BASE, time(0), SHANGHAI)


class ListCalendar:
    """Day types from a list, one per day from ``BASE``."""

    def __init__(self, types: list[DayType]) -> None:
        self._types = types

    def day_type(self, day: date) -> DayType:
        return self._types[(day - BASE).days]


def brute_force_shared(schedule: Schedule, calendar: ListCalendar, t: datetime) -> Berths:
    """Capacity at ``t``: the largest of the rules whose span holds it, unless suspended."""
    if any(s.start <= t < s.end for s in schedule.suspensions):
        return NO_BERTHS
    shared = dict(NO_BERTHS)
    local_day = t.astimezone(SHANGHAI).date()
    for anchor in (local_day - timedelta(days=n) for n in range(3)):
        for r in schedule.rules:
            start, end = r.span_on(anchor, SHANGHAI)
            if calendar.day_type(anchor) in r.day_types and start <= t < end:
                for category, count in r.shared_berths.items():
                    shared[category] = max(shared[category], count)
    return shared


def is_sharing(shared: Mapping[BerthCategory, int]) -> bool:
    return sum(shared.values()) > 0


quarter_hours = st.integers(0, 95).map(lambda q: time(q // 4, q % 4 * 15))


@st.composite
def sharing_rules(draw: st.DrawFn) -> SharingRule:
    day_types = draw(st.frozensets(st.sampled_from(list(DayType)), min_size=1))
    start, end = draw(quarter_hours), draw(quarter_hours)
    offset = draw(st.integers(0, 2))
    if offset == 0 and end <= start:
        offset = 1
    if offset == 2 and end > start:
        offset = 1
    shared = {ORDINARY: draw(st.integers(0, 3)), EV: draw(st.integers(0, 2))}
    return SharingRule(day_types, start, end, shared, end_day_offset=offset)


@st.composite
def suspensions(draw: st.DrawFn) -> Suspension:
    first = draw(st.integers(8 * 96, 24 * 96))
    length = draw(st.integers(1, 96))
    return Suspension(FIRST + STEP * first, FIRST + STEP * (first + length))


@settings(deadline=None)
@given(
    rules=st.lists(sharing_rules(), min_size=1, max_size=3),
    day_types=st.lists(st.sampled_from(list(DayType)), min_size=35, max_size=35),
    cuts=st.lists(suspensions(), max_size=2),
    quarter=st.integers(10 * 96, 22 * 96),
)
def test_window_at_agrees_with_a_brute_force_reading_of_the_rules(
    rules: list[SharingRule], day_types: list[DayType], cuts: list[Suspension], quarter: int
) -> None:
    schedule = Schedule(tuple(rules), suspensions=tuple(cuts))
    calendar = ListCalendar(day_types)
    instant = FIRST + STEP * quarter
    horizon = timedelta(days=4)
    found = window_at(schedule, calendar, instant, horizon_days=4)

    def shared(t: datetime) -> Berths:
        return brute_force_shared(schedule, calendar, t)

    if not is_sharing(shared(instant)):
        assert found is None
        return
    assert found is not None
    end = instant
    while is_sharing(shared(end)) and end < instant + horizon:
        end += STEP
    start = instant
    while is_sharing(shared(start - STEP)) and start > instant - horizon:
        start -= STEP
    if end < instant + horizon:
        assert found.end == end
    if start > instant - horizon:
        assert found.start == start
    t = start
    while t < end:
        assert dict(found.shared_at(t)) == dict(shared(t)), t
        t += STEP
