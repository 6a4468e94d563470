"""``parkshare backup`` and ``restore`` of the SQLite database, and the PostgreSQL commands
docs/backup.md gives (``pg_dump -Fc`` / ``pg_restore --clean --if-exists``)."""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
import subprocess
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, make_url, select, text
from typer.testing import CliRunner

from parkshare.cli import app
from parkshare.clock import FixedClock
from parkshare.config import get_settings
from parkshare.db import Base, Database, alembic_config
from parkshare.ops.backup import (
    DatabaseInUse,
    DatabaseNotEmpty,
    NotADatabase,
    NotSQLite,
    TargetExists,
    backup,
    head_revision,
    restore,
)
from parkshare.ops.invariants import check
from parkshare.reservations.service import ReservationRequest, reserve
from tests.conftest import PG_URL, server_missing
from tests.factories import make_lot
from tests.ops.world import NOW, POLICY, at, build_world

KEY_TABLES = (
    "lots",
    "reservations",
    "waitlist_entries",
    "pass_offers",
    "pass_applications",
    "passes",
    "gate_events",
    "parking_sessions",
    "count_reports",
    "violations",
    "outbox",
)
PG_BIN = Path("/usr/lib/postgresql/15/bin")


def sqlite_database(path: Path) -> Database:
    database = Database(f"sqlite:///{path}")
    database.migrate()
    return database


@pytest.fixture
def source(tmp_path: Path) -> Iterator[Database]:
    database = sqlite_database(tmp_path / "live" / "parkshare.db")
    build_world(database)
    yield database
    database.dispose()


def content(database: Database) -> dict[str, tuple[int, str]]:
    """Rows and a hash of the contents of the key tables."""
    found = {}
    with database.engine.connect() as connection:
        for name in KEY_TABLES:
            table = Base.metadata.tables[name]
            rows = connection.execute(select(table).order_by(table.c.id)).all()
            text_rows = json.dumps([[str(value) for value in row] for row in rows])
            found[name] = (len(rows), hashlib.sha256(text_rows.encode()).hexdigest())
    return found


def test_backup_while_the_server_books_holds_every_booking_committed_before_it(
    tmp_path: Path,
) -> None:
    database = sqlite_database(tmp_path / "parkshare.db")
    with database.session(write=True) as session:
        make_lot(session, clock=FixedClock(NOW), code="BIG", shared_berths=5_000)
    committed: list[tuple[float, str]] = []
    stop, failed = threading.Event(), []

    def keep_booking() -> None:
        for n in range(1, 5_000):
            if stop.is_set():
                return
            request = ReservationRequest(
                "BIG", f"鲁B{n:05d}", at(2022, 6, 24, 19), at(2022, 6, 25, 10)
            )
            try:
                with database.session(write=True) as session:
                    booked = reserve(
                        session, request, idempotency_key=f"b-{n}", policy=POLICY,
                        clock=FixedClock(NOW),
                    )  # fmt: skip
                    ref = booked.ref
            except Exception as exc:  # the test fails on any, below
                failed.append(repr(exc))
                return
            committed.append((time.monotonic(), ref))

    writer = threading.Thread(target=keep_booking)
    writer.start()
    try:
        wait_for(lambda: len(committed) >= 20)
        began = time.monotonic()
        before = {ref for when, ref in list(committed) if when < began}
        copied = backup(database.url, tmp_path / "backups" / "copy.db", now=NOW)
        ended = time.monotonic()
        wait_for(lambda: any(when > ended for when, _ in list(committed)))
    finally:
        stop.set()
        writer.join(timeout=60)
    database.dispose()
    assert not failed, failed
    assert copied.report.ok, copied.report.problems
    assert copied.size_bytes == copied.path.stat().st_size > 0
    with sqlite3.connect(copied.path) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert connection.execute("PRAGMA journal_mode").fetchone() == ("delete",)
        refs = {ref for (ref,) in connection.execute("SELECT ref FROM reservations")}
    assert before <= refs, "a booking committed before the backup is missing from it"
    assert refs <= {ref for _, ref in committed}, "the copy holds a booking never committed"
    assert copied.report.counts["reservations"] == len(refs)
    assert not list(copied.path.parent.glob(".*")), "a temporary file was left behind"


def wait_for(condition: Callable[[], bool], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the writer stopped booking"
        time.sleep(0.01)


def test_restore_round_trip_equals_the_source(source: Database, tmp_path: Path) -> None:
    copied = backup(source.url, tmp_path / "copy.db", now=NOW)
    assert copied.report.ok, copied.report.problems
    fresh = tmp_path / "elsewhere" / "restored.db"
    restored = restore(f"sqlite:///{fresh}", copied.path, now=NOW)
    assert restored.previous is None and restored.migrated_from is None
    assert restored.report.ok, restored.report.problems
    assert restored.report.counts == copied.report.counts
    database = Database(f"sqlite:///{fresh}")
    try:
        assert content(database) == content(source)
        with database.session() as session:
            assert check(session).ok
    finally:
        database.dispose()


def test_restore_over_a_database_keeps_it_as_before_restore(
    source: Database, tmp_path: Path
) -> None:
    copied = backup(source.url, tmp_path / "copy.db", now=NOW)
    target_path = tmp_path / "target.db"
    target = sqlite_database(target_path)
    with target.session(write=True) as session:
        make_lot(session, clock=FixedClock(NOW), code="GONE")
    replaced = content(target)
    target.dispose()
    with pytest.raises(DatabaseNotEmpty):
        restore(target.url, copied.path, now=NOW)
    restored = restore(target.url, copied.path, force=True, now=NOW)
    assert restored.previous == tmp_path / "target.db.before-restore"
    after, kept = Database(target.url), Database(f"sqlite:///{restored.previous}")
    try:
        assert content(after) == content(source)
        assert content(kept) == replaced
    finally:
        after.dispose()
        kept.dispose()


def test_restore_refuses_while_the_database_is_open(source: Database, tmp_path: Path) -> None:
    copied = backup(source.url, tmp_path / "copy.db", now=NOW)
    with source.session() as session:  # a server's pool keeps its connections open
        session.execute(text("SELECT 1"))
    with pytest.raises(DatabaseInUse, match="stop it before restoring"):
        restore(source.url, copied.path, force=True, now=NOW)


def test_restore_migrates_an_older_backup_forward(tmp_path: Path) -> None:
    head = head_revision()
    previous = ScriptDirectory.from_config(alembic_config()).get_revision(head).down_revision
    assert isinstance(previous, str)
    old = Database(f"sqlite:///{tmp_path / 'old.db'}")
    with old.engine.begin() as connection:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.upgrade(config, previous)
    old.dispose()
    restored = restore(f"sqlite:///{tmp_path / 'new.db'}", tmp_path / "old.db", now=NOW)
    assert (restored.migrated_from, restored.revision) == (previous, head)
    with sqlite3.connect(tmp_path / "new.db") as connection:
        assert connection.execute("SELECT version_num FROM alembic_version").fetchone() == (head,)


def test_backup_refuses_postgresql_and_an_existing_target(source: Database, tmp_path: Path) -> None:
    with pytest.raises(NotSQLite, match="pg_dump -Fc"):
        backup("postgresql+psycopg://postgres@127.0.0.1/parkshare", tmp_path / "x.db", now=NOW)
    with pytest.raises(NotSQLite, match="pg_restore"):
        restore("postgresql+psycopg://postgres@127.0.0.1/parkshare", tmp_path / "x.db", now=NOW)
    target = tmp_path / "exists.db"
    target.write_bytes(b"keep me")
    with pytest.raises(TargetExists):
        backup(source.url, target, now=NOW)
    assert target.read_bytes() == b"keep me"
    assert backup(source.url, target, force=True, now=NOW).report.ok


def test_restore_refuses_what_is_not_a_parkshare_database(tmp_path: Path) -> None:
    target = f"sqlite:///{tmp_path / 'target.db'}"
    noise = tmp_path / "noise.bin"
    noise.write_bytes(uuid.uuid4().bytes * 1000)
    with pytest.raises(NotADatabase, match="not a SQLite database"):
        restore(target, noise, now=NOW)
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as connection:
        connection.execute("CREATE TABLE notes (body TEXT)")
    with pytest.raises(NotADatabase, match="not a parkshare database"):
        restore(target, other, now=NOW)
    truncated = tmp_path / "truncated.db"
    source = sqlite_database(tmp_path / "whole.db")
    source.dispose()
    truncated.write_bytes((tmp_path / "whole.db").read_bytes()[:8192])
    with pytest.raises(NotADatabase):
        restore(target, truncated, now=NOW)
    assert not (tmp_path / "target.db").exists()


def test_cli_backup_prints_size_rows_and_time_and_refuses_postgresql(
    source: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    runner = CliRunner()
    monkeypatch.setenv("PARKSHARE_NOW", NOW.isoformat())
    monkeypatch.setenv("PARKSHARE_DATABASE_URL", source.url)
    get_settings.cache_clear()
    try:
        done = runner.invoke(app, ["backup", str(tmp_path / "copy.db")])
        assert done.exit_code == 0, done.output
        printed = " ".join(done.output.split())
        assert "integrity ok" in printed and "MiB" in printed and "seconds" in printed
        again = runner.invoke(app, ["backup", str(tmp_path / "copy.db")])
        assert again.exit_code == 1 and "target_exists" in again.output
        monkeypatch.setenv("PARKSHARE_DATABASE_URL", "postgresql+psycopg://u@h/db")
        get_settings.cache_clear()
        refused = runner.invoke(app, ["backup", str(tmp_path / "pg.db")])
        assert refused.exit_code == 1 and "pg_dump" in refused.output
    finally:
        get_settings.cache_clear()


# --- PostgreSQL -----------------------------------------------------------------------------


def pg_tool(name: str) -> str | None:
    return shutil.which(name) or (str(PG_BIN / name) if (PG_BIN / name).exists() else None)


@pytest.fixture
def two_postgres_databases() -> Iterator[tuple[str, str]]:
    if not PG_URL:
        server_missing("PostgreSQL tests need PARKSHARE_TEST_DATABASE_URL")
    if pg_tool("pg_dump") is None or pg_tool("pg_restore") is None:
        server_missing(f"pg_dump and pg_restore are needed (on PATH or in {PG_BIN})")
    server = make_url(PG_URL)
    names = [f"parkshare_backup_{uuid.uuid4().hex[:8]}_{side}" for side in ("src", "dst")]
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            for name in names:
                connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # any connection failure means: no server here
        admin.dispose()
        server_missing(f"PostgreSQL at {server.render_as_string()} is unreachable: {exc}")
    source, target = (server.set(database=n).render_as_string(hide_password=False) for n in names)
    yield source, target
    with admin.connect() as connection:
        for name in names:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def libpq(url: str) -> str:
    """The URL as libpq (pg_dump, pg_restore) spells it."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def test_pg_dump_and_pg_restore_round_trip_passes_the_invariant_check(
    two_postgres_databases: tuple[str, str], tmp_path: Path
) -> None:
    source_url, target_url = two_postgres_databases
    source = Database(source_url)
    source.migrate()
    build_world(source)
    dump = tmp_path / "parkshare.dump"
    pg_dump, pg_restore = pg_tool("pg_dump"), pg_tool("pg_restore")
    assert pg_dump and pg_restore
    subprocess.run([pg_dump, "-Fc", "-f", str(dump), "--dbname", libpq(source_url)], check=True)
    target = Database(target_url)
    try:
        for _ in range(2):  # into the fresh database, then over what it holds
            subprocess.run(
                [pg_restore, "--clean", "--if-exists", "--no-owner", "--dbname",
                 libpq(target_url), str(dump)],
                check=True,
            )  # fmt: skip
            with target.session() as session:
                report = check(session)
            assert report.ok, report.problems
            assert report.counts["reservations"] == 4 and report.counts["gate_events"] == 6
            assert content(target) == content(source)
        target.migrate()  # the restored schema is the code's head: nothing to do
    finally:
        target.dispose()
        source.dispose()
