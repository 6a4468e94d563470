"""Engine, sessions, migrations and every SQLite/PostgreSQL difference: here and nowhere else.

SQLite runs in WAL mode with foreign keys on. Python's sqlite3 driver would open transactions
lazily and too late for a safe read-modify-write, so we take over: every transaction starts
with an explicit ``BEGIN``, and a write session starts with ``BEGIN IMMEDIATE`` so it holds
the write lock from its first statement (no lock upgrades, no surprise ``database is
locked`` halfway through). PostgreSQL needs none of this.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, closing, contextmanager, nullcontext
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


class SQLiteFile:
    """A SQLite database file through the plain driver, for what backup and restore do to the
    file itself (SQLAlchemy has no word for these): copy it, check it, fold its write-ahead
    log in, count and lock. Driver errors (``sqlite3.DatabaseError``) pass through."""

    def __init__(self, path: Path, *, busy_ms: int = 30_000) -> None:
        self.path = path
        self.connection = sqlite3.connect(path, isolation_level=None)
        self.connection.execute(f"PRAGMA busy_timeout={int(busy_ms)}")

    def __enter__(self) -> SQLiteFile:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.connection.close()

    def copy_to(self, target: Path) -> None:
        """One consistent snapshot into ``target``, in one step: a WAL database's writers go
        on meanwhile (a stepwise copy would start over at each of their commits)."""
        with closing(sqlite3.connect(target, isolation_level=None)) as copy:
            self.connection.backup(copy)

    def integrity(self) -> list[str]:
        """``["ok"]``, or what ``PRAGMA integrity_check`` found wrong."""
        return [str(row[0]) for row in self.connection.execute("PRAGMA integrity_check")]

    def revision(self) -> str | None:
        """The Alembic revision the file's schema is at (``None``: not an Alembic database)."""
        tables = self.connection.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'alembic_version'"
        ).fetchall()
        if not tables:
            return None
        row = self.connection.execute("SELECT version_num FROM alembic_version").fetchone()
        return str(row[0]) if row else None

    def single_file(self) -> bool:
        """Fold the write-ahead log in and leave rollback-journal mode, so that the file alone
        is the whole database. ``False`` when another connection has it open."""
        mode = self.connection.execute("PRAGMA journal_mode=DELETE").fetchone()[0]
        return bool(mode == "delete")

    def lock(self) -> None:
        """Keep every other connection out until ``unlock`` (rollback-journal mode only)."""
        self.connection.execute("BEGIN EXCLUSIVE")

    def unlock(self) -> None:
        self.connection.execute("ROLLBACK")

    def rows(self) -> int:
        """Rows in all the tables but the schema's own bookkeeping."""
        tables = [
            name
            for (name,) in self.connection.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' "
                "AND name NOT LIKE 'sqlite_%' AND name != 'alembic_version'"
            )
        ]
        count = 'SELECT count(*) FROM "{}"'
        return sum(int(self.connection.execute(count.format(t)).fetchone()[0]) for t in tables)
