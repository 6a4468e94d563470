"""HTTP edge of interoperability: open-format feeds and spreadsheet import/export."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["interoperability"])
