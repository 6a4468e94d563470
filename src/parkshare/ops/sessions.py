"""Parking sessions against the gate events they are derived from.

The ingest path stores, for every (car park, plate), the sessions that pairing all its events
gives (``ingest.pairing.pair``). So: each stored session points to events that exist, belong
to its car park and plate, go the right way at the stored times; no event is used twice; a
plate is inside a car park at most once; and pairing the plate's events again gives exactly
the stored sessions. Plates erased after the retention period are left out of the last test
(their events are attributed to a plate only through the sessions that still name it)."""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

from parkshare.ingest.model import Direction, SessionStatus
from parkshare.ingest.pairing import Movement, pair
from parkshare.ops.repository import Rows
from parkshare.plates import mask_plate
from parkshare.reservations.model import ReservationStatus

# Which ends a session of each status has: (entry, exit).
SHAPES = {
    SessionStatus.OPEN: (True, False),
    SessionStatus.CLOSED: (True, True),
    SessionStatus.EXIT_ONLY: (False, True),
    SessionStatus.ENTRY_ONLY: (True, False),
}
LINKABLE = (ReservationStatus.ARRIVED, ReservationStatus.OVERSTAYED, ReservationStatus.COMPLETED)


class SessionCheck:
    def __init__(
        self, events: Rows, sessions: Rows, reservations: Rows, codes: dict[int, str]
    ) -> None:
        self.events = {row.id: row for row in events}
        self.all_events = events
        self.sessions = sessions
        self.reservations = {row.id: row for row in reservations}
        self.codes = codes
        self.found: list[str] = []

    def problems(self) -> list[str]:
        self._events_used_once()
        for row in self.sessions:
            self._shape(row)
            self._end(row, row.entry_event_id, Direction.IN, row.entered_at, "entry")
            self._end(row, row.exit_event_id, Direction.OUT, row.exited_at, "exit")
            self._reservation(row)
        self._one_open_session_per_plate()
        self._paired_again()
        return self.found

    def _say(self, lot_id: int, text: str) -> None:
        self.found.append(f"Car park {self.codes.get(lot_id, f'#{lot_id}')}: {text}")

    def _events_used_once(self) -> None:
        uses = Counter(
            event_id
            for row in self.sessions
            for event_id in (row.entry_event_id, row.exit_event_id)
            if event_id is not None
        )
        for event_id, count in sorted(uses.items()):
            event = self.events.get(event_id)
            if count > 1 and event is not None:
                self._say(
                    event.lot_id, f"gate event {event.event_id!r} is used by {count} sessions."
                )

    def _shape(self, row: Any) -> None:
        entry, exit_ = SHAPES[row.status]
        has_entry = row.entry_event_id is not None and row.entered_at is not None
        has_exit = row.exit_event_id is not None and row.exited_at is not None
        if (has_entry, has_exit) != (entry, exit_):
            self._say(
                row.lot_id,
                f"parking session #{row.id} is {row.status} but has "
                f"{'an' if has_entry else 'no'} entry and {'an' if has_exit else 'no'} exit.",
            )
        elif has_entry and has_exit and row.exited_at < row.entered_at:
            self._say(row.lot_id, f"parking session #{row.id} ends before it starts.")

    def _end(
        self, row: Any, event_id: int | None, direction: Direction, at: Any, name: str
    ) -> None:
        if event_id is None:
            return
        event = self.events.get(event_id)
        what = f"parking session #{row.id}"
        if event is None:
            self._say(row.lot_id, f"{what} points to {name} event #{event_id}, which is missing.")
        elif event.lot_id != row.lot_id:
            other = self.codes.get(event.lot_id)
            self._say(row.lot_id, f"{what} uses gate event {event.event_id!r} of car park {other}.")
        elif event.plate is not None and row.plate is not None and event.plate != row.plate:
            self._say(
                row.lot_id,
                f"{what} of plate {mask_plate(row.plate)} uses gate event {event.event_id!r} "
                f"of plate {mask_plate(event.plate)}.",
            )
        elif event.direction is not direction:
            way = event.direction
            self._say(row.lot_id, f"{what} has the {way} event {event.event_id!r} as its {name}.")
        elif at != event.at:
            self._say(row.lot_id, f"{what}'s {name} time differs from event {event.event_id!r}.")

    def _reservation(self, row: Any) -> None:
        if row.reservation_id is None:
            return
        reservation = self.reservations.get(row.reservation_id)
        what = f"parking session #{row.id}"
        if reservation is None:
            self._say(row.lot_id, f"{what} points to reservation #{row.reservation_id}, missing.")
        elif reservation.lot_id != row.lot_id or (
            row.plate is not None and reservation.plate != row.plate
        ):
            self._say(row.lot_id, f"{what} belongs to another car park's or plate's reservation.")
        elif reservation.status not in LINKABLE or reservation.arrived_at != row.entered_at:
            self._say(
                row.lot_id,
                f"{what} is linked to reservation {reservation.ref} ({reservation.status}), "
                "which did not arrive with its entry.",
            )

    def _one_open_session_per_plate(self) -> None:
        open_ = Counter(
            (row.lot_id, row.plate)
            for row in self.sessions
            if row.status is SessionStatus.OPEN and row.plate is not None
        )
        for (lot_id, plate), count in sorted(open_.items()):
            if count > 1:
                self._say(lot_id, f"plate {mask_plate(plate)} has {count} open parking sessions.")

    def _paired_again(self) -> None:
        movements: dict[tuple[int, str], dict[int, Movement]] = defaultdict(dict)
        for event in self.all_events:
            if event.plate is not None:
                movements[(event.lot_id, event.plate)][event.id] = _movement(event)
        stored: dict[tuple[int, str], list[tuple[str, int | None, int | None]]] = defaultdict(list)
        for row in self.sessions:
            if row.plate is None:
                continue
            key = (row.lot_id, row.plate)
            stored[key].append((str(row.status), row.entry_event_id, row.exit_event_id))
            for event_id in (row.entry_event_id, row.exit_event_id):
                erased = self.events.get(event_id) if event_id is not None else None
                if erased is not None and erased.plate is None and erased.lot_id == row.lot_id:
                    movements[key][erased.id] = _movement(erased)  # its plate was erased
        for key in sorted(set(movements) | set(stored)):
            again = [
                (str(p.status), p.entry.id if p.entry else None, p.exit.id if p.exit else None)
                for p in pair(movements[key].values())
            ]
            if sorted(again, key=str) != sorted(stored[key], key=str):
                self._say(
                    key[0],
                    f"the parking sessions of plate {mask_plate(key[1])} do not follow from its "
                    f"gate events (stored: {self._shown(stored[key])}; paired again: "
                    f"{self._shown(again)}).",
                )

    def _shown(self, sessions: list[tuple[str, int | None, int | None]]) -> str:
        """Sessions as ``status entry→exit`` with the gate systems' event ids."""

        def named(event_id: int | None) -> str:
            event = self.events.get(event_id) if event_id is not None else None
            return "–" if event_id is None else event.event_id if event else f"#{event_id}"

        shown = [f"{status} {named(entry)}→{named(exit_)}" for status, entry, exit_ in sessions]
        return ", ".join(sorted(shown)) or "none"


def _movement(event: Any) -> Movement:
    return Movement(event.id, event.direction, event.at)
