"""Editing a car park's sharing schedule, shared berths and tariff in the operator console.

``GET /console/lots/{code}/schedule`` shows the form filled with what is saved and the coming
week under it. The form posts back here: *Preview* checks the changes and shows the coming
week's sharing by day and window (and any reservation the change could not honour) without
saving; *Save* stores schedule and tariff in one transaction through the same services as
the API, then shows the saved schedule.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from parkshare.accounts import access
from parkshare.accounts.principal import Principal
from parkshare.clock import Clock
from parkshare.config import Settings
from parkshare.db import Database
from parkshare.deps import ClockDep, DatabaseDep, SessionDep, SettingsDep, write
from parkshare.fees import service as fees
from parkshare.lots.model import Lot
from parkshare.schedules import service as schedules
from parkshare.schedules.preview import (
    Misfit,
    Preview,
    Problem,
    ScheduleChanged,
    ScheduleConflictsReservations,
    ScheduleRefused,
    week,
)
from parkshare.schedules.rules import BerthCategory
from parkshare.web.console_common import HELPERS, Posted, Staff, local, open_lot
from parkshare.web.console_form import DAY_TYPES, Parsed, ScheduleForm, read
from parkshare.web.i18n import catalogue, choose_language, translate
from parkshare.web.render import check_form, render

router = APIRouter()


@dataclass(frozen=True)
class Shown:
    """A problem as the page shows it: which rule card it belongs to, and the sentence."""

    code: str
    field: str
    position: int | None
    text: str


def explain(lang: str, problem: Problem) -> Shown:
    """The problem in the page's language (by its code; the service's English otherwise)."""
    values: dict[str, Any] = dict(problem.values)
    if "category" in values:
        values["category"] = translate(lang, f"console.category.{values['category']}")
    if "day_types" in values:
        names = [translate(lang, f"console.day_type.{d}") for d in values["day_types"]]
        values["day_types"] = "、".join(names) if lang == "zh" else ", ".join(names)
    key = f"console.problem.{problem.code}"
    text = problem.message
    if key in catalogue():
        try:
            text = translate(lang, key, **values)
        except (KeyError, IndexError):
            text = problem.message
    return Shown(problem.code, problem.field, problem.position, text)


def _page(
    request: Request,
    lot: Lot,
    form: ScheduleForm,
    *,
    preview: Preview | None,
    proposed: bool,
    problems: Sequence[Problem] = (),
    misfits: Sequence[Misfit] = (),
    notice: str = "",
    warning: str = "",
    status_code: int = 200,
) -> HTMLResponse:
    lang = choose_language(request)
    return render(
        request,
        "console/schedule.html",
        status_code=status_code,
        lot=lot,
        form=form.with_blank_rows(),
        physical=schedules.physical_berths(lot),
        categories=list(BerthCategory),
        day_types=DAY_TYPES,
        preview=preview,
        proposed=proposed,
        problems=[explain(lang, p) for p in problems],
        misfits=misfits,
        notice=notice,
        warning=warning,
        **HELPERS,
    )


def _current_week(session: Session, lot: Lot, now: datetime, settings: Settings) -> Preview:
    schedule = schedules.schedule_of(lot)
    return week(
        schedule,
        schedules.calendar(session),
        local(now).date(),
        horizon_days=settings.window_horizon_days,
    )


@router.get("/console/lots/{code}/schedule", response_class=HTMLResponse)
def console_schedule(
    request: Request,
    user: Staff,
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
    code: str,
    saved: Annotated[str, Query(max_length=1)] = "",
) -> HTMLResponse:
    lot = open_lot(user, session, code)
    form = ScheduleForm.of(schedules.schedule_of(lot), fees.tariff_of(lot), lot.version)
    return _page(
        request,
        lot,
        form,
        preview=_current_week(session, lot, clock.now(), settings),
        proposed=False,
        notice="console.schedule.saved" if saved else "",
    )


@router.post("/console/lots/{code}/schedule", response_class=HTMLResponse)
def console_schedule_post(
    request: Request,
    user: Staff,
    data: Posted,
    database: DatabaseDep,
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
    code: str,
) -> Response:
    token = data.get("csrf_token", "")
    check_form(request, user, token if isinstance(token, str) else "")
    lot = open_lot(user, session, code)
    form = ScheduleForm.posted(data)
    parsed = read(form)
    if parsed.proposal is None:
        return _refused(request, lot, form, problems=parsed.problems, status_code=422)
    if data.get("action") == "save":
        return _save(request, user, database, settings, clock, lot, form, parsed)
    check = schedules.preview_schedule(
        session, lot, parsed.proposal, clock=clock, horizon_days=settings.window_horizon_days
    )
    return _page(
        request,
        lot,
        form,
        preview=check.preview,
        proposed=True,
        problems=check.problems,
        misfits=check.misfits,
        status_code=422 if check.problems else 200,
    )


def _refused(
    request: Request,
    lot: Lot,
    form: ScheduleForm,
    *,
    status_code: int,
    problems: Sequence[Problem] = (),
    misfits: Sequence[Misfit] = (),
    warning: str = "",
) -> HTMLResponse:
    """The form again, as typed, with why it was not accepted (and no week table)."""
    return _page(
        request,
        lot,
        form,
        preview=None,
        proposed=True,
        problems=problems,
        misfits=misfits,
        warning=warning,
        status_code=status_code,
    )


def _save(
    request: Request,
    user: Principal,
    database: Database,
    settings: Settings,
    clock: Clock,
    lot: Lot,
    form: ScheduleForm,
    parsed: Parsed,
) -> Response:
    """Schedule and tariff in one write transaction, under the car park's lock."""
    assert parsed.proposal is not None
    proposal, tariff = parsed.proposal, parsed.tariff

    def work(session: Session) -> None:
        access.require_lot(user, session, lot.code)  # loads nothing: the save reads under lock
        schedules.save_schedule(
            session,
            lot.code,
            proposal,
            expected_version=form.expected_version,
            clock=clock,
            horizon_days=settings.window_horizon_days,
        )
        if tariff is not None:
            fees.save_tariff(session, lot.code, tariff)

    try:
        write(database, work)
    except ScheduleRefused as refused:
        return _refused(request, lot, form, problems=refused.problems, status_code=422)
    except ScheduleConflictsReservations as conflict:
        broken = [Misfit(r["reservation"], r["reason"]) for r in _listed(conflict.details)]
        return _refused(request, lot, form, misfits=broken, status_code=409)
    except ScheduleChanged:
        warning = "console.schedule.changed_meanwhile"
        return _refused(request, lot, form, warning=warning, status_code=409)
    return RedirectResponse(f"/console/lots/{lot.code}/schedule?saved=1", status_code=303)


def _listed(details: Mapping[str, Any]) -> list[dict[str, str]]:
    found = details.get("reservations", [])
    return [dict(item) for item in found] if isinstance(found, list) else []
