"""HTTP edge of interoperability: open-format feeds and spreadsheet import/export."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.types import Message

from parkshare.clock import Clock
from parkshare.db import Database
from parkshare.deps import ClockDep, DatabaseDep, SessionDep, SettingsDep, write
from parkshare.errors import InvalidInput, UploadTooLarge
from parkshare.geo import CoordSystem
from parkshare.interop import service
from parkshare.interop.datex2 import MEDIA_TYPE as XML_MEDIA_TYPE
from parkshare.interop.schemas import ImportReport
from parkshare.interop.service import Thresholds
from parkshare.interop.spreadsheet import MAX_UPLOAD_BYTES, XLSX_MEDIA_TYPE

router = APIRouter(tags=["interoperability"])

# Room for the multipart envelope (boundaries, part headers) around the file itself.
MAX_BODY_BYTES = MAX_UPLOAD_BYTES + 64 * 1024

_UPLOAD_BODY = {
    "required": True,
    "content": {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "required": ["file"],
                "properties": {
                    "file": {
                        "type": "string",
                        "format": "binary",
                        "description": ".xlsx or UTF-8 .csv with the export's columns",
                    }
                },
            }
        }
    },
}


@router.get("/exports/parkapi.json")
def parkapi_json(session: SessionDep, settings: SettingsDep, clock: ClockDep) -> dict[str, Any]:
    """Car parks as ParkAPI v3 parking sites; free counts only while a car park is live."""
    return service.parkapi_export(session, now=clock.now(), thresholds=Thresholds.of(settings))


@router.get(
    "/exports/datex2.xml",
    response_class=Response,
    responses={200: {"content": {XML_MEDIA_TYPE: {}}}},
)
def datex2_xml(session: SessionDep, settings: SettingsDep, clock: ClockDep) -> Response:
    """Car parks as a DATEX II v3 parking status publication."""
    body = service.datex2_export(session, now=clock.now(), thresholds=Thresholds.of(settings))
    return Response(body, media_type=XML_MEDIA_TYPE)


@router.get(
    "/lots/export.xlsx",
    response_class=Response,
    responses={200: {"content": {XLSX_MEDIA_TYPE: {}}}},
)
@router.get(
    "/exports/lots.xlsx",
    response_class=Response,
    responses={200: {"content": {XLSX_MEDIA_TYPE: {}}}},
)
def export_lots(session: SessionDep) -> Response:
    """The registry as a workbook; it imports back unchanged."""
    return Response(
        service.export_registry(session),
        media_type=XLSX_MEDIA_TYPE,
        headers={"Content-Disposition": 'attachment; filename="parkshare-lots.xlsx"'},
    )


@router.post(
    "/lots/import", response_model=ImportReport, openapi_extra={"requestBody": _UPLOAD_BODY}
)
async def import_lots(
    request: Request,
    database: DatabaseDep,
    clock: ClockDep,
    coords: Annotated[
        CoordSystem, Query(description="Datum of rows without a coords column value")
    ] = CoordSystem.WGS84,
    dry_run: Annotated[bool, Query(description="Validate and count, write nothing")] = False,
) -> ImportReport:
    """Create or update car parks from a spreadsheet (multipart field ``file``). Every row is
    checked first; with any bad row nothing is imported and the answer (422,
    ``import_invalid``) lists each row's problems."""
    body = await _limited_body(request)
    data, filename = await _uploaded_file(request, body)
    return await run_in_threadpool(
        _import, database, data, filename=filename, coords=coords, dry_run=dry_run, clock=clock
    )


def _import(
    database: Database,
    data: bytes,
    *,
    filename: str,
    coords: CoordSystem,
    dry_run: bool,
    clock: Clock,
) -> ImportReport:
    def work(session: Session) -> ImportReport:
        result = service.import_registry(
            session, data, filename=filename, coords=coords, dry_run=dry_run, clock=clock
        )
        return ImportReport.of(result)

    if dry_run:
        with database.session() as session:
            return work(session)
    return write(database, work)


async def _limited_body(request: Request) -> bytes:
    """The request body, refused as soon as it passes the limit (whatever it claims)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise _too_large()
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise _too_large()
        chunks.append(chunk)
    return b"".join(chunks)


def _too_large() -> UploadTooLarge:
    return UploadTooLarge(
        f"Uploads are limited to {MAX_UPLOAD_BYTES:,} bytes.", limit_bytes=MAX_UPLOAD_BYTES
    )


async def _uploaded_file(request: Request, body: bytes) -> tuple[bytes, str]:
    """The ``file`` part of a multipart body already read (and size-checked)."""

    async def replay() -> Message:
        return {"type": "http.request", "body": body, "more_body": False}

    form = await Request(request.scope, replay).form(max_files=1, max_fields=10)
    try:
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise InvalidInput(
                "Send the spreadsheet as multipart/form-data in the field 'file'.", field="file"
            )
        return await upload.read(), upload.filename or ""
    finally:
        await form.close()
