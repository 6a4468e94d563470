"""Reading an uploaded spreadsheet from a multipart request: refused as soon as the body passes
the limit (whatever it claims), before anything is parsed. The API import and the city
dashboard's onboarding form both read uploads this way."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Request
from starlette.datastructures import FormData
from starlette.types import Message

from parkshare.errors import UploadTooLarge
from parkshare.interop.spreadsheet import MAX_UPLOAD_BYTES

# Room for the multipart envelope (boundaries, part headers) around the file itself.
MAX_BODY_BYTES = MAX_UPLOAD_BYTES + 64 * 1024


def too_large() -> UploadTooLarge:
    return UploadTooLarge(
        f"Uploads are limited to {MAX_UPLOAD_BYTES:,} bytes.", limit_bytes=MAX_UPLOAD_BYTES
    )


async def limited_body(request: Request) -> bytes:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise too_large()
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise too_large()
        chunks.append(chunk)
    return b"".join(chunks)


@asynccontextmanager
async def multipart_form(request: Request) -> AsyncIterator[FormData]:
    """The request's multipart form (one file, a few fields), its body size-checked first."""
    body = await limited_body(request)

    async def replay() -> Message:
        return {"type": "http.request", "body": body, "more_body": False}

    form = await Request(request.scope, replay).form(max_files=1, max_fields=10)
    try:
        yield form
    finally:
        await form.close()
