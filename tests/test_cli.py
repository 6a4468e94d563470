"""The ``parkshare`` command on a real SQLite file, as a user runs it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from parkshare.cli import app
from parkshare.config import get_settings

runner = CliRunner()


@pytest.fixture(scope="module")
def demo_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    url = f"sqlite:///{Path(tmp_path_factory.mktemp('cli')) / 'demo.db'}"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PARKSHARE_DATABASE_URL", url)
        get_settings.cache_clear()
        result = runner.invoke(app, ["demo", "--no-traffic"])
        assert result.exit_code == 0, result.output
        assert "117 car parks, 17,563 shared berths" in result.output
        yield url
    get_settings.cache_clear()


@pytest.fixture
def cli(demo_url: str, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("PARKSHARE_DATABASE_URL", demo_url)
    get_settings.cache_clear()
    return runner


def run(cli: CliRunner, *args: str) -> tuple[int, str]:
    result = cli.invoke(app, list(args))
    return result.exit_code, result.output


def test_demo_is_built_only_once(cli: CliRunner) -> None:
    code, output = run(cli, "demo")
    assert code == 0
    assert "already built" in output


def test_report_targets_json_prints_the_article_figures(cli: CliRunner) -> None:
    code, output = run(cli, "report", "targets", "--year", "2022", "--format", "json")
    assert code == 0
    report = json.loads(output)
    rows = {row["group"]: row for row in report["rows"]}
    assert (rows["institutional"]["lots"], rows["institutional"]["berths"]) == (32, 2940)
    assert rows["institutional"]["completion_percent"] == 100.0
    assert (rows["commercial"]["lots"], rows["commercial"]["berths"]) == (85, 14623)
    assert rows["commercial"]["completion_percent"] == 142.86
    assert report["total_berths"] == 17563


def test_report_targets_table(cli: CliRunner) -> None:
    code, output = run(cli, "report", "targets", "--year", "2022")
    assert code == 0
    assert "142.86%" in output and "14,623" in output and "2,940" in output


def test_lots_list_filters_by_kind(cli: CliRunner) -> None:
    code, output = run(cli, "lots", "list", "--kind", "institutional", "--format", "json")
    assert code == 0
    lots = json.loads(output)
    assert len(lots) == 32
    assert sum(lot["shared_berths"] for lot in lots) == 2940


def test_lots_list_filters_by_area(cli: CliRunner) -> None:
    _, output = run(cli, "lots", "list", "--format", "json")
    area = json.loads(output)[0]["area"]
    _, output = run(cli, "lots", "list", "--area", area, "--format", "json")
    assert {lot["area"] for lot in json.loads(output)} == {area}


def test_lots_show(cli: CliRunner) -> None:
    code, output = run(cli, "lots", "show", "HD-I-001", "--format", "json")
    assert code == 0
    assert json.loads(output)["schedule"]["quiet_hours"]["start"] == "22:00:00"
    code, output = run(cli, "lots", "show", "HD-I-001")
    assert code == 0 and "quiet hours" in output


def test_availability_reads_local_time_without_offset(cli: CliRunner) -> None:
    code, output = run(
        cli,
        "availability",
        "HD-I-001",
        "--from",
        "2022-06-24T19:00",
        "--to",
        "2022-06-26T12:00",
        "--format",
        "json",
    )
    assert code == 0
    answer = json.loads(output)
    assert answer["start"] == "2022-06-24T19:00:00+08:00"
    assert answer["must_leave_by"] == "2022-06-27T07:30:00+08:00"
    assert answer["free"] > 0


def test_availability_gives_the_reason(cli: CliRunner) -> None:
    code, output = run(
        cli, "availability", "HD-I-001", "--from", "2022-06-21T12:00", "--to", "2022-06-21T13:00"
    )
    assert code == 0
    assert "outside_sharing_window" in output


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["availability", "NOPE", "--from", "2022-06-24T19:00", "--to", "2022-06-24T20:00"], "lot_not_found"),
        (["availability", "HD-I-001", "--from", "soon", "--to", "2022-06-24T20:00"], "invalid_timestamp"),
        (["availability", "HD-I-001", "--from", "2022-06-24T20:00", "--to", "2022-06-24T19:00"], "invalid_interval"),
        (["availability", "HD-I-001", "--from", "2022-06-24T20:00", "--to", "2022-06-24T20:00"], "invalid_interval"),
        (["lots", "show", "NOPE"], "lot_not_found"),
        (["calendar", "show", "2022-13-01"], "invalid_date"),
    ],
)  # fmt: skip
def test_errors_exit_non_zero_with_their_code(cli: CliRunner, args: list[str], code: str) -> None:
    result = cli.invoke(app, args)
    assert result.exit_code == 1
    assert f"[{code}]" in result.output


def test_calendar_show_and_override(cli: CliRunner) -> None:
    code, output = run(cli, "calendar", "show", "2022-10-07", "--days", "3", "--format", "json")
    assert code == 0
    assert [d["day_type"] for d in json.loads(output)] == [
        "holiday",
        "makeup_workday",
        "makeup_workday",
    ]
    code, _ = run(cli, "calendar", "override", "2022-10-10", "holiday", "--note", "test")
    assert code == 0
    _, output = run(cli, "calendar", "show", "2022-10-10", "--days", "1", "--format", "json")
    assert json.loads(output)[0]["day_type"] == "holiday"


def test_suspend_refuses_short_notice_and_accepts_an_emergency(cli: CliRunner) -> None:
    args = [
        "lots",
        "suspend",
        "HD-C-002",
        "--from",
        "2099-01-01T10:00",
        "--until",
        "2099-01-01T12:00",
    ]
    code, _ = run(cli, *args, "--reason", "演出 concert")
    assert code == 0
    code, output = run(cli, *args, "--reason", "  ")
    assert code == 1 and "[invalid_schedule]" in output


def test_every_command_has_help(cli: CliRunner) -> None:
    for args in (
        ["--help"],
        ["lots", "--help"],
        ["availability", "--help"],
        ["report", "targets", "--help"],
    ):
        assert cli.invoke(app, args).exit_code == 0
