"""Backup and restore of the embedded SQLite database (``parkshare backup`` / ``restore``).

A backup is an online copy: SQLite's backup API copies one consistent snapshot while the
server keeps writing (WAL mode lets it). The copy is written under a temporary name, checked
(``PRAGMA integrity_check``, then the invariant check), made a single self-contained file and
only then renamed into place. A restore checks that the file is a parkshare database, copies it
next to the live one, migrates it forward if it is older, and swaps it in with one rename,
keeping the replaced database as ``<name>.before-restore``.

The file-level SQLite operations are ``db.SQLiteFile``'s; PostgreSQL is backed up with
``pg_dump`` (see docs/backup.md).
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from sqlalchemy.engine import make_url

from parkshare.db import Database, SQLiteFile, alembic_config
from parkshare.errors import Conflict, InvalidInput, NotFound, ParkshareError
from parkshare.ops.invariants import InvariantReport, check

SQLITE_MAGIC = b"SQLite format 3\x00"
IN_USE_WAIT_MS = 2_000  # how long a restore waits before it calls the database in use


class NotSQLite(ParkshareError):
    code = "not_sqlite"


class TargetExists(Conflict):
    code = "target_exists"


class NotADatabase(InvalidInput):
    code = "not_a_parkshare_database"


class DatabaseInUse(Conflict):
    code = "database_in_use"


class DatabaseNotEmpty(Conflict):
    code = "database_not_empty"


@dataclass(frozen=True)
class Copied:
    """A database file written by a backup or a restore, and what was found in it."""

    path: Path
    size_bytes: int
    revision: str
    seconds: float
    report: InvariantReport
    previous: Path | None = None  # restore: where the replaced database was kept
    migrated_from: str | None = None  # restore: the revision of an older backup


def sqlite_file(url: str, *, action: str) -> Path:
    """The database file of a SQLite URL; PostgreSQL and in-memory databases are refused."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        tool = "pg_dump -Fc" if action == "backup" else "pg_restore --clean --if-exists"
        raise NotSQLite(
            f"parkshare {action} copies the SQLite database; this one is PostgreSQL "
            f"({parsed.render_as_string()}). Use {tool} instead: see docs/backup.md."
        )
    if not parsed.database or parsed.database == ":memory:":
        raise NotSQLite("An in-memory SQLite database has no file to copy.")
    return Path(parsed.database)


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None  # the package ships its migrations
    return head


def backup(url: str, target: Path, *, force: bool = False, now: datetime | None) -> Copied:
    """Copy the live database at ``url`` to ``target``, checked; ``now`` as for ``check``."""
    began = time.perf_counter()
    source = sqlite_file(url, action="backup")
    if not source.is_file():
        raise NotFound(f"There is no database at {source}.")
    if target.exists() and not force:
        raise TargetExists(f"{target} exists; choose another name or pass --force.")
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.{os.getpid()}.partial")
    try:
        with SQLiteFile(source) as live:
            live.copy_to(partial)
        revision = _parkshare_revision(partial)
        report = _checked(partial, now=now)
        _fold(partial)
        _fsync(partial)
        os.replace(partial, target)
        _fsync(target.parent)
    finally:
        _remove(partial)
    seconds = time.perf_counter() - began
    return Copied(target, target.stat().st_size, revision, round(seconds, 3), report)


def restore(url: str, source: Path, *, force: bool = False, now: datetime | None) -> Copied:
    """Replace the database at ``url`` by the backup ``source`` (the server must be stopped)."""
    began = time.perf_counter()
    target = sqlite_file(url, action="restore")
    revision = _backup_revision(source)
    target.parent.mkdir(parents=True, exist_ok=True)
    incoming = target.with_name(f".{target.name}.{os.getpid()}.restoring")
    try:
        with SQLiteFile(source) as backup_file:
            backup_file.copy_to(incoming)
        migrated_from = None
        if revision != head_revision():
            _migrate(incoming)
            migrated_from = revision
        report = _checked(incoming, now=now)
        _fold(incoming)
        _fsync(incoming)
        previous = _swap(incoming, target, force=force)
    finally:
        _remove(incoming)
    seconds = round(time.perf_counter() - began, 3)
    size = target.stat().st_size
    return Copied(target, size, head_revision(), seconds, report, previous, migrated_from)


def _checked(path: Path, *, now: datetime | None) -> InvariantReport:
    """``PRAGMA integrity_check`` (a broken copy is refused), then the invariant check."""
    with SQLiteFile(path) as copy:
        found = copy.integrity()
    if found != ["ok"]:
        raise NotADatabase(f"{path} fails SQLite's integrity check: {'; '.join(found[:5])}")
    database = Database(f"sqlite:///{path}")
    try:
        with database.session() as session:
            return check(session, now=now)
    finally:
        database.dispose()


def _migrate(path: Path) -> None:
    database = Database(f"sqlite:///{path}")
    try:
        database.migrate()
    finally:
        database.dispose()


def _fold(path: Path) -> None:
    """Leave the copy a single self-contained file (the server turns WAL on when it opens it)."""
    with SQLiteFile(path) as copy:
        if not copy.single_file():
            raise DatabaseInUse(f"{path} is open elsewhere; it cannot be made a single file.")


def _parkshare_revision(path: Path) -> str:
    with SQLiteFile(path) as copy:
        revision = copy.revision()
    if revision is None:
        raise NotADatabase(f"{path} is not a parkshare database (no schema revision).")
    return revision


def _backup_revision(path: Path) -> str:
    """The schema revision of a backup file, refused unless it is a sound parkshare database
    this code can migrate."""
    if not path.is_file():
        raise NotFound(f"There is no backup file at {path}.")
    with path.open("rb") as file:
        if file.read(len(SQLITE_MAGIC)) != SQLITE_MAGIC:
            raise NotADatabase(f"{path} is not a SQLite database.")
    try:
        with SQLiteFile(path) as backup_file:
            found = backup_file.integrity()
    except sqlite3.DatabaseError as exc:
        raise NotADatabase(f"{path} is not a sound SQLite database ({exc}).") from None
    if found != ["ok"]:
        raise NotADatabase(f"{path} fails SQLite's integrity check: {'; '.join(found[:5])}")
    revision = _parkshare_revision(path)
    try:
        ScriptDirectory.from_config(alembic_config()).get_revision(revision)
    except CommandError:
        raise NotADatabase(
            f"{path} has schema revision {revision!r}, which this version of parkshare does "
            "not know (a backup from a newer version?)."
        ) from None
    return revision


def _swap(incoming: Path, target: Path, *, force: bool) -> Path | None:
    """Rename ``incoming`` over ``target``; the replaced file stays as ``.before-restore``."""
    if not target.exists():
        for stale in _sidecars(target):
            _remove(stale)  # a log without its database belongs to nothing
        os.replace(incoming, target)
        _fsync(target.parent)
        return None
    with _held(target) as rows:
        if rows and not force:
            raise DatabaseNotEmpty(
                f"{target} holds {rows:,} rows; restoring would replace them. Pass --force "
                "(the current database is kept as .before-restore)."
            )
        previous = target.with_name(target.name + ".before-restore")
        kept = target.with_name(f".{previous.name}.{os.getpid()}")
        os.link(target, kept)
        os.replace(kept, previous)
        os.replace(incoming, target)
        _fsync(target.parent)
    return previous


@contextmanager
def _held(target: Path) -> Iterator[int]:
    """The live database made a single file and locked against everyone else while it is
    replaced; yields how many rows it holds. Refused while another process has it open."""
    in_use = DatabaseInUse(
        f"{target} is open in another process (is parkshare serve running?); stop it before "
        "restoring."
    )
    with SQLiteFile(target, busy_ms=IN_USE_WAIT_MS) as live:
        try:
            if not live.single_file():
                raise in_use
            live.lock()
        except sqlite3.OperationalError:  # locked: someone is reading or writing it
            raise in_use from None
        try:
            yield live.rows()
        finally:
            live.unlock()


def _sidecars(path: Path) -> list[Path]:
    return [path.with_name(path.name + suffix) for suffix in ("-wal", "-shm", "-journal")]


def _fsync(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _remove(path: Path) -> None:
    for leftover in (path, *_sidecars(path)):
        leftover.unlink(missing_ok=True)
