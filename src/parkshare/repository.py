"""The one small repository base: get, list and paginate over a session."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int


class Repository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def paginate(self, statement: Select[T], *, limit: int, offset: int) -> Page[T]:
        count = select(func.count()).select_from(statement.order_by(None).subquery())
        total = self.session.scalar(count) or 0
        items: list[T] = list(self.session.scalars(statement.limit(limit).offset(offset)))
        return Page(items=items, total=total, limit=limit, offset=offset)

    def add(self, instance: Any) -> None:
        self.session.add(instance)
