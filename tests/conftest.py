"""Shared fixtures: real databases (SQLite and PostgreSQL), a fixed clock, settings.

The PostgreSQL half runs when ``PARKSHARE_TEST_DATABASE_URL`` names a server (``.ci/run`` sets
it). Without it those tests skip, saying why; with ``CI=true`` or
``PARKSHARE_REQUIRE_SERVERS=1`` a missing or unreachable server fails the run instead.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import create_engine, make_url, text

from parkshare.clock import FixedClock
from parkshare.db import Base, Database

PG_URL = os.environ.get("PARKSHARE_TEST_DATABASE_URL", "")
REQUIRE_SERVERS = (
    os.environ.get("CI") == "true" or os.environ.get("PARKSHARE_REQUIRE_SERVERS") == "1"
)


def server_missing(reason: str) -> None:
    """Skip on a developer's machine; fail where the servers are required."""
    if REQUIRE_SERVERS:
        pytest.fail(f"{reason} (required: CI=true or PARKSHARE_REQUIRE_SERVERS=1)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh database on the test server, migrated once, dropped at the end."""
    if not PG_URL:
        server_missing("PostgreSQL tests need PARKSHARE_TEST_DATABASE_URL")
    server = make_url(PG_URL)
    name = f"parkshare_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # any connection failure means: no server here
        admin.dispose()
        server_missing(f"PostgreSQL at {server.render_as_string()} is unreachable: {exc}")
    url = server.set(database=name).render_as_string(hide_password=False)
    database = Database(url)
    database.migrate()
    database.dispose()
    yield url
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path: object) -> Iterator[Database]:
    """A migrated, empty database of each supported kind."""
    if request.param == "sqlite":
        db = Database(f"sqlite:///{tmp_path}/parkshare.db")
        db.migrate()
    else:
        db = Database(request.getfixturevalue("postgres_url"))
        _empty_postgres(db)
    yield db
    db.dispose()


def _empty_postgres(db: Database) -> None:
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with db.engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(datetime(2022, 6, 24, 10, 0, tzinfo=UTC))
