"""What the operator console's pages share: who may open them, the car park they act on, and
how they write times (Asia/Shanghai) and money (yuan)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from parkshare.accounts import access
from parkshare.accounts.deps import require_page
from parkshare.accounts.principal import Principal, Role
from parkshare.lots.model import Lot
from parkshare.lots.service import get_lot
from parkshare.schedules.rules import SHANGHAI

# Operator staff (their own operator's car parks) and administrators (all of them).
Staff = Annotated[Principal, Depends(require_page(Role.OPERATOR, Role.ADMIN))]

_WEEKDAYS_ZH = "一二三四五六日"
_WEEKDAYS_EN = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def open_lot(user: Principal, session: Session, code: str) -> Lot:
    """The car park ``code`` loaded with its schedule and tariff, if ``user`` may act on it:
    another operator's car park (or an unknown code) is 403 ``not_your_car_park``."""
    access.require_lot(user, session, code)
    return get_lot(session, code)


async def posted_form(request: Request) -> FormData:
    """A posted form (no files) read in full, for forms with a variable number of rows."""
    return await request.form(max_files=0, max_fields=600)


Posted = Annotated[FormData, Depends(posted_form)]


def local(instant: datetime) -> datetime:
    return instant.astimezone(SHANGHAI)


def clock_time(instant: datetime | None, *, until: bool = False) -> str:
    """``19:00``; an end at midnight reads ``24:00`` when ``until``."""
    if instant is None:
        return "—"
    value = local(instant)
    if until and value.time() == time(0):
        return "24:00"
    return f"{value:%H:%M}"


def day_label(day: date, lang: str) -> str:
    """``11月27日 周五`` / ``Fri 27 Nov``."""
    if lang == "zh":
        return f"{day.month}月{day.day}日 周{_WEEKDAYS_ZH[day.weekday()]}"
    return f"{_WEEKDAYS_EN[day.weekday()]} {day.day} {_MONTHS_EN[day.month - 1]}"


def moment(instant: datetime | None, lang: str) -> str:
    """``11月27日 周五 19:00`` / ``Fri 27 Nov 19:00``; ``—`` for none."""
    if instant is None:
        return "—"
    value = local(instant)
    return f"{day_label(value.date(), lang)} {value:%H:%M}"


def yuan(fen: int | None) -> str:
    if fen is None:
        return "—"
    return f"¥{fen // 100:,}.{fen % 100:02d}"


def today_bounds(now: datetime) -> tuple[datetime, datetime]:
    first = datetime.combine(local(now).date(), time(0), SHANGHAI)
    return first, first + timedelta(days=1)


# Functions the console templates call.
HELPERS: dict[str, Any] = {
    "clock_time": clock_time,
    "day_label": day_label,
    "moment": moment,
    "yuan": yuan,
}
