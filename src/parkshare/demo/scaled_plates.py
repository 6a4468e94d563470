"""Unique plate numbers and public references for a scaled demo: deterministic, never
repeated, and valid under ``parkshare.plates`` (GA 36-2018).

Each drawn plate is new, so no plate holds two overlapping reservations or two passes of a
month. Most cars are the city's own (鲁 + its letter), some from elsewhere in Shandong and a
few from other provinces; cars booking an EV charging berth carry new-energy plates.
"""

from __future__ import annotations

import random

_LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"  # no I or O
_ALNUM = "0123456789" + _LETTERS
_SHANDONG = "ABCDEFGHJKLMNPQR"  # 鲁A 济南 … 鲁R 菏泽
_ELSEWHERE = ("京A", "津A", "冀A", "豫A", "苏C", "沪A", "浙A", "皖A", "辽B", "晋A")
_PREFIXES = tuple("鲁" + letter for letter in _SHANDONG) + _ELSEWHERE
# Serials as mixed-radix numbers: ordinary 鲁B + letter, letter or digit, 3 digits; new-energy
# (small cars) 鲁B + D or F, letter or digit, 4 digits.
_ORDINARY_SPACE = len(_LETTERS) * len(_ALNUM) * 1_000
_NEW_ENERGY_SPACE = 2 * len(_ALNUM) * 10_000
# Coprime to both spaces and near 0.618 of them: consecutive serials look unrelated.
_STRIDE = 504_311
_MASK64 = (1 << 64) - 1


class Plates:
    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self._issued: dict[tuple[str, bool], int] = {}

    def draw(self, city_letter: str, *, new_energy: bool) -> str:
        roll = self._rng.random()
        if roll < 0.82:
            prefix = "鲁" + city_letter
        elif roll < 0.96:
            prefix = "鲁" + self._rng.choice(_SHANDONG)
        else:
            prefix = self._rng.choice(_ELSEWHERE)
        space = _NEW_ENERGY_SPACE if new_energy else _ORDINARY_SPACE
        n = self._issued.get((prefix, new_energy), 0)
        if n >= space:  # this prefix's serials are used up: the first one with some left
            prefix = next(p for p in _PREFIXES if self._issued.get((p, new_energy), 0) < space)
            n = self._issued.get((prefix, new_energy), 0)
        self._issued[(prefix, new_energy)] = n + 1
        start = ord(prefix[0]) * 7_919 + ord(prefix[1]) * 104_729  # each prefix its own
        serial = (n * _STRIDE + start) % space
        if new_energy:
            head, rest = divmod(serial, len(_ALNUM) * 10_000)
            middle, digits = divmod(rest, 10_000)
            return f"{prefix}{'DF'[head]}{_ALNUM[middle]}{digits:04d}"
        head, rest = divmod(serial, len(_ALNUM) * 1_000)
        middle, digits = divmod(rest, 1_000)
        return f"{prefix}{_LETTERS[head]}{_ALNUM[middle]}{digits:03d}"


class Refs:
    """Public references shaped like the services' (``R`` + 16 hex digits), distinct for
    every row and the same for the same seed. Time-ordered, as ULIDs and UUIDv7 are: a
    rising counter, then bits mixed from it — so a bulk insert appends to the unique index
    instead of writing all over it."""

    def __init__(self, prefix: str, seed: int) -> None:
        self._prefix = prefix
        mixed = _mix64(seed << 8 | ord(prefix[0]))
        # 40 bits: a byte of the seed, then a counter with room for over 3 billion refs
        self._next = (mixed >> 56) << 32 | (mixed & 0x0FFF_FFFF)

    def draw(self) -> str:
        counter = self._next
        self._next += 1
        return f"{self._prefix}{counter:010x}{_mix64(counter) & 0xFF_FFFF:06x}"


def _mix64(x: int) -> int:
    """SplitMix64's finaliser: a bijection on 64-bit integers."""
    z = (x + 0x9E3779B97F4A7C15) & _MASK64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK64
    return z ^ (z >> 31)
