"""How the driver pages say things: times in Asia/Shanghai, money in yuan, and refusals in
the visitor's language (the services' messages are English; their ``code`` is stable)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from parkshare.config import Policy
from parkshare.errors import ParkshareError
from parkshare.schedules.rules import SHANGHAI
from parkshare.web.i18n import catalogue, translate

_WEEKDAYS_ZH = "一二三四五六日"
_WEEKDAYS_EN = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def when(instant: datetime | None, lang: str) -> str:
    """An instant as a driver reads it: 11月27日（周五）19:00 / Fri 27 Nov 19:00."""
    if instant is None:
        return "—"
    local = instant.astimezone(SHANGHAI)
    if lang == "zh":
        weekday = _WEEKDAYS_ZH[local.weekday()]
        return f"{local.month}月{local.day}日（周{weekday}）{local:%H:%M}"
    month = _MONTHS_EN[local.month - 1]
    return f"{_WEEKDAYS_EN[local.weekday()]} {local.day} {month} {local:%H:%M}"


def span(start: datetime, end: datetime, lang: str) -> str:
    """A window from ``start`` to ``end``; the end without its date when on the same day."""
    if start.astimezone(SHANGHAI).date() == end.astimezone(SHANGHAI).date():
        return f"{when(start, lang)} – {end.astimezone(SHANGHAI):%H:%M}"
    return f"{when(start, lang)} – {when(end, lang)}"


def yuan(fen: int | None) -> str:
    """Integer fen as yuan: 2250 → ¥22.50."""
    if fen is None:
        return "—"
    return f"¥{fen // 100}.{fen % 100:02d}"


def local_input(instant: datetime) -> str:
    """The value of a ``datetime-local`` input (Asia/Shanghai, to the minute)."""
    return f"{instant.astimezone(SHANGHAI):%Y-%m-%dT%H:%M}"


def leave_rules(policy: Policy) -> dict[str, object]:
    """What the must-leave-by warning says happens after it (``driver/_refusal.html``)."""
    return {
        "grace_minutes": int(policy.overstay_grace.total_seconds() // 60),
        "surcharge": yuan(policy.overstay_surcharge_fen_per_hour),
        "violations": policy.violations_to_blacklist,
        "barred_days": policy.blacklist_for.days,
    }


@dataclass(frozen=True)
class Refusal:
    """A refusal as the page shows it: the stable code and a sentence in the page's language."""

    code: str
    text: str
    detail: str  # the service's own (English) sentence, shown small for the curious


def explain(lang: str, error: ParkshareError) -> Refusal:
    """Translate a refusal by its code (and, where one code covers several problems, by the
    field or detail it names); fall back to the service's message."""
    details = error.details
    candidates = []
    if "field" in details:
        candidates.append(f"driver.error.{error.code}.{details['field']}")
    if error.code == "invalid_plate":
        if "length" in details:
            candidates.insert(0, "driver.error.invalid_plate.length")
        elif "position" in details:
            candidates.insert(0, "driver.error.invalid_plate.position")
    candidates.append(f"driver.error.{error.code}")
    values = {k: v for k, v in details.items() if isinstance(v, str | int)}
    for key in candidates:
        if key in catalogue():
            try:
                text = translate(lang, key, **values)
            except (KeyError, IndexError):  # the message needs a detail this error lacks
                continue
            return Refusal(code=error.code, text=text, detail=error.message)
    return Refusal(code=error.code, text=error.message, detail="")
