"""``bench/soak.py`` works: ten seconds of its mixed traffic against one ``parkshare serve`` on
PostgreSQL end with no errors, the server answering and the invariants holding. (``make soak``
runs it for minutes; this only proves the script.)"""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from pathlib import Path

from tests.conftest import PG_URL

BENCH = Path(__file__).parents[2] / "bench"


def test_a_short_soak_passes(postgres_url: str, tmp_path: Path) -> None:
    # ``postgres_url`` proves the server answers (or skips / fails as the suite requires).
    output = tmp_path / "soak.json"
    command = [sys.executable, str(BENCH / "soak.py"), "--quick", "--seconds", "10"]
    command += ["--rate", "10", "--workers", "4", "--postgres", PG_URL]
    command += ["--name", f"parkshare_soak_{uuid.uuid4().hex[:8]}", "--output", str(output)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    report = json.loads(output.read_text())
    assert report["errors"] == 0
    assert report["server"]["answering_after"] is True
    assert report["invariants"]["ok"] is True
    skipped = sum(kind["skipped"] for kind in report["kinds"].values())  # nothing to cancel yet
    assert report["run"]["requests"] + skipped == 100
    assert report["kinds"]["search"]["ok"] > 0 and report["kinds"]["book"]["ok"] > 0
    assert report["invariants"]["counts"]["reservations"] == report["kinds"]["book"]["ok"]
    assert len(report["rss"]["samples"]) >= 5
