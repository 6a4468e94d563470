"""Chinese mainland licence plates: normalisation, validation and masking.

Pure functions over strings, no I/O. The rules follow GA 36-2018 《中华人民共和国机动车号牌》
(Ministry of Public Security), sections on the composition of plate numbers:

* A number is a province abbreviation (one of the 31 mainland ones), the letter of the issuing
  authority (发牌机关代号) and a serial (序号). The letters I and O are never used, neither for
  the authority nor in the serial.
* Ordinary plates (普通号牌, 7 characters): a serial of 5 letters or digits, e.g. 鲁B12345 or
  鲁BA1234. Motorcycle plates have the same shape and parse as ordinary.
* New-energy plates (新能源号牌, 8 characters), serial of 6:
  - small vehicles: a new-energy letter first, then a letter or digit, then 4 digits (鲁BD12345);
  - large vehicles: 5 digits, then a new-energy letter last (鲁B12345D).
  New-energy letters: D, A, B, C, E for pure-electric vehicles and F, G, H, J, K for the others
  (plug-in hybrid, fuel cell). D and F were issued first and are by far the most common; the
  standard reserves the other eight for when D and F run out, so they are accepted too.
* Special plates supported here (7 characters, serial of 4 letters or digits, then a Chinese
  suffix): 警 police, 学 driving-school coach, 挂 trailer, 领 consulate, and 港/澳 for
  cross-border vehicles from Hong Kong/Macao, which are only issued as 粤Z (e.g. 粤Z1234港).
  Not supported: embassy plates (使 prefix, no province), 试 test and 超 over-limit plates,
  two-character suffixes such as 应急, temporary plates, military and armed-police plates.

Positions in error details are 1-based and count characters of the normalised number (the plate
as printed, without the separator dot), so "鲁B·1I345" reports the I at position 4.
Error messages name the offending character, never the whole number.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Final, NoReturn

from parkshare.errors import InvalidPlate

PROVINCES: Final = frozenset("京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼")
PURE_ELECTRIC_LETTERS: Final = frozenset("DABCE")
OTHER_NEW_ENERGY_LETTERS: Final = frozenset("FGHJK")
NEW_ENERGY_LETTERS: Final = PURE_ELECTRIC_LETTERS | OTHER_NEW_ENERGY_LETTERS
SPECIAL_SUFFIXES: Final[Mapping[str, str]] = {
    "警": "police",
    "学": "driving-school",
    "挂": "trailer",
    "领": "consulate",
    "港": "Hong Kong cross-border",
    "澳": "Macao cross-border",
}
CROSS_BORDER_PREFIX: Final = "粤Z"

ORDINARY_LENGTH: Final = 7
NEW_ENERGY_LENGTH: Final = 8
SPECIAL_LENGTH: Final = 7

_DIGITS: Final = frozenset("0123456789")
_ASCII_LETTERS: Final = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
_EXCLUDED_LETTERS: Final = frozenset("IO")
_SEPARATORS: Final = frozenset("·•・‧∙-‐‑–—.。")
_UNSUPPORTED_SUFFIXES: Final[Mapping[str, str]] = {
    "使": "embassy",
    "试": "test",
    "超": "over-limit trial",
}
_FULL_WIDTH_OFFSET: Final = 0xFEE0  # 'Ａ' (U+FF21) - 'A' (U+0041)
_MASK: Final = "*"
_MAX_HIDDEN: Final = 6  # mask_plate of an invalid string: at most 2 shown + 6 masked characters


class PlateKind(StrEnum):
    ORDINARY = "ordinary"
    NEW_ENERGY = "new_energy"
    SPECIAL = "special"


@dataclass(frozen=True)
class Plate:
    """A valid plate. Build it with `parse_plate`, which guarantees the fields agree."""

    number: str
    kind: PlateKind
    province: str
    authority: str

    @property
    def suffix(self) -> str | None:
        """The Chinese suffix of a special plate (警, 学, …), None for the others."""
        return self.number[-1] if self.kind is PlateKind.SPECIAL else None

    @property
    def serial(self) -> str:
        """The characters after the authority letter, without a special suffix."""
        return self.number[2:-1] if self.kind is PlateKind.SPECIAL else self.number[2:]

    def masked(self) -> str:
        """The number for display and logs, the same length as the number.

        Keeps the province, the authority letter, the first and the last serial characters and
        a special suffix; every other serial character becomes '*': 鲁B12345 → 鲁B1***5,
        鲁BD12345 → 鲁BD****5, 鲁B1234警 → 鲁B1**4警.
        """
        serial = self.serial
        hidden = _MASK * (len(serial) - 2)
        return f"{self.province}{self.authority}{serial[0]}{hidden}{serial[-1]}{self.suffix or ''}"


def normalise_plate(text: str) -> str:
    """Drop whitespace and separators (· • - .), fold full-width ASCII and upper-case a–z.

    Only ASCII a–z are upper-cased, so no other character can turn into a plate letter.
    """
    kept: list[str] = []
    for char in text:
        if "！" <= char <= "～":  # full-width forms of the printable ASCII characters
            char = chr(ord(char) - _FULL_WIDTH_OFFSET)
        if char.isspace() or char in _SEPARATORS:
            continue
        if "a" <= char <= "z":
            char = char.upper()
        kept.append(char)
    return "".join(kept)


def parse_plate(text: str) -> Plate:
    """Normalise and validate a plate; raise `InvalidPlate` saying exactly what is wrong."""
    number = normalise_plate(text)
    if not number:
        _fail("plate is empty", reason="empty")
    _check_province(number)
    suffix = number[-1] if len(number) > 1 and number[-1] in SPECIAL_SUFFIXES else None
    _check_characters(number[:-1] if suffix else number)
    _check_length(number, suffix)
    _check_authority(number[1])
    serial = number[2:-1] if suffix else number[2:]
    _check_serial_letters(serial)
    if suffix is not None:
        _check_special(number, suffix)
        kind = PlateKind.SPECIAL
    elif len(number) == NEW_ENERGY_LENGTH:
        _check_new_energy(serial)
        kind = PlateKind.NEW_ENERGY
    else:
        kind = PlateKind.ORDINARY
    return Plate(number=number, kind=kind, province=number[0], authority=number[1])


def mask_plate(text: str) -> str:
    """Mask any string for logs; never raises.

    A valid plate gives `Plate.masked()`. Anything else shows at most its first two characters
    (after normalisation; unprintable ones become '*') and one '*' for each further character,
    at most six, so it never echoes more than two characters of the input. Inputs of up to three
    characters are masked completely.
    """
    try:
        return parse_plate(text).masked()
    except InvalidPlate:
        pass
    number = normalise_plate(text)
    if len(number) <= 3:
        return _MASK * len(number)
    shown = "".join(char if char.isprintable() else _MASK for char in number[:2])
    return shown + _MASK * min(len(number) - 2, _MAX_HIDDEN)


def _fail(message: str, **details: object) -> NoReturn:
    raise InvalidPlate(message, field="plate", **details)


def _show(char: str) -> str:
    """A character for an error message; unprintable ones by code point."""
    return f"'{char}'" if char.isprintable() else f"U+{ord(char):04X}"


def _check_province(number: str) -> None:
    first = number[0]
    if first in PROVINCES:
        return
    if first == "使":
        _fail("embassy plates (使) are not supported", position=1, value=first)
    _fail(f"{_show(first)} is not a province abbreviation", position=1, value=first)


def _check_characters(body: str) -> None:
    """Every character after the province must be an ASCII letter or digit."""
    last = len(body)
    for position, char in enumerate(body[1:], start=2):
        if char in _ASCII_LETTERS or char in _DIGITS:
            continue
        if position == last and char in _UNSUPPORTED_SUFFIXES:
            supported = ", ".join(SPECIAL_SUFFIXES)
            _fail(
                f"{_UNSUPPORTED_SUFFIXES[char]} plates ('{char}') are not supported; "
                f"supported suffixes: {supported}",
                position=position,
                value=char,
            )
        _fail(
            f"character {_show(char)} at position {position} is not a letter or digit",
            position=position,
            value=char,
        )


def _check_length(number: str, suffix: str | None) -> None:
    length = len(number)
    if suffix is not None:
        if length != SPECIAL_LENGTH:
            _fail(
                f"a {SPECIAL_SUFFIXES[suffix]} plate ('{suffix}') has {SPECIAL_LENGTH} "
                f"characters (province, authority letter, 4 serial characters, '{suffix}'); "
                f"got {length}",
                length=length,
                expected=SPECIAL_LENGTH,
            )
        return
    if ORDINARY_LENGTH <= length <= NEW_ENERGY_LENGTH:
        return
    problem = "too short" if length < ORDINARY_LENGTH else "too long"
    characters = "character" if length == 1 else "characters"
    _fail(
        f"plate is {problem}: {length} {characters}, expected {ORDINARY_LENGTH} (ordinary) "
        f"or {NEW_ENERGY_LENGTH} (new-energy)",
        length=length,
        expected=[ORDINARY_LENGTH, NEW_ENERGY_LENGTH],
    )


def _check_authority(authority: str) -> None:
    if authority in _EXCLUDED_LETTERS:
        _fail(
            f"issuing authority letter '{authority}' at position 2 is not used "
            "(I and O are excluded)",
            position=2,
            value=authority,
        )
    if authority not in _ASCII_LETTERS:
        _fail(
            f"issuing authority at position 2 must be a letter, got '{authority}'",
            position=2,
            value=authority,
        )


def _check_serial_letters(serial: str) -> None:
    for position, char in enumerate(serial, start=3):
        if char in _EXCLUDED_LETTERS:
            digit = "1" if char == "I" else "0"
            _fail(
                f"letter '{char}' at position {position} is not used in plate serials "
                f"(I and O are excluded; did you mean {digit}?)",
                position=position,
                value=char,
            )


def _check_special(number: str, suffix: str) -> None:
    if suffix in ("港", "澳") and number[:2] != CROSS_BORDER_PREFIX:
        _fail(
            f"'{suffix}' plates are only issued as {CROSS_BORDER_PREFIX}, got '{number[:2]}'",
            position=1,
            value=number[:2],
            expected=CROSS_BORDER_PREFIX,
        )


def _check_new_energy(serial: str) -> None:
    """GA 36-2018: small [DABCEFGHJK][letter or digit][0-9]{4}; large [0-9]{5}[DABCEFGHJK]."""
    first, last = serial[0], serial[-1]
    if first in NEW_ENERGY_LETTERS:
        _expect_digits(serial, 2, 6, f"a small new-energy plate ('{first}' first) needs")
    elif last in NEW_ENERGY_LETTERS:
        _expect_digits(serial, 0, 5, f"a large new-energy plate ('{last}' last) needs")
    else:
        _fail(
            "an 8-character new-energy plate needs D or F (or another new-energy letter: "
            "A, B, C, E, G, H, J, K) as the first serial character (small vehicles) or the last "
            f"(large vehicles); got {_show(first)} at position 3 and {_show(last)} at position 8",
            position=3,
            value=first,
        )


def _expect_digits(serial: str, start: int, stop: int, form: str) -> None:
    for index in range(start, stop):
        if serial[index] not in _DIGITS:
            position = index + 3
            _fail(
                f"{form} {stop - start} digits at positions {start + 3}–{stop + 2}; "
                f"position {position} is '{serial[index]}'",
                position=position,
                value=serial[index],
            )
