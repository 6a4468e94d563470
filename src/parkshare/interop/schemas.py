"""API shapes of the spreadsheet import (the CLI prints the same with ``--format json``)."""

from __future__ import annotations

from pydantic import BaseModel

from parkshare.interop.service import ImportResult


class ImportReport(BaseModel):
    rows: int
    created: int
    updated: int
    operators_created: int
    dry_run: bool
    ignored_columns: list[str]

    @classmethod
    def of(cls, result: ImportResult) -> ImportReport:
        return cls(
            rows=result.rows,
            created=result.created,
            updated=result.updated,
            operators_created=result.operators_created,
            dry_run=result.dry_run,
            ignored_columns=result.ignored_columns,
        )
