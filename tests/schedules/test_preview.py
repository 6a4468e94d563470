"""Proposed schedules, pure: their problems, the week they would share, and the reservations
they could no longer honour."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest

from parkshare.availability.rules import Commitment
from parkshare.calendar import DAYS_OFF, WORKING_DAYS, DayType, OfficialCalendar
from parkshare.errors import InvalidSchedule
from parkshare.schedules import presets
from parkshare.schedules.preview import (
    Holding,
    Proposal,
    RuleDraft,
    ScheduleRefused,
    accept,
    misfits,
    problems,
    week,
)
from parkshare.schedules.rules import SHANGHAI, BerthCategory, Schedule, Window

ORDINARY, EV, ACCESSIBLE = BerthCategory
CALENDAR = OfficialCalendar()
PHYSICAL = {ORDINARY: 10, EV: 2, ACCESSIBLE: 0}


def at(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


def rule(
    days: frozenset[DayType],
    start: str,
    end: str,
    offset: int = 0,
    ordinary: int = 10,
    ev: int = 0,
    accessible: int = 0,
) -> RuleDraft:
    return RuleDraft(
        day_types=days,
        start=time.fromisoformat(start),
        end=time.fromisoformat(end),
        end_day_offset=offset,
        shared_berths={ORDINARY: ordinary, EV: ev, ACCESSIBLE: accessible},
    )


QINGDAO = Proposal(
    rules=(rule(WORKING_DAYS, "18:00", "07:30", 1), rule(DAYS_OFF, "00:00", "07:30", 1)),
    quiet_hours=(time(22), time(6)),
)


def codes(proposal: Proposal) -> list[str]:
    return [p.code for p in problems(proposal, PHYSICAL)]


# -- problems -----------------------------------------------------------------------------------


def test_the_qingdao_rules_are_sound_and_become_the_preset() -> None:
    assert problems(QINGDAO, PHYSICAL) == []
    rules, quiet = accept(QINGDAO, PHYSICAL)
    expected = presets.qingdao_institutional({ORDINARY: 10, EV: 0, ACCESSIBLE: 0})
    assert rules == expected
    assert quiet == presets.QINGDAO_QUIET_HOURS


def test_sharing_more_berths_than_the_car_park_has_is_a_problem_per_category() -> None:
    proposal = Proposal(rules=(rule(WORKING_DAYS, "18:00", "07:30", 1, ordinary=11, ev=3),))
    found = problems(proposal, PHYSICAL)
    assert [(p.code, p.field) for p in found] == [
        ("shared_above_physical", "rules.0.shared_berths.ordinary"),
        ("shared_above_physical", "rules.0.shared_berths.ev_charging"),
    ]
    assert found[0].values == {"rule": 1, "category": "ordinary", "shared": 11, "physical": 10}


def test_a_category_the_car_park_lacks_cannot_be_shared() -> None:
    proposal = Proposal(rules=(rule(WORKING_DAYS, "18:00", "07:30", 1, accessible=1),))
    assert codes(proposal) == ["shared_above_physical"]


def test_two_rules_of_one_day_type_overlapping_on_that_day_are_refused() -> None:
    proposal = Proposal(
        rules=(
            rule(WORKING_DAYS, "18:00", "07:30", 1),
            rule(frozenset({DayType.WORKDAY}), "20:00", "23:00"),
        )
    )
    found = problems(proposal, PHYSICAL)
    assert [p.code for p in found] == ["overlapping_spans"]
    assert found[0].position == 1
    assert found[0].values["day_types"] == ["workday"]


def test_rules_that_only_touch_do_not_overlap() -> None:
    mall = Proposal(
        rules=(
            rule(WORKING_DAYS | DAYS_OFF, "22:00", "09:30", 1),
            rule(WORKING_DAYS, "09:30", "22:00", ordinary=3),
        )
    )
    assert codes(mall) == []


def test_rules_of_different_day_types_may_overlap_across_midnight() -> None:
    # Friday's evening rule runs into Saturday's all-day rule: there the larger applies.
    assert codes(QINGDAO) == []


@pytest.mark.parametrize(
    ("draft", "code"),
    [
        (rule(frozenset(), "18:00", "23:00"), "no_day_types"),
        (rule(WORKING_DAYS, "18:00", "07:30"), "span_ends_before_start"),
        (rule(WORKING_DAYS, "18:00", "18:00"), "span_ends_before_start"),
        (rule(WORKING_DAYS, "08:00", "09:00", 2), "span_too_long"),
        (rule(WORKING_DAYS, "08:00", "09:00", 3), "span_too_long"),
        (rule(WORKING_DAYS, "18:00", "23:00", ordinary=0), "rule_shares_nothing"),
        (rule(WORKING_DAYS, "18:00", "23:00", ordinary=-1), "negative_berths"),
    ],
)
def test_an_unsound_rule_is_named_by_its_code(draft: RuleDraft, code: str) -> None:
    assert codes(Proposal(rules=(draft,))) == [code]


def test_a_span_of_exactly_48_hours_is_allowed() -> None:
    assert codes(Proposal(rules=(rule(DAYS_OFF, "08:00", "08:00", 2),))) == []


def test_quiet_hours_that_start_and_end_together_are_refused() -> None:
    assert codes(Proposal(rules=QINGDAO.rules, quiet_hours=(time(22), time(22)))) == [
        "quiet_hours_empty"
    ]


def test_an_empty_proposal_shares_nothing_and_is_sound() -> None:
    assert accept(Proposal(rules=()), PHYSICAL) == ((), None)


def test_accepting_an_unsound_proposal_raises_with_every_problem() -> None:
    proposal = Proposal(
        rules=(rule(frozenset(), "18:00", "23:00"), rule(WORKING_DAYS, "18:00", "07:30", 1, 99))
    )
    with pytest.raises(ScheduleRefused) as refused:
        accept(proposal, PHYSICAL)
    assert isinstance(refused.value, InvalidSchedule)
    assert refused.value.code == "no_day_types"
    assert refused.value.status == 422
    assert [p["code"] for p in refused.value.details["problems"]] == [
        "no_day_types",
        "shared_above_physical",
    ]


# -- the week a schedule shares -----------------------------------------------------------------


def schedule(proposal: Proposal) -> Schedule:
    rules, quiet = accept(proposal, PHYSICAL)
    return Schedule(rules, quiet)


def test_the_week_lists_each_days_type_and_sharing_periods() -> None:
    found = week(schedule(QINGDAO), CALENDAR, date(2022, 6, 21))  # a Tuesday
    assert [d.day for d in found.days] == [date(2022, 6, 21) + timedelta(days=n) for n in range(7)]
    assert [d.day_type for d in found.days] == [DayType.WORKDAY] * 4 + [DayType.REST_DAY] * 2 + [
        DayType.WORKDAY
    ]
    tuesday = found.days[0]
    assert [(s.start, s.end) for s in tuesday.segments] == [
        (at(2022, 6, 21), at(2022, 6, 21, 7, 30)),
        (at(2022, 6, 21, 18), at(2022, 6, 22)),
    ]
    assert found.days[4].segments[0].shared[ORDINARY] == 10


def test_the_weeks_windows_join_the_weekend_and_know_their_true_ends() -> None:
    found = week(schedule(QINGDAO), CALENDAR, date(2022, 6, 21))
    spans = [(w.start, w.end, w.opened, w.must_leave_by) for w in found.windows]
    assert spans[0] == (at(2022, 6, 21), at(2022, 6, 21, 7, 30), at(2022, 6, 20, 18), spans[0][3])
    assert spans[0][3] == at(2022, 6, 21, 7, 30)
    # Friday 18:00 → Monday 07:30 is one window
    assert (at(2022, 6, 24, 18), at(2022, 6, 27, 7, 30)) in [(w[0], w[1]) for w in spans]
    # the last one runs past the week: clipped, with its real must-leave-by
    assert spans[-1][1] == at(2022, 6, 28) and spans[-1][3] == at(2022, 6, 28, 7, 30)


def test_the_week_shows_holidays_and_make_up_working_days() -> None:
    found = week(schedule(QINGDAO), CALENDAR, date(2022, 10, 5))
    types = {d.day: d.day_type for d in found.days}
    assert types[date(2022, 10, 5)] is DayType.HOLIDAY
    assert types[date(2022, 10, 8)] is DayType.MAKEUP_WORKDAY  # a Saturday that is worked
    assert types[date(2022, 10, 9)] is DayType.MAKEUP_WORKDAY
    # the National Day window closes on the make-up working day at 07:30
    assert found.windows[0].opened == at(2022, 9, 30, 18)
    assert found.windows[0].must_leave_by == at(2022, 10, 8, 7, 30)
    saturday = next(d for d in found.days if d.day == date(2022, 10, 8))
    assert [s.start for s in saturday.segments] == [at(2022, 10, 8), at(2022, 10, 8, 18)]


def test_a_changed_evening_start_shows_in_the_week() -> None:
    later = Proposal(
        rules=(rule(WORKING_DAYS, "19:30", "07:30", 1), QINGDAO.rules[1]),
        quiet_hours=QINGDAO.quiet_hours,
    )
    found = week(schedule(later), CALENDAR, date(2022, 6, 21))
    assert found.days[0].segments[-1].start == at(2022, 6, 21, 19, 30)


# -- reservations a new schedule must still honour ---------------------------------------------

NOW = at(2022, 6, 21, 12)  # Tuesday noon


def booked(
    ref: str, start: datetime, end: datetime, must_leave_by: datetime, *, inside: bool = False
) -> Holding:
    return Holding(ref, ORDINARY, start, end, must_leave_by, inside)


def spans_of(*holdings: Holding) -> list[Commitment]:
    return [Commitment(h.start, h.end, h.category) for h in holdings]


def test_reservations_inside_the_new_windows_still_fit() -> None:
    evening = booked("R1", at(2022, 6, 21, 19), at(2022, 6, 22, 7), at(2022, 6, 22, 7, 30))
    found = misfits(schedule(QINGDAO), CALENDAR, [evening], lambda _w: spans_of(evening), now=NOW)
    assert found == []


def test_a_reservation_before_the_new_evening_start_no_longer_fits() -> None:
    early = booked("R1", at(2022, 6, 21, 18, 30), at(2022, 6, 21, 21), at(2022, 6, 22, 7, 30))
    later = Proposal(rules=(rule(WORKING_DAYS, "19:00", "07:30", 1), QINGDAO.rules[1]))
    found = misfits(schedule(later), CALENDAR, [early], lambda _w: spans_of(early), now=NOW)
    assert [(m.ref, m.reason) for m in found] == [("R1", "outside_sharing_window")]


def test_an_earlier_window_end_breaks_a_promised_must_leave_by() -> None:
    stay = booked("R1", at(2022, 6, 21, 19), at(2022, 6, 21, 23), at(2022, 6, 22, 7, 30))
    shorter = Proposal(rules=(rule(WORKING_DAYS, "18:00", "06:00", 1), QINGDAO.rules[1]))
    found = misfits(schedule(shorter), CALENDAR, [stay], lambda _w: spans_of(stay), now=NOW)
    assert [m.reason for m in found] == ["window_ends_earlier"]


def test_fewer_shared_berths_than_reservations_hold_is_no_capacity() -> None:
    cars = [
        booked(f"R{n}", at(2022, 6, 21, 19), at(2022, 6, 22, 7), at(2022, 6, 22, 7, 30))
        for n in range(3)
    ]
    two = Proposal(rules=(rule(WORKING_DAYS, "18:00", "07:30", 1, ordinary=2),))
    found = misfits(schedule(two), CALENDAR, cars, lambda _w: spans_of(*cars), now=NOW)
    assert {m.reason for m in found} == {"no_capacity"}


def test_passes_held_in_the_window_count_against_the_new_capacity() -> None:
    car = booked("R1", at(2022, 6, 21, 19), at(2022, 6, 22, 7), at(2022, 6, 22, 7, 30))

    def held(window: Window) -> list[Commitment]:
        assert window.start is not None and window.end is not None
        return [*spans_of(car), Commitment(window.start, window.end, ORDINARY, berths=2)]

    two = Proposal(rules=(rule(WORKING_DAYS, "18:00", "07:30", 1, ordinary=2),))
    three = Proposal(rules=(rule(WORKING_DAYS, "18:00", "07:30", 1, ordinary=3),))
    assert [m.reason for m in misfits(schedule(two), CALENDAR, [car], held, now=NOW)] == [
        "no_capacity"
    ]
    assert misfits(schedule(three), CALENDAR, [car], held, now=NOW) == []


def test_a_car_inside_is_checked_from_now_and_past_reservations_not_at_all() -> None:
    inside = booked("R1", at(2022, 6, 21, 1), at(2022, 6, 21, 14), at(2022, 6, 21, 14), inside=True)
    over = booked("R2", at(2022, 6, 20, 19), at(2022, 6, 21, 7), at(2022, 6, 21, 7, 30))
    daytime = Proposal(rules=(rule(WORKING_DAYS, "08:00", "18:00"),))
    found = misfits(
        schedule(daytime), CALENDAR, [inside, over], lambda _w: spans_of(inside), now=NOW
    )
    assert found == []
    evenings = Proposal(rules=(rule(WORKING_DAYS, "13:00", "18:00"),))
    found = misfits(schedule(evenings), CALENDAR, [inside], lambda _w: spans_of(inside), now=NOW)
    assert [m.reason for m in found] == ["outside_sharing_window"]


def test_new_quiet_hours_that_forbid_a_booked_exit_are_a_misfit() -> None:
    stay = booked("R1", at(2022, 6, 21, 19), at(2022, 6, 21, 21, 30), at(2022, 6, 22, 7, 30))
    quieter = Proposal(rules=QINGDAO.rules, quiet_hours=(time(21), time(6)))
    found = misfits(schedule(quieter), CALENDAR, [stay], lambda _w: spans_of(stay), now=NOW)
    assert [m.reason for m in found] == ["exit_in_quiet_hours"]
