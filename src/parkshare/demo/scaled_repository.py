"""All SQL of the scaled demo: bulk inserts into the real tables (SQLAlchemy Core
``executemany`` in chunks) inside the caller's unit of work, and the ids they were given."""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Any

from sqlalchemy import Table, insert, select, tuple_

from parkshare.db import Base
from parkshare.repository import Repository

CHUNK = 5_000  # rows per executemany, keys per IN (…): bounded memory, few round trips

Row = dict[str, Any]


class ScaledRepository(Repository):
    def insert(self, model: type[Base], rows: Sequence[Row]) -> None:
        """Insert rows (all with the same keys, named as the table's columns) in chunks."""
        table = _table(model)
        for first in range(0, len(rows), CHUNK):
            self.session.execute(insert(table), rows[first : first + CHUNK])

    def insert_with_ids(
        self, model: type[Base], rows: Sequence[Row], *, key: tuple[str, ...]
    ) -> list[int]:
        """Insert rows and return their new ids in the order of ``rows``, found again by the
        ``key`` columns (unique in the table). One executemany and a few selects: RETURNING
        with executemany would insert row by row on SQLite."""
        self.insert(model, rows)
        table = _table(model)
        columns = [table.c[name] for name in key]
        wanted = [tuple(row[name] for name in key) for row in rows]
        found: dict[Hashable, int] = {}
        for first in range(0, len(wanted), CHUNK):
            chunk = wanted[first : first + CHUNK]
            match = (
                columns[0].in_([k[0] for k in chunk])
                if len(columns) == 1
                else tuple_(*columns).in_(chunk)
            )
            for row in self.session.execute(select(table.c.id, *columns).where(match)):
                found[tuple(row[1:])] = row[0]
        return [found[k] for k in wanted]


def _table(model: type[Base]) -> Table:
    table = model.__table__
    assert isinstance(table, Table)
    return table
