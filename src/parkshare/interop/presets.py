"""Schedule presets by name, for the registry spreadsheet: a row names a preset and its shared
berths; the export names the preset a car park's rules match (or ``custom``).

Qingdao's institutional rules come with the city's quiet hours; the commercial presets have
none, as in the West Coast demo. A mall shares a quarter of its berths while trading.
"""

from __future__ import annotations

from enum import StrEnum

from parkshare.lots.model import Lot
from parkshare.schedules import presets
from parkshare.schedules.rules import Berths, QuietHours, SharingRule
from parkshare.schedules.service import schedule_of

CUSTOM = "custom"  # rules no preset produces: kept as they are, never rebuilt
MALL_DAYTIME_SHARE = 0.25


class Preset(StrEnum):
    QINGDAO_INSTITUTIONAL = "qingdao_institutional"
    MALL = "mall"
    HOTEL = "hotel"
    OFFICE = "office"


Rules = tuple[SharingRule, ...]


def preset_rules(preset: Preset, shared: Berths) -> tuple[Rules, QuietHours | None]:
    match preset:
        case Preset.QINGDAO_INSTITUTIONAL:
            return presets.qingdao_institutional(shared), presets.QINGDAO_QUIET_HOURS
        case Preset.MALL:
            daytime = {c: int(n * MALL_DAYTIME_SHARE) for c, n in shared.items()}
            return presets.mall(shared, daytime=daytime), None
        case Preset.HOTEL:
            return presets.hotel(shared), None
        case Preset.OFFICE:
            return presets.office(shared), None


def preset_of(lot: Lot, shared: Berths) -> str:
    """The preset that, given ``shared`` (the car park's peak shared berths), produces exactly
    its rules and quiet hours; ``custom`` if none does, ``""`` if it has no rules."""
    if not lot.rules:
        return ""
    schedule = schedule_of(lot)
    ours = _normal(schedule.rules)
    for preset in Preset:
        rules, quiet = preset_rules(preset, shared)
        if _normal(rules) == ours and quiet == schedule.quiet_hours:
            return preset.value
    return CUSTOM


def has_rules(lot: Lot, rules: Rules, quiet_hours: QuietHours | None) -> bool:
    """Whether the car park already has these rules (in any order) and quiet hours."""
    schedule = schedule_of(lot)
    return _normal(schedule.rules) == _normal(rules) and schedule.quiet_hours == quiet_hours


def _normal(rules: Rules) -> list[tuple[object, ...]]:
    """Rules compared without their order and without categories that share nothing."""
    return sorted(
        (
            tuple(sorted(rule.day_types)),
            rule.start,
            rule.end,
            rule.end_day_offset,
            tuple(sorted((str(c), n) for c, n in rule.shared_berths.items() if n)),
        )
        for rule in rules
    )
