"""The day simulator is pure and deterministic, and its day looks like the West Coast's."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, time, timedelta
from itertools import pairwise

import pytest

from parkshare.demo.simulator import (
    DaySimulation,
    Send,
    SimLot,
    demo_lots,
    random_plate,
    simulate_day,
)
from parkshare.ingest.schemas import parse_count, parse_event
from parkshare.plates import PlateKind, parse_plate
from parkshare.schedules.rules import SHANGHAI

WORKDAY = date(2022, 6, 28)  # a Tuesday
REST_DAY = date(2022, 6, 25)  # a Saturday


@pytest.fixture(scope="module")
def lots() -> list[SimLot]:
    return demo_lots()


@pytest.fixture(scope="module")
def workday(lots: list[SimLot]) -> DaySimulation:
    return simulate_day(lots, WORKDAY, seed=1)


@pytest.fixture(scope="module")
def workday_events(workday: DaySimulation) -> dict[str, list[Send]]:
    return unique_events(workday)


@pytest.fixture(scope="module")
def rest_day(lots: list[SimLot]) -> DaySimulation:
    return simulate_day([lot for lot in lots if lot.kind == "institutional"], REST_DAY, seed=1)


def at(send: Send) -> datetime:
    return datetime.fromisoformat(send.item["at"])


def unique_events(simulation: DaySimulation) -> dict[str, list[Send]]:
    """Each car park's events, each once, in the order they happened (exits first at a tie)."""
    seen: set[str] = set()
    by_lot: dict[str, list[Send]] = defaultdict(list)
    for send in simulation.sends:
        if send.kind == "events" and send.item["event_id"] not in seen:
            seen.add(send.item["event_id"])
            by_lot[send.lot].append(send)
    for events in by_lot.values():
        events.sort(key=lambda s: (at(s), s.item["direction"] == "in"))
    return by_lot


def occupancy_at(events: list[Send], instant: datetime) -> int:
    return sum((1 if e.item["direction"] == "in" else -1) for e in events if at(e) <= instant)


def local(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), SHANGHAI)


def test_a_seed_always_gives_the_same_day(lots: list[SimLot]) -> None:
    few = lots[:3] + lots[-3:]
    first = simulate_day(few, WORKDAY, seed=7)
    assert simulate_day(few, WORKDAY, seed=7) == first
    assert simulate_day(few, WORKDAY, seed=8).sends != first.sends


def test_sends_are_in_time_order_with_offsets(workday: DaySimulation) -> None:
    assert all(a.send_at <= b.send_at for a, b in pairwise(workday.sends))
    for send in workday.sends[::97]:
        assert send.item["at"].endswith("+08:00")
        assert send.item["lot"] == send.lot
        assert send.kind in ("events", "counts")


def test_items_are_what_the_ingest_api_accepts(workday: DaySimulation) -> None:
    for send in workday.sends[::23]:
        if send.kind == "events":
            event = parse_event(send.item)
            assert event.at <= send.send_at
        else:
            assert parse_count(send.item).free >= 0


def test_occupancy_stays_between_zero_and_the_berths(
    workday: DaySimulation, workday_events: dict[str, list[Send]], lots: list[SimLot]
) -> None:
    berths = {lot.code: lot.berths for lot in lots}
    for code, events in workday_events.items():
        inside = peak = 0
        for event in events:
            inside += 1 if event.item["direction"] == "in" else -1
            assert 0 <= inside <= berths[code], f"{code} at {event.item['at']}: {inside}"
            peak = max(peak, inside)
        assert workday.summary.lot(code).peak_occupancy == peak


def test_every_car_park_sees_traffic_and_the_summary_counts_it(
    workday: DaySimulation, workday_events: dict[str, list[Send]], lots: list[SimLot]
) -> None:
    by_lot = workday_events
    start = local(WORKDAY, 0)
    for lot in lots:
        summary = workday.summary.lot(lot.code)
        events = by_lot[lot.code]
        on_day = [e for e in events if at(e) >= start]
        assert summary.events == len(on_day) > lot.berths  # more than one car per berth a day
        assert summary.inside_at_start == len(events) - len(on_day)
        assert summary.inside_at_end == occupancy_at(events, local(WORKDAY, 23, 59))
    assert workday.summary.events == sum(d.events for d in workday.summary.lots)


def test_cars_inside_at_midnight_are_sent_first_with_their_real_entry_time(
    workday: DaySimulation,
) -> None:
    start = local(WORKDAY, 0)
    end = start + timedelta(days=1)
    first: dict[str, Send] = {}
    for send in workday.sends:
        if send.kind == "events":
            first.setdefault(send.item["event_id"], send)
    carried = [s for s in first.values() if at(s) < start]
    assert len(carried) == workday.summary.carried_over > 1_000
    assert all(s.item["direction"] == "in" and s.send_at == start for s in carried)
    assert all(at(s) < end for s in workday.sends)


def test_nobody_enters_or_leaves_an_institutional_car_park_in_quiet_hours(
    workday: DaySimulation, rest_day: DaySimulation, lots: list[SimLot]
) -> None:
    quiet = {lot.code: lot.schedule.quiet_hours for lot in lots if lot.kind == "institutional"}
    assert len(quiet) == 32 and all(quiet.values())
    checked = 0
    for simulation in (workday, rest_day):
        for send in simulation.sends:
            hours = quiet.get(send.lot)
            if send.kind != "events" or hours is None:
                continue
            forbids = (
                hours.forbids_entry_at if send.item["direction"] == "in" else hours.forbids_exit_at
            )
            assert not forbids(at(send), SHANGHAI), f"{send.item['event_id']} at {send.item['at']}"
            checked += 1
    assert checked > 10_000


def test_institutional_car_parks_fill_after_18_and_empty_by_07_30_on_working_days(
    workday_events: dict[str, list[Send]], lots: list[SimLot]
) -> None:
    by_lot = workday_events
    institutional = [lot.code for lot in lots if lot.kind == "institutional"]

    def occupancy(hour: int, minute: int = 0) -> int:
        instant = local(WORKDAY, hour, minute)
        return sum(occupancy_at(by_lot[code], instant) for code in institutional)

    shared = sum(lot.shared_berths for lot in lots if lot.kind == "institutional")
    assert occupancy(5, 59) > 0.6 * shared  # the night's sharing drivers…
    assert occupancy(7, 30) < 0.25 * occupancy(5, 59)  # …left by 07:30
    assert occupancy(21, 30) > max(0.6 * shared, 1.5 * occupancy(18, 0))  # the evening's came


def test_institutional_car_parks_share_all_day_on_rest_days(rest_day: DaySimulation) -> None:
    entries = [at(s) for s in rest_day.sends if s.kind == "events" and s.item["direction"] == "in"]
    for first, last in ((8, 12), (12, 16), (16, 20)):
        during = [e for e in entries if local(REST_DAY, first) <= e < local(REST_DAY, last)]
        assert len(during) > 200, (first, last, len(during))


def test_some_sharing_drivers_overstay_their_must_leave_by(workday: DaySimulation) -> None:
    summary = workday.summary
    sharing = sum(d.sharing_entries for d in summary.lots)
    overstays = sum(d.overstays for d in summary.lots)
    assert 0 < overstays < 0.05 * sharing


def test_plates_are_valid_mostly_local_and_some_new_energy(workday: DaySimulation) -> None:
    plates = {s.item["plate"] for s in workday.sends if s.kind == "events"}
    kinds = [parse_plate(plate).kind for plate in plates]  # raises for an invalid plate
    new_energy = kinds.count(PlateKind.NEW_ENERGY) / len(kinds)
    assert 0.12 < new_energy < 0.18
    assert all(len(p) == 8 for p in plates if parse_plate(p).kind is PlateKind.NEW_ENERGY)
    qingdao = sum(p.startswith(("鲁B", "鲁U")) for p in plates) / len(plates)
    assert qingdao > 0.75


def test_random_plates_always_parse() -> None:
    import random

    rng = random.Random(0)
    for _ in range(20_000):
        parse_plate(random_plate(rng))


def test_a_small_share_of_events_is_sent_twice_with_the_same_content(
    workday: DaySimulation,
) -> None:
    first: dict[str, Send] = {}
    duplicates = 0
    for send in workday.sends:
        if send.kind != "events":
            continue
        original = first.setdefault(send.item["event_id"], send)
        if original is not send:
            duplicates += 1
            assert send.item == original.item and send.send_at >= original.send_at
    assert 0.005 < duplicates / len(first) < 0.03
    assert duplicates == workday.summary.duplicates


def test_a_small_share_of_events_is_late_and_out_of_order(workday: DaySimulation) -> None:
    start = local(WORKDAY, 0)
    seen: set[str] = set()
    late = out_of_order = events = 0
    newest: dict[str, datetime] = {}
    for send in workday.sends:
        if send.kind != "events" or send.item["event_id"] in seen:
            continue
        seen.add(send.item["event_id"])
        happened = at(send)
        if happened < start:
            continue
        events += 1
        late += send.send_at - happened >= timedelta(minutes=1)
        out_of_order += happened < newest.get(send.lot, happened)
        newest[send.lot] = max(happened, newest.get(send.lot, happened))
    assert 0.01 < late / events < 0.06
    assert late == workday.summary.late
    assert out_of_order > 100


def test_counts_every_five_minutes_agree_with_the_events(
    workday: DaySimulation, workday_events: dict[str, list[Send]], lots: list[SimLot]
) -> None:
    berths = {lot.code: lot.berths for lot in lots}
    by_lot = workday_events
    counts: dict[str, list[Send]] = defaultdict(list)
    for send in workday.sends:
        if send.kind == "counts":
            counts[send.lot].append(send)
            assert send.send_at == at(send)
    for code, reported in counts.items():
        outage = workday.summary.lot(code).outage
        for earlier, later in pairwise(reported):
            link_down = outage is not None and at(earlier) < outage[1] and outage[0] < at(later)
            assert link_down or at(later) - at(earlier) <= timedelta(minutes=5, seconds=20)
        assert len(reported) >= 288 - (8 if outage else 1)
        events, inside = iter(by_lot[code]), 0
        event = next(events, None)
        for count in reported:  # a sweep: both are in time order
            while event is not None and at(event) <= at(count):
                inside += 1 if event.item["direction"] == "in" else -1
                event = next(events, None)
            assert count.item["total"] == berths[code]
            assert count.item["free"] == berths[code] - inside, count.item


def test_consecutive_days_line_up(lots: list[SimLot]) -> None:
    few = [lot for lot in lots if lot.use in ("hotel", "government")][:6]
    monday = simulate_day(few, WORKDAY - timedelta(days=1), seed=1)
    tuesday = simulate_day(few, WORKDAY, seed=1)
    sent_monday = {s.item["event_id"]: s.item for s in monday.sends if s.kind == "events"}
    start = local(WORKDAY, 0)
    carried = [s.item for s in tuesday.sends if s.kind == "events" and at(s) < start]
    same = [item for item in carried if sent_monday.get(item["event_id"]) == item]
    assert carried and len(same) >= 0.95 * len(carried)
