"""Interoperability over HTTP on both databases: the open feeds, and the registry exported to a
workbook and imported into an empty registry, all or nothing."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient

from parkshare.app import create_app
from parkshare.clock import FixedClock
from parkshare.config import Policy, Settings
from parkshare.db import Database
from parkshare.demo import westcoast
from parkshare.geo import wgs84_to_gcj02
from parkshare.ingest import events, keys
from parkshare.interop.datex2 import PRK
from parkshare.interop.spreadsheet import MAX_ROWS, MAX_UPLOAD_BYTES, read_table
from parkshare.lots.model import LotStatus
from tests.factories import bearer_for, make_lot
from tests.interop.helpers import csv_file, row

SH = ZoneInfo("Asia/Shanghai")
SETTINGS = Settings(environment="test", live_stale_after_minutes=10, live_offline_after_minutes=60)
FRIDAY_EVENING = datetime(2022, 6, 24, 20, 0, tzinfo=SH)  # institutional sharing is open
NS = {"prk": PRK}
IMPORT = "/api/v1/lots/import"


def serve(database: Database, clock: FixedClock) -> TestClient:
    return TestClient(
        create_app(SETTINGS, database, clock), headers=bearer_for(database, clock=clock)
    )


@pytest.fixture
def client(database: Database, clock: FixedClock) -> Iterator[TestClient]:
    clock.set(FRIDAY_EVENING)
    with serve(database, clock) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """The West Coast demo on SQLite: the registry the round trips start from."""
    database = Database(f"sqlite:///{tmp_path_factory.mktemp('demo')}/demo.db")
    database.migrate()
    clock = FixedClock(FRIDAY_EVENING)
    with database.session(write=True) as session:
        westcoast.build(session, clock=clock)
    with serve(database, clock) as test_client:
        yield test_client
    database.dispose()


@pytest.fixture(scope="module")
def demo_workbook(demo: TestClient) -> bytes:
    response = demo.get("/api/v1/exports/lots.xlsx")
    assert response.status_code == 200, response.text
    return response.content


def upload(client: TestClient, data: bytes, filename: str = "lots.xlsx", **params: Any) -> Any:
    return client.post(IMPORT, files={"file": (filename, data)}, params=params)


def lots(client: TestClient) -> list[dict[str, Any]]:
    response = client.get("/api/v1/lots", params={"limit": 500})
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


def details(client: TestClient) -> dict[str, Any]:
    """Every car park in full, with zero counts dropped (a category with no berths may or may
    not have a row)."""
    found = {}
    for item in lots(client):
        detail = client.get(f"/api/v1/lots/{item['code']}").json()
        detail["berths"] = {c: n for c, n in detail["berths"].items() if n}
        for rule in detail["schedule"]["rules"]:
            rule["shared_berths"] = {c: n for c, n in rule["shared_berths"].items() if n}
        found[item["code"]] = detail
    return found


# --- round trips ----------------------------------------------------------------------------


def test_the_demo_imports_into_an_empty_registry_unchanged(
    client: TestClient, demo: TestClient, demo_workbook: bytes
) -> None:
    response = upload(client, demo_workbook)

    assert response.status_code == 200, response.text
    report = response.json()
    assert (report["rows"], report["created"], report["updated"]) == (117, 117, 0)
    assert report["operators_created"] > 0
    assert report["ignored_columns"] == []
    assert details(client) == details(demo)
    again = client.get("/api/v1/exports/lots.xlsx").content
    assert read_table(again) == read_table(demo_workbook)
    shared = sum(item["shared_berths"] for item in lots(client))
    assert shared == 17_563  # the article's 2,940 institutional + 14,623 commercial


def test_importing_the_same_workbook_again_updates_and_changes_nothing(
    client: TestClient, demo_workbook: bytes
) -> None:
    assert upload(client, demo_workbook).status_code == 200
    before = details(client)

    response = upload(client, demo_workbook)

    assert response.status_code == 200, response.text
    assert (response.json()["created"], response.json()["updated"]) == (0, 117)
    assert details(client) == before


def test_factory_car_parks_round_trip(
    client: TestClient, database: Database, clock: FixedClock, tmp_path: Path
) -> None:
    with database.session(write=True) as session:
        make_lot(session, clock=clock, code="T-1", shared_berths=10, total_berths=25)
        make_lot(session, clock=clock, code="T-2", status=LotStatus.SUSPENDED, opened_on=None)
    exported = client.get("/api/v1/exports/lots.xlsx").content
    before = details(client)
    empty = Database(f"sqlite:///{tmp_path}/empty.db")
    empty.migrate()
    with serve(empty, clock) as target:
        response = upload(target, exported)
        assert response.json()["created"] == 2, response.text
        assert details(target) == before
    empty.dispose()


# --- all or nothing ---------------------------------------------------------------------------


def test_a_file_with_one_bad_row_imports_nothing_and_reports_that_row(
    client: TestClient,
) -> None:
    assert upload(client, csv_file(row("A")), "first.csv").status_code == 200
    before = details(client)
    data = csv_file(row("A", name="新名字"), row("B"), row("C", lat="north"))

    response = upload(client, data, "lots.csv")

    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "import_invalid"
    problems = body["details"]["problems"]
    assert [(p["row"], p["column"]) for p in problems] == [(4, "lat")]
    assert body["details"]["problem_count"] == 1
    assert details(client) == before  # A keeps its name, B was not created


def test_rules_the_registry_keeps_are_checked_against_the_rows(client: TestClient) -> None:
    assert upload(client, csv_file(row("A")), "first.csv").status_code == 200
    data = csv_file(
        row("A", schedule="", ordinary=30, shared_ordinary=""),  # its rules share 40
        row("N", schedule="custom"),  # nothing to keep
    )

    response = upload(client, data, "lots.csv")

    assert response.status_code == 422
    problems = response.json()["details"]["problems"]
    assert [(p["row"], p["column"]) for p in problems] == [(2, "ordinary"), (3, "schedule")]


def test_a_row_can_change_a_car_parks_preset(client: TestClient) -> None:
    assert upload(client, csv_file(row("A")), "first.csv").status_code == 200

    changed = row("A", schedule="office", shared_ordinary=60, use="office")
    response = upload(client, csv_file(changed), "again.csv")

    assert response.status_code == 200, response.text
    detail = client.get("/api/v1/lots/A").json()
    assert detail["shared_berths"] == 60
    assert [r["start"] for r in detail["schedule"]["rules"]] == ["19:00:00", "00:00:00"]
    assert detail["schedule"]["quiet_hours"] is None


def test_a_dry_run_counts_and_writes_nothing(client: TestClient) -> None:
    response = upload(client, csv_file(row("A"), row("B")), "lots.csv", dry_run="true")

    assert response.status_code == 200, response.text
    assert response.json() | {"ignored_columns": []} == {
        "rows": 2,
        "created": 2,
        "updated": 0,
        "operators_created": 0,
        "dry_run": True,
        "ignored_columns": [],
    }
    assert lots(client) == []


def test_gcj02_coordinates_are_stored_as_wgs84(client: TestClient) -> None:
    lon, lat = wgs84_to_gcj02(120.18, 35.96)

    response = upload(client, csv_file(row("A", lon=lon, lat=lat)), "a.csv", coords="gcj02")

    assert response.status_code == 200, response.text
    location = client.get("/api/v1/lots/A").json()["location"]
    assert location == {"system": "wgs84", "lon": 120.18, "lat": 35.96}


# --- refusals -------------------------------------------------------------------------------

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 64


def _zip(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, content in entries.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def _bomb() -> bytes:
    big = b"<row/>" * (9 * 1024 * 1024)  # 54 MiB unpacked
    return _zip({"[Content_Types].xml": b"<Types/>", "xl/workbook.xml": b"<w/>", "x.xml": big})


def _many_rows() -> bytes:
    return csv_file(*(row(f"C{n}") for n in range(MAX_ROWS + 1)))


REFUSALS = {
    "png-named-xlsx": (lambda: PNG, "lots.xlsx", 415, "not_a_spreadsheet"),
    "zip-bomb": (_bomb, "lots.xlsx", 413, "spreadsheet_too_large"),
    "too-many-rows": (_many_rows, "lots.csv", 413, "spreadsheet_too_large"),
    "gbk-csv": (lambda: "编号 code\n甲\n".encode("gbk"), "lots.csv", 415, "bad_encoding"),
    "oversized": (lambda: b"x" * (MAX_UPLOAD_BYTES + 100_000), "lots.csv", 413, "upload_too_large"),
}  # fmt: skip


@pytest.mark.parametrize("case", REFUSALS)
def test_refused_files_answer_4xx_with_a_code_and_change_nothing(
    client: TestClient, case: str
) -> None:
    assert upload(client, csv_file(row("A")), "first.csv").status_code == 200
    before = details(client)
    make, filename, status, code = REFUSALS[case]

    response = upload(client, make(), filename)

    assert (response.status_code, response.json()["code"]) == (status, code), response.text
    assert details(client) == before


def test_an_upload_without_the_file_field_is_refused(client: TestClient) -> None:
    wrong_field = client.post(IMPORT, files={"sheet": ("lots.csv", csv_file(row("A")))})
    not_multipart = client.post(IMPORT, json={"file": "lots.csv"})

    for response in (wrong_field, not_multipart):
        assert response.status_code == 422
        assert response.json()["code"] == "invalid_input"
    assert lots(client) == []


# --- exports ----------------------------------------------------------------------------------


def test_the_registry_exports_at_lots_export_xlsx(client: TestClient) -> None:
    response = client.get("/api/v1/lots/export.xlsx")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/vnd.openxmlformats")


def test_the_export_is_one_sheet_with_bilingual_headers(client: TestClient) -> None:
    assert upload(client, csv_file(row("A", name="=1+1 停车场")), "a.csv").status_code == 200

    response = client.get("/api/v1/exports/lots.xlsx")

    assert response.headers["content-type"] == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert "attachment" in response.headers["content-disposition"]
    table = read_table(response.content)
    assert table.header[:3] == ("编号 code", "名称 name", "英文名称 name_en")
    assert table.rows[0][1][:2] == ("A", "=1+1 停车场")  # text, never a formula


@pytest.fixture
def networked(database: Database, clock: FixedClock) -> None:
    """LIVE sent a count two minutes ago and a car drove in; STALE was last heard at 19:30."""
    clock.set(FRIDAY_EVENING)
    with database.session(write=True) as session:
        for code in ("LIVE", "STALE"):
            make_lot(session, clock=clock, code=code, shared_berths=5, total_berths=20)
        make_lot(session, clock=clock, code="NEW", status=LotStatus.ONBOARDING)
        _, secret = keys.create_key(
            session, name="vendor", lot_codes=["LIVE", "STALE"], clock=clock
        )
    with database.session(write=True) as session:
        key = keys.authenticate(session, secret, clock=clock)
        counts = [
            {"lot": "LIVE", "free": 8, "at": "2022-06-24T19:58:00+08:00"},
            {"lot": "STALE", "free": 9, "at": "2022-06-24T19:30:00+08:00"},
        ]
        assert not events.ingest_counts(session, key, counts, clock=clock).rejected
        car = {
            "event_id": "e1",
            "lot": "LIVE",
            "plate": "鲁B12345",
            "direction": "in",
            "at": "2022-06-24T19:59:00+08:00",
            "gate": "north",
        }
        assert not events.ingest_events(session, key, [car], policy=Policy(), clock=clock).rejected


def test_parkapi_feed_shows_live_car_parks_only_with_fresh_counts(
    client: TestClient, networked: None
) -> None:
    response = client.get("/api/v1/exports/parkapi.json")

    assert response.status_code == 200
    items = {item["uid"]: item for item in response.json()["items"]}
    assert set(items) == {"LIVE", "STALE"}  # onboarding car parks are not public yet
    live, stale = items["LIVE"], items["STALE"]
    assert live["has_realtime_data"] is True
    assert live["realtime_free_capacity"] == 5  # all 5 shared berths; 8 physically free
    assert live["realtime_opening_status"] == "OPEN"
    assert live["realtime_data_updated_at"] == "2022-06-24T11:59:00Z"
    assert (live["lon"], live["lat"]) == (120.18, 35.96)
    assert stale["has_realtime_data"] is False
    assert "realtime_free_capacity" not in stale
    assert "鲁B" not in response.text and "12345" not in response.text


def test_datex2_feed_is_xml_with_counts_only_for_live_car_parks(
    client: TestClient, networked: None
) -> None:
    response = client.get("/api/v1/exports/datex2.xml")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/xml")
    root = ET.fromstring(response.content)
    records = {
        record.find("prk:parkingRecordReference", NS).get("id"): record  # type: ignore[union-attr]
        for record in root.findall("prk:parkingRecordStatus", NS)
    }
    assert set(records) == {"LIVE", "STALE"}
    vacant = "prk:parkingOccupancy/prk:parkingNumberOfVacantSpaces"
    assert records["LIVE"].findtext(vacant, namespaces=NS) == "5"
    assert records["STALE"].find(vacant, NS) is None
    fault = records["STALE"].findtext("prk:parkingFault", namespaces=NS)
    assert fault == "noParkingInformationAvailable"
    assert "鲁B" not in response.text
