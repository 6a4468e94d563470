"""Engine, sessions, migrations and every SQLite/PostgreSQL difference: here and nowhere else.

SQLite runs in WAL mode with foreign keys on. Python's sqlite3 driver would open transactions
lazily and too late for a safe read-modify-write, so we take over: every transaction starts
with an explicit ``BEGIN``, and a write session starts with ``BEGIN IMMEDIATE`` so it holds
the write lock from its first statement (no lock upgrades, no surprise ``database is
locked`` halfway through). PostgreSQL needs none of this.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from datetime import UTC, datetime
from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import DateTime, Engine, Enum, MetaData, Table, create_engine, event
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection, Dialect, make_url
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


# Integer primary keys are 32-bit on PostgreSQL (and 64-bit on SQLite): a larger id names no
# row, and must be refused before it reaches a database that would fail on it, not find nothing.
MAX_ROW_ID = 2**31 - 1


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def str_enum(cls: type[StrEnum], name: str) -> Enum:
    """A string enum stored by value, as a VARCHAR with a CHECK on both databases."""
    return Enum(cls, name=name, native_enum=False, values_callable=lambda e: [m.value for m in e])


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware instants, stored in UTC on both databases (SQLite keeps no offset)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        utc = value.astimezone(UTC)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def make_engine(url: str, **kwargs: Any) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True, **kwargs)
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, **kwargs)
    event.listen(engine, "connect", _sqlite_on_connect)
    event.listen(engine, "begin", _sqlite_on_begin)
    return engine


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # we issue BEGIN ourselves, see _sqlite_on_begin
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _sqlite_on_begin(connection: Connection) -> None:
    mode = connection.get_execution_options().get("sqlite_begin", "DEFERRED")
    connection.exec_driver_sql(f"BEGIN {mode}")


class Database:
    """One engine and the two kinds of unit of work: read and write."""

    def __init__(self, url: str, **engine_kwargs: Any) -> None:
        self.url = url
        self.engine = make_engine(url, **engine_kwargs)
        writer = self.engine.execution_options(sqlite_begin="IMMEDIATE")
        # ``session.info["cache"]`` is one dict shared by every session of this database:
        # per-process caches that are always checked against the database (lot profiles).
        shared: dict[str, Any] = {"cache": {}}
        self._readers = sessionmaker(self.engine, expire_on_commit=False, info=shared)
        self._writers = sessionmaker(writer, expire_on_commit=False, info=shared)
        # SQLite admits one writer at a time anyway. Queueing this process's writers on a lock,
        # instead of letting them poll the busy database file, keeps their waits short and fair.
        self._write_turn: AbstractContextManager[Any] = (
            threading.RLock() if self.dialect == "sqlite" else nullcontext()
        )

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def session(self, *, write: bool = False) -> Iterator[Session]:
        """A unit of work: commits once at the end, rolls back on any error."""
        if not write:
            with self._readers() as session, session.begin():
                yield session
            return
        with self._write_turn, self._writers() as session, session.begin():
            yield session

    def migrate(self) -> None:
        """Bring the schema to the newest migration (safe to call on every start)."""
        with self.engine.begin() as connection:
            config = alembic_config()
            config.attributes["connection"] = connection
            command.upgrade(config, "head")

    def reset(self) -> None:
        """Undo every migration: an empty database (the demo's ``--rebuild``)."""
        with self.engine.begin() as connection:
            config = alembic_config()
            config.attributes["connection"] = connection
            command.downgrade(config, "base")

    def dispose(self) -> None:
        self.engine.dispose()


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(resources.files("parkshare") / "migrations"))
    return config


def insert_if_new(session: Session, table: Table, values: dict[str, Any]) -> int | None:
    """Insert a row unless it breaks a unique constraint (the inbox pattern); returns the new
    row's id, or ``None`` for a duplicate. ``ON CONFLICT DO NOTHING`` on both databases."""
    dialect = session.get_bind().dialect.name
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    statement = insert(table).values(**values).on_conflict_do_nothing().returning(table.c.id)
    new_id: int | None = session.execute(statement).scalar_one_or_none()
    return new_id


def insert_new(
    session: Session, table: Table, rows: list[dict[str, Any]], *, key: tuple[str, ...]
) -> set[tuple[Any, ...]]:
    """Insert many rows in one statement, skipping those that break a unique constraint
    (duplicates, also within ``rows``); returns the ``key`` columns of the rows inserted."""
    if not rows:
        return set()
    dialect = session.get_bind().dialect.name
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    statement = (
        insert(table)
        .values(rows)
        .on_conflict_do_nothing()
        .returning(*(table.c[column] for column in key))
    )
    return {tuple(row) for row in session.execute(statement)}
