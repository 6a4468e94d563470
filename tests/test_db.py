"""The store itself: migrations match the models, SQLite runs in WAL, instants stay UTC."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text

from parkshare.db import Base, Database, alembic_config
from parkshare.lots.model import LotKind, Operator
from parkshare.models import __all__ as _tables  # noqa: F401  (fills Base.metadata)


def test_migrations_create_exactly_the_models(database: Database) -> None:
    with database.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []


def test_migrate_twice_is_harmless(database: Database) -> None:
    database.migrate()
    with database.engine.connect() as connection:
        version = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    assert version == ScriptDirectory.from_config(alembic_config()).get_current_head()


def test_instants_come_back_as_the_same_utc_instant(database: Database) -> None:
    shanghai_evening = datetime(2022, 6, 24, 19, 0, tzinfo=timezone(timedelta(hours=8)))
    with database.session(write=True) as session:
        session.add(Operator(name="单位", kind=LotKind.INSTITUTIONAL, created_at=shanghai_evening))
    with database.session() as session:
        stored = session.query(Operator).one().created_at
    assert stored == shanghai_evening
    assert stored.tzinfo is not None and stored.utcoffset() == timedelta(0)
    assert stored == datetime(2022, 6, 24, 11, 0, tzinfo=UTC)


def test_sqlite_runs_in_wal_mode_with_foreign_keys(tmp_path: object) -> None:
    database = Database(f"sqlite:///{tmp_path}/wal.db")
    with database.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    database.dispose()


def test_a_failed_unit_of_work_stores_nothing(database: Database) -> None:
    now = datetime(2022, 6, 24, tzinfo=UTC)
    try:
        with database.session(write=True) as session:
            session.add(Operator(name="单位", kind=LotKind.INSTITUTIONAL, created_at=now))
            session.flush()
            raise RuntimeError("boom")
    except RuntimeError:
        pass
    with database.session() as session:
        assert session.query(Operator).count() == 0
