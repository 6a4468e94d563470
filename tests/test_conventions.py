"""Conventions that protect correctness, checked over the source (see CONTRIBUTING.md)."""

from __future__ import annotations

import re
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "parkshare"

# Rows that hold capacity, and the one module allowed to create each (under the car park lock).
CAPACITY_ROWS = {
    "Reservation": "reservations/service.py",
    "ParkingPass": "passes/service.py",
}


def sources() -> dict[str, str]:
    return {str(p.relative_to(SRC)): p.read_text(encoding="utf-8") for p in SRC.rglob("*.py")}


def test_capacity_rows_are_created_only_by_their_service() -> None:
    for row, home in CAPACITY_ROWS.items():
        creators = {
            path for path, text in sources().items() if re.search(rf"(?<!class )\b{row}\(", text)
        }
        assert creators == {home}, f"{row}(...) is built outside {home}: {sorted(creators)}"


def test_services_that_take_capacity_lock_the_car_park() -> None:
    for home in CAPACITY_ROWS.values():
        assert "LotRepository(session).lock(" in (SRC / home).read_text(encoding="utf-8")


def test_sql_stays_in_repositories_and_db() -> None:
    allowed = ("repository.py", "db.py")
    for path, text in sources().items():
        if path.endswith(allowed) or path.startswith("migrations/"):
            continue
        assert not re.search(r"\bselect\(", text), f"{path} builds SQL; move it to a repository"
