"""Booking from the command line on the demo, with the clock frozen in June 2022."""

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
def demo_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    url = f"sqlite:///{Path(tmp_path_factory.mktemp('cli')) / 'demo.db'}"
    env = {"PARKSHARE_DATABASE_URL": url, "PARKSHARE_NOW": "2022-06-24T09:00:00+08:00"}
    with pytest.MonkeyPatch.context() as patch:
        for name, value in env.items():
            patch.setenv(name, value)
        get_settings.cache_clear()
        assert runner.invoke(app, ["demo", "--no-traffic"]).exit_code == 0
    get_settings.cache_clear()
    yield env


@pytest.fixture
def cli(demo_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    for name, value in demo_env.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    return runner


def run(cli: CliRunner, *args: str) -> tuple[int, str]:
    result = cli.invoke(app, list(args))
    return result.exit_code, result.output


NIGHT = ["--from", "2022-06-24T19:00", "--to", "2022-06-25T10:00"]


def test_reserve_retry_and_cancel(cli: CliRunner) -> None:
    args = ["reserve", "HD-I-002", "鲁B12345", *NIGHT, "--request-id", "r-1", "--format", "json"]
    code, output = run(cli, *args)
    assert code == 0, output
    booked = json.loads(output)
    assert booked["must_leave_by"] == "2022-06-27T07:30:00+08:00"
    assert booked["plate"] != "鲁B12345" and booked["plate"].startswith("鲁B")
    code, output = run(cli, *args)
    assert json.loads(output)["ref"] == booked["ref"]
    code, output = run(cli, "cancel", booked["ref"], "--format", "json")
    assert code == 0
    assert json.loads(output)["status"] == "cancelled"


def test_reserve_refusals_exit_non_zero_with_code(cli: CliRunner) -> None:
    code, output = run(cli, "reserve", "HD-I-002", "鲁I12345", *NIGHT)
    assert code == 1 and "[invalid_plate]" in output
    code, output = run(
        cli,
        "reserve",
        "HD-I-002",
        "鲁B54321",
        "--from",
        "2022-06-28T12:00",
        "--to",
        "2022-06-28T13:00",
    )
    assert code == 1 and "[outside_sharing_window]" in output


def test_passes_offer_apply_allocate(cli: CliRunner) -> None:
    assert (
        run(
            cli,
            "passes",
            "offer",
            "HD-I-003",
            "night",
            "--month",
            "2022-07",
            "--quota",
            "1",
            "--price-fen",
            "9900",
        )[0]
        == 0
    )
    _, lots = run(cli, "lots", "show", "HD-I-003", "--format", "json")
    home = json.loads(lots)["location"]
    for plate in ("鲁B11111", "鲁B22222"):
        code, output = run(
            cli, "passes", "apply", plate, "night", "--month", "2022-07",
            "--lon", str(home["lon"]), "--lat", str(home["lat"]), "--format", "json",
        )  # fmt: skip
        assert code == 0, output
    code, output = run(cli, "passes", "allocate", "--month", "2022-07", "--format", "json")
    assert code == 0, output
    report = json.loads(output)
    assert (report["applicants"], report["served"], report["fcfs_served"]) == (2, 1, 1)


def test_sweep_outbox_and_statement(cli: CliRunner) -> None:
    assert run(cli, "sweep")[0] == 0
    code, output = run(cli, "outbox", "deliver")
    assert code == 0 and "delivered" in output
    code, output = run(
        cli, "fees", "statement", "HD-I-002", "--month", "2022-06", "--format", "json"
    )
    assert code == 0
    assert json.loads(output)["month"] == "2022-06"
    code, output = run(cli, "fees", "statement", "HD-I-002", "--month", "June")
    assert code == 1 and "[invalid_input]" in output
