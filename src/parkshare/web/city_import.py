"""Onboarding car parks from a spreadsheet, in two steps: the upload is checked (a dry run of
the registry import: every row, nothing written) and its report shown; the administrator then
confirms and the same file is imported (checked again, all or nothing).

Between the two steps the checked file waits in a private temporary folder under a random
token bound to the administrator's account, for at most ``KEEP_FOR``; the confirmation takes
it (once). The upload is refused as soon as it passes the size limit, before it is parsed.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from parkshare.accounts.deps import require_page
from parkshare.accounts.principal import Principal, Role
from parkshare.clock import Clock
from parkshare.db import Database
from parkshare.deps import ClockDep, DatabaseDep, write
from parkshare.errors import ImportInvalid, InvalidInput, ParkshareError
from parkshare.geo import CoordSystem
from parkshare.interop import service
from parkshare.interop.rows import MAX_PROBLEMS
from parkshare.interop.spreadsheet import MAX_UPLOAD_BYTES, read_table
from parkshare.interop.upload import multipart_form, too_large
from parkshare.web.i18n import choose_language, translate
from parkshare.web.render import check_form, render

router = APIRouter()
Admin = Annotated[Principal, Depends(require_page(Role.ADMIN))]

KEEP_FOR_SECONDS = 30 * 60
LIMIT_TEXT = f"{MAX_UPLOAD_BYTES // (1024 * 1024)} MB"
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{20,64}$")


class UploadExpired(ParkshareError):
    code = "upload_expired"
    status = 410


# --- the checked file, waiting for confirmation ---------------------------------------------


def folder_of(database: Database) -> Path:
    """The private folder of one database's uploads (several may share a machine)."""
    url = database.engine.url.render_as_string(hide_password=True)
    name = hashlib.sha256(url.encode()).hexdigest()[:16]
    folder = Path(tempfile.gettempdir()) / "parkshare-city-imports" / name
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    return folder


def hold(
    database: Database, data: bytes, *, filename: str, coords: CoordSystem, account_id: int
) -> str:
    """Keep a checked upload; returns its token."""
    _forget_old(folder_of(database))
    token = secrets.token_urlsafe(24)
    stem = folder_of(database) / f"{account_id}-{token}"
    stem.with_suffix(".upload").write_bytes(data)
    meta = {"filename": filename, "coords": coords.value}
    stem.with_suffix(".json").write_text(json.dumps(meta), encoding="utf-8")
    return token


def take(database: Database, token: str, *, account_id: int) -> tuple[bytes, str, CoordSystem]:
    """The upload kept under ``token`` for this account, removed from the folder."""
    expired = UploadExpired("The checked file has expired or was already imported.")
    if not _TOKEN.match(token):
        raise expired
    stem = folder_of(database) / f"{account_id}-{token}"
    data_path, meta_path = stem.with_suffix(".upload"), stem.with_suffix(".json")
    try:
        fresh = time.time() - data_path.stat().st_mtime <= KEEP_FOR_SECONDS
        data = data_path.read_bytes()
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise expired from None
    finally:
        for path in (data_path, meta_path):
            path.unlink(missing_ok=True)
    if not fresh:
        raise expired
    return data, str(meta["filename"]), CoordSystem(meta["coords"])


def _forget_old(folder: Path) -> None:
    cutoff = time.time() - KEEP_FOR_SECONDS
    for path in folder.iterdir():
        try:
            if path.stat().st_mtime < cutoff:
                path.unlink(missing_ok=True)
        except OSError:
            continue


# --- reading the upload ---------------------------------------------------------------------


@dataclass(frozen=True)
class Upload:
    data: bytes
    filename: str
    coords: CoordSystem
    csrf_token: str


async def read_upload(request: Request) -> Upload:
    """The multipart form (``file``, ``coords``, ``csrf_token``), refused past the limit."""
    async with multipart_form(request) as form:
        upload = form.get("file")
        csrf = form.get("csrf_token")
        coords = form.get("coords")
        if not isinstance(upload, UploadFile) or not upload.filename:
            raise InvalidInput("Choose a spreadsheet file to upload.", field="file")
        data = await upload.read()
        if len(data) > MAX_UPLOAD_BYTES:
            raise too_large()
        return Upload(
            data=data,
            filename=upload.filename,
            coords=CoordSystem.GCJ02 if coords == CoordSystem.GCJ02.value else CoordSystem.WGS84,
            csrf_token=csrf if isinstance(csrf, str) else "",
        )


# --- checking and importing -----------------------------------------------------------------


@dataclass
class Report:
    """What the check (or the import) found."""

    filename: str
    rows: int = 0
    created: int = 0
    updated: int = 0
    operators_created: int = 0
    problems: list[dict[str, Any]] = field(default_factory=list)
    problem_count: int = 0
    ignored_columns: list[str] = field(default_factory=list)

    @property
    def header_bad(self) -> bool:
        return any(p["row"] == 1 for p in self.problems)

    @property
    def rows_bad(self) -> int:
        return len({p["row"] for p in self.problems if p["row"] > 1})

    @property
    def rows_ok(self) -> int:
        return 0 if self.header_bad else max(self.rows - self.rows_bad, 0)


def _run(
    database: Database,
    data: bytes,
    *,
    filename: str,
    coords: CoordSystem,
    dry_run: bool,
    clock: Clock,
) -> Report:
    """The registry import (a dry run in a read transaction); its refusal as a report, or
    raised when the file itself cannot be read."""

    def work(session: Session) -> Report:
        result = service.import_registry(
            session, data, filename=filename, coords=coords, dry_run=dry_run, clock=clock
        )
        return Report(
            filename=filename,
            rows=result.rows,
            created=result.created,
            updated=result.updated,
            operators_created=result.operators_created,
            ignored_columns=result.ignored_columns,
        )

    try:
        if dry_run:
            with database.session() as session:
                return work(session)
        return write(database, work)
    except ImportInvalid as invalid:
        details = invalid.details
        return Report(
            filename=filename,
            rows=len(read_table(data, filename=filename).rows),
            problems=list(details.get("problems", [])),
            problem_count=int(details.get("problem_count", 0)),
            ignored_columns=list(details.get("ignored_columns", [])),
        )


@dataclass(frozen=True)
class Refusal:
    code: str
    text: str  # in the page's language
    detail: str  # the service's own sentence (English)


def explain(lang: str, error: ParkshareError) -> Refusal:
    key = f"city.refusal.{error.code}"
    known = translate(lang, key, limit=LIMIT_TEXT, count=error.details.get("problem_count", 0))
    text = known if known != key else translate(lang, "city.refusal.other")
    return Refusal(error.code, text, error.message)


def _page(
    request: Request,
    *,
    status: int = 200,
    report: Report | None = None,
    refusal: ParkshareError | None = None,
    token: str = "",
    imported: bool = False,
) -> HTMLResponse:
    lang = choose_language(request)
    return render(
        request,
        "city/import.html",
        status_code=status,
        report=report,
        refusal=explain(lang, refusal) if refusal else None,
        token=token,
        imported=imported,
        limit=LIMIT_TEXT,
        max_problems=MAX_PROBLEMS,
    )


@router.post("/city/import", response_class=HTMLResponse)
async def check_upload(
    request: Request, user: Admin, database: DatabaseDep, clock: ClockDep
) -> HTMLResponse:
    """Step 1: check the file (nothing is written) and show the report."""
    try:
        upload = await read_upload(request)
    except ParkshareError as refusal:  # too large, or no file: nothing kept
        return _page(request, status=refusal.status, refusal=refusal)
    check_form(request, user, upload.csrf_token)
    try:
        report = await run_in_threadpool(
            _run,
            database,
            upload.data,
            filename=upload.filename,
            coords=upload.coords,
            dry_run=True,
            clock=clock,
        )
    except ParkshareError as refusal:  # not a spreadsheet, GBK, too many rows…
        return _page(request, status=refusal.status, refusal=refusal)
    if report.problems:
        invalid = ImportInvalid("Problems found.", problem_count=report.problem_count)
        return _page(request, status=422, report=report, refusal=invalid)
    token = hold(
        database,
        upload.data,
        filename=upload.filename,
        coords=upload.coords,
        account_id=user.account_id,
    )
    return _page(request, report=report, token=token)


@router.post("/city/import/confirm", response_class=HTMLResponse)
def confirm_upload(
    request: Request,
    user: Admin,
    database: DatabaseDep,
    clock: ClockDep,
    token: Annotated[str, Form(max_length=100)] = "",
    csrf_token: Annotated[str, Form(max_length=200)] = "",
) -> HTMLResponse:
    """Step 2: import the checked file (checked again: the registry may have changed)."""
    check_form(request, user, csrf_token)
    try:
        data, filename, coords = take(database, token, account_id=user.account_id)
        report = _run(database, data, filename=filename, coords=coords, dry_run=False, clock=clock)
    except ParkshareError as refusal:
        return _page(request, status=refusal.status, refusal=refusal)
    if report.problems:
        invalid = ImportInvalid("Problems found.", problem_count=report.problem_count)
        return _page(request, status=422, report=report, refusal=invalid)
    return _page(request, report=report, imported=True)
