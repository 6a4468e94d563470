"""The interoperability commands on a real SQLite file, as a user runs them."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from parkshare.cli import app
from parkshare.clock import FixedClock
from parkshare.config import get_settings
from parkshare.db import Database
from parkshare.interop.datex2 import D2
from parkshare.interop.rows import COLUMNS
from tests.factories import make_lot

runner = CliRunner()


@pytest.fixture
def registry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Two car parks in a SQLite file the commands are pointed at."""
    url = f"sqlite:///{tmp_path}/parkshare.db"
    database = Database(url)
    database.migrate()
    clock = FixedClock(datetime(2022, 6, 24, 12, tzinfo=UTC))
    with database.session(write=True) as session:
        make_lot(session, clock=clock, code="A")
        make_lot(session, clock=clock, code="B", shared_berths=4, total_berths=9)
    database.dispose()
    monkeypatch.setenv("PARKSHARE_DATABASE_URL", url)
    monkeypatch.setenv("PARKSHARE_NOW", "2022-06-24T20:00+08:00")
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


def run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


def test_export_parkapi_writes_the_feed_to_a_file(registry: Path) -> None:
    target = registry / "parkapi.json"

    code, _ = run("export", "parkapi", "--output", str(target))

    assert code == 0
    feed = json.loads(target.read_text(encoding="utf-8"))
    assert [item["uid"] for item in feed["items"]] == ["A", "B"]
    assert not any(item["has_realtime_data"] for item in feed["items"])


def test_export_datex2_prints_the_publication(registry: Path) -> None:
    code, output = run("export", "datex2")

    assert code == 0
    assert ET.fromstring(output).tag == f"{{{D2}}}payload"


def test_lots_export_then_import_dry_run(registry: Path) -> None:
    workbook = registry / "lots.xlsx"
    assert run("lots", "export", str(workbook))[0] == 0

    code, output = run("lots", "import", str(workbook), "--dry-run", "--format", "json")

    assert code == 0, output
    report = json.loads(output)
    assert (report["created"], report["updated"], report["dry_run"]) == (0, 2, True)


def test_lots_import_of_a_bad_file_prints_the_rows_and_exits_1(registry: Path) -> None:
    bad = registry / "bad.csv"
    header = ",".join(column.label for column in COLUMNS)
    bad.write_text(f"{header}\nC,名称,单位,institutional,,,,,,,,north\n", encoding="utf-8")

    code, output = run("lots", "import", str(bad), "--format", "json")

    assert code == 1
    body = json.loads(output)
    assert body["code"] == "import_invalid"
    assert {(p["row"], p["column"]) for p in body["details"]["problems"]} >= {(2, "lat")}
    code, output = run("lots", "import", str(bad))
    assert code == 1
    assert "lat" in output
