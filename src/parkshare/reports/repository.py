"""All SQL about targets."""

from __future__ import annotations

from sqlalchemy import select

from parkshare.reports.model import Target
from parkshare.repository import Repository


class TargetRepository(Repository):
    def for_year(self, year: int, *, area: str) -> list[Target]:
        statement = select(Target).where(Target.year == year, Target.area == area)
        return list(self.session.scalars(statement))
