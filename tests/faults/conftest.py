"""The fault-injection suite: each campaign runs once per session (a fixture), its tests assert
on what it measured, and the session ends with one report line (and test-output/faults.json):
faults injected, acknowledged writes, lost, doubled, drift, the slowest recovery.

The servers are private (a PostgreSQL cluster from ``initdb``, a Mosquitto on a free port),
never the system ones: this suite kills them. Without ``initdb``/``pg_ctl`` or ``mosquitto``
the PostgreSQL campaign skips (fails under CI=true)."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.conftest import server_missing
from tests.faults.campaigns import PostgresRig, SqliteRig
from tests.faults.postgres import postgres_bindir
from tests.faults.report import CAMPAIGNS, Campaign, line, write_json
from tests.servers import mosquitto_binary


def _run(rig: PostgresRig | SqliteRig, database: str) -> Iterator[Campaign]:
    campaign = Campaign(database)
    try:
        rig.run(campaign)
    except BaseException as exc:
        exc.add_note(rig.logs())
        raise
    finally:
        rig.close()
    CAMPAIGNS.append(campaign)
    yield campaign


@pytest.fixture(scope="session")
def postgres_campaign(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Campaign]:
    bindir = postgres_bindir()
    if bindir is None:
        server_missing("the fault-injection suite needs PostgreSQL's initdb and pg_ctl")
        raise AssertionError("unreachable")
    mosquitto = mosquitto_binary()
    if mosquitto is None:
        server_missing("the fault-injection suite needs the mosquitto binary")
        raise AssertionError("unreachable")
    yield from _run(
        PostgresRig(tmp_path_factory.mktemp("faults-pg"), bindir, mosquitto), "postgresql"
    )


@pytest.fixture(scope="session")
def sqlite_campaign(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Campaign]:
    yield from _run(SqliteRig(tmp_path_factory.mktemp("faults-sqlite")), "sqlite")


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not CAMPAIGNS:
        return
    output = write_json(CAMPAIGNS)
    terminalreporter.write_sep("-", "fault injection")
    terminalreporter.write_line(line(CAMPAIGNS))
    terminalreporter.write_line(f"(details: {os.path.relpath(output)})")
