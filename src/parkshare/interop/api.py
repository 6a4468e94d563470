"""HTTP edge of interoperability: open-format feeds and spreadsheet import/export."""

from __future__ import annotations

import hashlib
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from parkshare.clock import Clock
from parkshare.db import Database
from parkshare.deps import ClockDep, DatabaseDep, SessionDep, SettingsDep
from parkshare.errors import InvalidInput
from parkshare.geo import CoordSystem
from parkshare.idempotency.deps import Idempotent, IdempotentCall
from parkshare.interop import service
from parkshare.interop.csv_export import CSV_MEDIA_TYPE, export_registry_csv
from parkshare.interop.datex2 import MEDIA_TYPE as XML_MEDIA_TYPE
from parkshare.interop.schemas import ImportReport
from parkshare.interop.service import Thresholds
from parkshare.interop.spreadsheet import XLSX_MEDIA_TYPE
from parkshare.interop.upload import multipart_form

router = APIRouter(tags=["interoperability"])


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


@router.get(
    "/exports/lots.csv",
    response_class=Response,
    responses={200: {"content": {CSV_MEDIA_TYPE: {}}}},
)
def export_lots_csv(session: SessionDep) -> Response:
    """The registry as CSV (UTF-8 with BOM, so Excel shows the Chinese right); view only —
    the .xlsx export is the one that imports back unchanged."""
    return Response(
        export_registry_csv(session),
        media_type=CSV_MEDIA_TYPE,
        headers={"Content-Disposition": 'attachment; filename="parkshare-lots.csv"'},
    )


@router.post(
    "/lots/import", response_model=ImportReport, openapi_extra={"requestBody": _UPLOAD_BODY}
)
async def import_lots(
    request: Request,
    database: DatabaseDep,
    clock: ClockDep,
    idempotent: Idempotent,
    coords: Annotated[
        CoordSystem, Query(description="Datum of rows without a coords column value")
    ] = CoordSystem.WGS84,
    dry_run: Annotated[bool, Query(description="Validate and count, write nothing")] = False,
) -> ImportReport | Response:
    """Create or update car parks from a spreadsheet (multipart field ``file``). Every row is
    checked first; with any bad row nothing is imported and the answer (422,
    ``import_invalid``) lists each row's problems."""
    data, filename = await _uploaded_file(request)
    return await run_in_threadpool(
        _import,
        database,
        data,
        filename=filename,
        coords=coords,
        dry_run=dry_run,
        clock=clock,
        idempotent=idempotent,
    )


def _import(
    database: Database,
    data: bytes,
    *,
    filename: str,
    coords: CoordSystem,
    dry_run: bool,
    clock: Clock,
    idempotent: IdempotentCall,
) -> ImportReport | Response:
    def work(session: Session) -> ImportReport:
        result = service.import_registry(
            session, data, filename=filename, coords=coords, dry_run=dry_run, clock=clock
        )
        return ImportReport.of(result)

    if dry_run:  # writes nothing, so nothing to record either
        with database.session() as session:
            return work(session)
    # The file, not the multipart body around it (whose boundary changes with every send).
    upload = {"file_sha256": hashlib.sha256(data).hexdigest(), "filename": filename}
    return idempotent.write(database, work, fingerprint_of=upload)


async def _uploaded_file(request: Request) -> tuple[bytes, str]:
    """The ``file`` part of the multipart request (size-checked first)."""
    async with multipart_form(request) as form:
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise InvalidInput(
                "Send the spreadsheet as multipart/form-data in the field 'file'.", field="file"
            )
        return await upload.read(), upload.filename or ""
