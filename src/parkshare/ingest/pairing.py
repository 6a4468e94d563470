"""Pairing gate events into parking sessions (pure).

The events of one plate at one car park, in time order, whatever order they arrived in:
an entry followed by an exit is a session; an exit with no entry before it is an
``exit_only`` session (the entry camera missed it); an entry followed by another entry is an
``entry_only`` session (the exit was missed); a last entry with no exit is ``open``. Because
the pairing is recomputed from all the plate's events, late and out-of-order events land
where they belong.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from parkshare.ingest.model import Direction, SessionStatus


@dataclass(frozen=True)
class Movement:
    id: int
    direction: Direction
    at: datetime


@dataclass(frozen=True)
class Pair:
    status: SessionStatus
    entry: Movement | None
    exit: Movement | None


def pair(movements: Iterable[Movement]) -> list[Pair]:
    pairs: list[Pair] = []
    entry: Movement | None = None
    for movement in sorted(movements, key=lambda m: (m.at, m.id)):
        if movement.direction is Direction.IN:
            if entry is not None:
                pairs.append(Pair(SessionStatus.ENTRY_ONLY, entry, None))
            entry = movement
        elif entry is not None:
            pairs.append(Pair(SessionStatus.CLOSED, entry, movement))
            entry = None
        else:
            pairs.append(Pair(SessionStatus.EXIT_ONLY, None, movement))
    if entry is not None:
        pairs.append(Pair(SessionStatus.OPEN, entry, None))
    return pairs
