"""Pairing entries and exits, whatever order the events arrived in."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from parkshare.ingest.events import count_anomaly
from parkshare.ingest.model import Direction, SessionStatus
from parkshare.ingest.pairing import Movement, pair
from parkshare.ingest.schemas import CountIn

T0 = datetime(2022, 6, 24, 10, tzinfo=UTC)
IN, OUT = Direction.IN, Direction.OUT


def moves(*spec: tuple[Direction, int]) -> list[Movement]:
    return [Movement(i, d, T0 + timedelta(minutes=m)) for i, (d, m) in enumerate(spec)]


def statuses(movements: list[Movement]) -> list[SessionStatus]:
    return [p.status for p in pair(movements)]


def test_entry_then_exit_is_one_closed_session() -> None:
    (session,) = pair(moves((IN, 0), (OUT, 90)))
    assert session.status is SessionStatus.CLOSED
    assert session.entry and session.exit
    assert session.exit.at - session.entry.at == timedelta(minutes=90)


def test_entry_without_exit_is_open() -> None:
    assert statuses(moves((IN, 0))) == [SessionStatus.OPEN]


def test_exit_without_entry_is_exit_only() -> None:
    assert statuses(moves((OUT, 5), (IN, 10), (OUT, 20))) == [
        SessionStatus.EXIT_ONLY,
        SessionStatus.CLOSED,
    ]


def test_two_entries_in_a_row_mean_a_missed_exit() -> None:
    assert statuses(moves((IN, 0), (IN, 60), (OUT, 70))) == [
        SessionStatus.ENTRY_ONLY,
        SessionStatus.CLOSED,
    ]


@given(
    st.lists(st.tuples(st.sampled_from([IN, OUT]), st.integers(0, 10_000)), max_size=30),
    st.randoms(),
)
def test_arrival_order_does_not_matter(
    spec: list[tuple[Direction, int]], rng: random.Random
) -> None:
    movements = moves(*spec)
    shuffled = movements[:]
    rng.shuffle(shuffled)
    assert pair(shuffled) == pair(movements)


@given(st.lists(st.tuples(st.sampled_from([IN, OUT]), st.integers(0, 10_000)), max_size=30))
def test_every_event_lands_in_exactly_one_session(spec: list[tuple[Direction, int]]) -> None:
    movements = moves(*spec)
    used = [m.id for p in pair(movements) for m in (p.entry, p.exit) if m is not None]
    assert sorted(used) == [m.id for m in movements]


def count(free: int, total: int | None = None) -> CountIn:
    return CountIn(lot="L", free=free, total=total, at=T0)


def test_impossible_counts_are_flagged() -> None:
    assert count_anomaly(count(-1), 100, 0) == "negative free count"
    assert "exceeds the reported total" in count_anomaly(count(60, 50), 100, 0)
    assert "exceeds the car park" in count_anomaly(count(120), 100, 0)


def test_a_count_that_reads_like_occupancy_is_flagged() -> None:
    # 80 cars inside by the gate events: a "free" of 80 is the occupied count sent by mistake
    assert count_anomaly(count(80), 100, 80) == "free looks like the occupied count"
    assert count_anomaly(count(20), 100, 80) == ""


def test_plausible_counts_pass() -> None:
    assert count_anomaly(count(0), 100, 0) == ""
    assert count_anomaly(count(100, 100), 100, 0) == ""
