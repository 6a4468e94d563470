"""Chinese mainland licence plates: parsing, normalisation, errors and masking (GA 36-2018)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from parkshare.errors import InvalidInput, InvalidPlate
from parkshare.plates import (
    NEW_ENERGY_LETTERS,
    PROVINCES,
    Plate,
    PlateKind,
    mask_plate,
    normalise_plate,
    parse_plate,
)

LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"  # no I, no O
DIGITS = "0123456789"

# -- valid plates ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "kind", "authority"),
    [
        ("鲁B12345", PlateKind.ORDINARY, "B"),
        ("鲁BA1234", PlateKind.ORDINARY, "B"),
        ("鲁BAB123", PlateKind.ORDINARY, "B"),
        ("京Q8J9K7", PlateKind.ORDINARY, "Q"),
        ("鲁BD12345", PlateKind.NEW_ENERGY, "B"),
        ("鲁BDA1234", PlateKind.NEW_ENERGY, "B"),
        ("鲁BF12345", PlateKind.NEW_ENERGY, "B"),
        ("沪AA12345", PlateKind.NEW_ENERGY, "A"),
        ("鲁BKC1234", PlateKind.NEW_ENERGY, "B"),
        ("鲁B12345D", PlateKind.NEW_ENERGY, "B"),
        ("甘G23459F", PlateKind.NEW_ENERGY, "G"),
        ("鲁B1234警", PlateKind.SPECIAL, "B"),
        ("鲁BA123学", PlateKind.SPECIAL, "B"),
        ("鲁B1234挂", PlateKind.SPECIAL, "B"),
        ("沪A1234领", PlateKind.SPECIAL, "A"),
        ("粤Z1234港", PlateKind.SPECIAL, "Z"),
        ("粤Z1234澳", PlateKind.SPECIAL, "Z"),
    ],
)
def test_parse_plate_accepts_valid_plates(text: str, kind: PlateKind, authority: str) -> None:
    plate = parse_plate(text)
    assert plate == Plate(number=text, kind=kind, province=text[0], authority=authority)


def test_parse_plate_splits_a_special_plate_into_serial_and_suffix() -> None:
    plate = parse_plate("鲁B1234警")
    assert (plate.serial, plate.suffix) == ("1234", "警")
    ordinary = parse_plate("鲁B12345")
    assert (ordinary.serial, ordinary.suffix) == ("12345", None)


@pytest.mark.parametrize(
    "text",
    [
        " 鲁b·12345 ",
        "鲁B 12345",
        "鲁B-12345",
        "鲁B.12345",
        "鲁B•12345",
        "鲁Ｂ１２３４５",
        "鲁ｂ１２３４５",
        "\t鲁\u3000B12345\n",
        "鲁B－12345",
    ],
)
def test_parse_plate_normalises_case_separators_and_full_width(text: str) -> None:
    assert parse_plate(text).number == "鲁B12345"


def test_normalise_plate_upper_cases_only_ascii_letters() -> None:
    # 'ı' (dotless i) upper-cases to 'I' in Python; it must not sneak in as a plate letter.
    assert normalise_plate("鲁bı2345") == "鲁Bı2345"
    with pytest.raises(InvalidPlate):
        parse_plate("鲁Bı2345")


def test_plate_kinds_are_strings() -> None:
    assert PlateKind.NEW_ENERGY.value == "new_energy"
    assert [str(kind) for kind in PlateKind] == ["ordinary", "new_energy", "special"]


# -- errors -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message", "details"),
    [
        ("", "plate is empty", {"reason": "empty"}),
        (" · - ", "plate is empty", {"reason": "empty"}),
        ("X12345", "'X' is not a province abbreviation", {"position": 1, "value": "X"}),
        ("港B12345", "'港' is not a province abbreviation", {"position": 1}),
        ("使123456", "embassy plates (使) are not supported", {"position": 1}),
        (
            "鲁B1234",
            "plate is too short: 6 characters, expected 7 (ordinary) or 8 (new-energy)",
            {"length": 6, "expected": [7, 8]},
        ),
        ("鲁", "plate is too short: 1 character, expected 7", {"length": 1}),
        (
            "鲁B1234567",
            "plate is too long: 9 characters, expected 7 (ordinary) or 8 (new-energy)",
            {"length": 9},
        ),
        (
            "鲁B12#45",
            "character '#' at position 5 is not a letter or digit",
            {"position": 5, "value": "#"},
        ),
        ("鲁B12鲁45", "character '鲁' at position 5 is not a letter or digit", {"position": 5}),
        ("鲁B12\x0045", "character U+0000 at position 5 is not a letter or digit", {"position": 5}),
        (
            "鲁B1234试",
            "test plates ('试') are not supported; supported suffixes: 警, 学, 挂, 领, 港, 澳",
            {"position": 7},
        ),
        (
            "鲁112345",
            "issuing authority at position 2 must be a letter, got '1'",
            {"position": 2, "value": "1"},
        ),
        (
            "鲁I12345",
            "issuing authority letter 'I' at position 2 is not used (I and O are excluded)",
            {"position": 2},
        ),
        (
            "鲁B1I345",
            "letter 'I' at position 4 is not used in plate serials (I and O are excluded; did you mean 1?)",
            {"position": 4, "value": "I"},
        ),
        (
            "鲁B1234O",
            "letter 'O' at position 7 is not used in plate serials (I and O are excluded; did you mean 0?)",
            {"position": 7},
        ),
        (
            "鲁BF1A234",
            "a small new-energy plate ('F' first) needs 4 digits at positions 5–8; position 5 is 'A'",
            {"position": 5, "value": "A"},
        ),
        (
            "鲁BD1234D",
            "a small new-energy plate ('D' first) needs 4 digits at positions 5–8; position 8 is 'D'",
            {"position": 8},
        ),
        (
            "鲁B1234AD",
            "a large new-energy plate ('D' last) needs 5 digits at positions 3–7; position 7 is 'A'",
            {"position": 7},
        ),
        (
            "鲁B123456",
            "an 8-character new-energy plate needs D or F",
            {"position": 3, "value": "1"},
        ),
        ("鲁BL12345", "got 'L' at position 3 and '5' at position 8", {"position": 3}),
        (
            "鲁B12345警",
            "a police plate ('警') has 7 characters (province, authority letter, 4 serial characters, '警'); got 8",
            {"length": 8, "expected": 7},
        ),
        ("鲁B123学", "a driving-school plate ('学') has 7 characters", {"length": 6}),
        ("鲁B1234港", "'港' plates are only issued as 粤Z, got '鲁B'", {"expected": "粤Z"}),
        ("粤B1234澳", "'澳' plates are only issued as 粤Z, got '粤B'", {"expected": "粤Z"}),
    ],
)
def test_parse_plate_says_exactly_what_is_wrong(
    text: str, message: str, details: dict[str, Any]
) -> None:
    with pytest.raises(InvalidPlate) as caught:
        parse_plate(text)
    error = caught.value
    assert message in error.message
    assert error.details["field"] == "plate"
    assert details.items() <= error.details.items()


def test_invalid_plate_is_an_invalid_input_with_its_own_code() -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_plate("鲁B1234")
    assert caught.value.code == "invalid_plate"
    assert caught.value.status == 422
    assert caught.value.to_dict()["code"] == "invalid_plate"


def test_error_messages_do_not_repeat_the_whole_number() -> None:
    with pytest.raises(InvalidPlate) as caught:
        parse_plate("鲁B1I345")
    assert "1I345" not in caught.value.message


# -- masking ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("鲁B12345", "鲁B1***5"),
        ("鲁BD12345", "鲁BD****5"),
        ("鲁B12345D", "鲁B1****D"),
        ("鲁B1234警", "鲁B1**4警"),
        (" 鲁b·12345 ", "鲁B1***5"),
    ],
)
def test_masked_keeps_province_authority_and_the_ends_of_the_serial(text: str, masked: str) -> None:
    plate = parse_plate(text)
    assert plate.masked() == masked
    assert mask_plate(text) == masked
    assert plate.masked() != plate.number
    assert len(plate.masked()) == len(plate.number)


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("", ""),
        ("鲁B1", "***"),
        ("鲁B1234", "鲁B****"),
        ("X12345", "X1****"),
        ("hunter2-password", "HU******"),
        ("\x1b[31m鲁B12345", "*[******"),
    ],
)
def test_mask_plate_hides_an_invalid_string(text: str, masked: str) -> None:
    assert mask_plate(text) == masked


# -- properties ---------------------------------------------------------------------------

provinces = st.sampled_from(sorted(PROVINCES))
authorities = st.sampled_from(LETTERS)
serial_chars = st.sampled_from(LETTERS + DIGITS)
digits = st.sampled_from(DIGITS)
new_energy_letters = st.sampled_from(sorted(NEW_ENERGY_LETTERS))


def _joined(*parts: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.tuples(*parts).map("".join)


ordinary_plates = _joined(provinces, authorities, *[serial_chars] * 5)
small_new_energy_plates = _joined(
    provinces, authorities, new_energy_letters, serial_chars, *[digits] * 4
)
large_new_energy_plates = _joined(provinces, authorities, *[digits] * 5, new_energy_letters)
special_plates = _joined(
    provinces, authorities, *[serial_chars] * 4, st.sampled_from("警学挂领")
) | _joined(st.just("粤Z"), *[serial_chars] * 4, st.sampled_from("港澳"))

valid_plates = st.one_of(
    ordinary_plates.map(lambda n: (n, PlateKind.ORDINARY)),
    small_new_energy_plates.map(lambda n: (n, PlateKind.NEW_ENERGY)),
    large_new_energy_plates.map(lambda n: (n, PlateKind.NEW_ENERGY)),
    special_plates.map(lambda n: (n, PlateKind.SPECIAL)),
)


@st.composite
def noisy(draw: st.DrawFn, number: str) -> str:
    """The same plate as a person might type it: case, full width, separators, spaces."""
    out = [draw(st.sampled_from(["", " ", "\u3000"]))]
    for char in number:
        if char.isascii() and draw(st.booleans()):
            char = char.lower() if char.isalpha() else chr(ord(char) + 0xFEE0)
        elif char.isascii() and draw(st.booleans()):
            char = chr(ord(char) + 0xFEE0)
        out.append(char + draw(st.sampled_from(["", "", " ", "·", "•", "-", "."])))
    return "".join(out)


@settings(max_examples=500, database=None, derandomize=True)
@given(valid_plates)
def test_parse_plate_round_trips_valid_plates(case: tuple[str, PlateKind]) -> None:
    number, kind = case
    plate = parse_plate(number)
    assert plate == Plate(number=number, kind=kind, province=number[0], authority=number[1])
    assert parse_plate(plate.number) == plate


@settings(max_examples=300, database=None, derandomize=True)
@given(st.data())
def test_parse_plate_reads_a_noisy_spelling_of_a_valid_plate(data: st.DataObject) -> None:
    number, _ = data.draw(valid_plates)
    assert parse_plate(data.draw(noisy(number))).number == number


@settings(max_examples=1000, database=None, derandomize=True)
@given(st.text())
def test_parse_plate_raises_only_invalid_plate_on_arbitrary_text(text: str) -> None:
    try:
        plate = parse_plate(text)
    except InvalidPlate as error:
        assert error.message
        assert error.details["field"] == "plate"
    else:
        assert plate.number == normalise_plate(text)


@settings(max_examples=500, database=None, derandomize=True)
@given(valid_plates)
def test_mask_plate_never_shows_the_serial_of_a_valid_plate(case: tuple[str, PlateKind]) -> None:
    number, _ = case
    plate = parse_plate(number)
    masked = mask_plate(number)
    assert masked == plate.masked() != number
    assert len(masked) == len(number)
    assert masked[:2] == number[:2]
    assert plate.serial not in masked


@settings(max_examples=1000, database=None, derandomize=True)
@given(st.text())
def test_mask_plate_never_raises_and_echoes_at_most_two_characters_of_invalid_text(
    text: str,
) -> None:
    masked = mask_plate(text)
    try:
        parse_plate(text)
    except InvalidPlate:
        assert len(masked) <= 8
        assert set(masked[2:]) <= {"*"}
        assert all(char.isprintable() for char in masked)
